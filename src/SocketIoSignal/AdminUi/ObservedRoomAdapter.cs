using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.AdminUi;

/// <summary>
/// An adapter that passes every call on and reports the memberships that changed: a join of a room the socket was
/// not in, a leave of a room it was in. Whoever changes the rooms (the socket, the application through
/// <c>Namespace.Adapter</c>, the server when a socket leaves) is seen alike.
/// </summary>
internal sealed class ObservedRoomAdapter(IRoomAdapter inner, string nsp, RoomEvents events) : IRoomAdapter
{
    public int LocalRoomCount => inner.LocalRoomCount;

    public async ValueTask AddAllAsync(string socketId, IReadOnlyCollection<string> rooms)
    {
        var before = inner.RoomsOf(socketId);
        await inner.AddAllAsync(socketId, rooms).ConfigureAwait(false);
        foreach (var room in rooms.Distinct(StringComparer.Ordinal))
        {
            if (!before.Contains(room, StringComparer.Ordinal))
            {
                events.OnJoined(nsp, room, socketId);
            }
        }
    }

    public async ValueTask DeleteAsync(string socketId, string room)
    {
        bool wasMember = inner.RoomsOf(socketId).Contains(room, StringComparer.Ordinal);
        await inner.DeleteAsync(socketId, room).ConfigureAwait(false);
        if (wasMember)
        {
            events.OnLeft(nsp, room, socketId);
        }
    }

    public async ValueTask DeleteAllAsync(string socketId)
    {
        var before = inner.RoomsOf(socketId);
        await inner.DeleteAllAsync(socketId).ConfigureAwait(false);
        foreach (var room in before)
        {
            events.OnLeft(nsp, room, socketId);
        }
    }

    public async ValueTask<RoomJoin> JoinIfBelowAsync(string socketId, string room, int capacity)
    {
        var join = await inner.JoinIfBelowAsync(socketId, room, capacity).ConfigureAwait(false);
        if (join.Joined && !join.WasMember)
        {
            events.OnJoined(nsp, room, socketId);
        }
        return join;
    }

    public ValueTask BroadcastAsync(EncodedPacket packet, BroadcastTarget target) => inner.BroadcastAsync(packet, target);

    public ValueTask BroadcastWithAckAsync(EncodedPacket packet, BroadcastTarget target, BroadcastAck ack) => inner.BroadcastWithAckAsync(packet, target, ack);

    public ValueTask<int> RoomSizeAsync(string room) => inner.RoomSizeAsync(room);

    public ValueTask<IReadOnlyList<SocketDetails>> FetchSocketsAsync(BroadcastTarget target) => inner.FetchSocketsAsync(target);

    public async ValueTask AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        var before = Memberships(target);
        await inner.AddSocketsAsync(target, rooms).ConfigureAwait(false);
        foreach (var (socketId, had) in before)
        {
            foreach (var room in rooms.Distinct(StringComparer.Ordinal))
            {
                if (!had.Contains(room, StringComparer.Ordinal) && inner.RoomsOf(socketId).Contains(room, StringComparer.Ordinal))
                {
                    events.OnJoined(nsp, room, socketId);
                }
            }
        }
    }

    public async ValueTask DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        var before = Memberships(target);
        await inner.DelSocketsAsync(target, rooms).ConfigureAwait(false);
        foreach (var (socketId, had) in before)
        {
            foreach (var room in rooms.Distinct(StringComparer.Ordinal))
            {
                if (had.Contains(room, StringComparer.Ordinal))
                {
                    events.OnLeft(nsp, room, socketId);
                }
            }
        }
    }

    /// <summary>The local sockets a target names, with the rooms each is in now.</summary>
    private List<(string SocketId, IReadOnlyCollection<string> Rooms)> Memberships(BroadcastTarget target) =>
        [.. inner.LocalSocketIds(target).Select(id => (id, inner.RoomsOf(id)))];

    public ValueTask DisconnectSocketsAsync(BroadcastTarget target, bool close) => inner.DisconnectSocketsAsync(target, close);

    public ValueTask ServerSideEmitAsync(string eventName, IReadOnlyList<object?> args, ServerSideAck? ack) => inner.ServerSideEmitAsync(eventName, args, ack);

    public ValueTask<int> ServerCountAsync() => inner.ServerCountAsync();

    public IReadOnlyCollection<string> LocalSocketIds(BroadcastTarget target) => inner.LocalSocketIds(target);

    public ValueTask<IReadOnlyCollection<string>> SocketIdsAsync(BroadcastTarget target) => inner.SocketIdsAsync(target);

    public IReadOnlyCollection<string> RoomsOf(string socketId) => inner.RoomsOf(socketId);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
