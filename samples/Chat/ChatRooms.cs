namespace SocketIoSignal.Samples.Chat;

/// <summary>Who is in which room: the one piece of state the chat keeps, shared by every connection.</summary>
public sealed class ChatRooms
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<string, string>> _rooms = new(StringComparer.Ordinal);

    /// <summary>Puts the socket's user in <paramref name="room"/>; returns the room as it is now.</summary>
    public RoomState Enter(string room, string socketId, string username)
    {
        lock (_gate)
        {
            if (!_rooms.TryGetValue(room, out var members))
            {
                _rooms[room] = members = new Dictionary<string, string>(StringComparer.Ordinal);
            }
            members[socketId] = username;
            return StateOf(room, members);
        }
    }

    /// <summary>Takes the socket's user out of <paramref name="room"/>; returns the room as it is now.</summary>
    public RoomState Leave(string room, string socketId)
    {
        lock (_gate)
        {
            if (!_rooms.TryGetValue(room, out var members))
            {
                return new RoomState(room, 0, []);
            }
            members.Remove(socketId);
            if (members.Count == 0)
            {
                _rooms.Remove(room);
            }
            return StateOf(room, members);
        }
    }

    /// <summary>Every room that has someone in it, by name, with its number of users.</summary>
    public IReadOnlyList<RoomSummary> List()
    {
        lock (_gate)
        {
            return [.. _rooms.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => new RoomSummary(r.Key, r.Value.Count))];
        }
    }

    private static RoomState StateOf(string room, Dictionary<string, string> members) =>
        new(room, members.Count, [.. members.Values.Order(StringComparer.OrdinalIgnoreCase)]);
}

/// <summary>A room's name, number of users and their nicknames (sent as <c>{ room, numUsers, users }</c>).</summary>
public sealed record RoomState(string Room, int NumUsers, IReadOnlyList<string> Users);

/// <summary>One entry of the room list (sent as <c>{ name, numUsers }</c>).</summary>
public sealed record RoomSummary(string Name, int NumUsers);
