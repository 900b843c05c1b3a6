using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>
/// The default adapter: two maps under one lock. Broadcasts compute their targets under the lock and deliver
/// outside it; the packet is encoded once by the caller and sent to every target.
/// </summary>
internal sealed class InMemoryRoomAdapter(ILocalDelivery delivery) : IRoomAdapter
{
    private readonly object _gate = new();
    // Small sets, not hash sets: every socket has its own room of one member and a set of one or two rooms, held
    // for the connection's life.
    private readonly Dictionary<string, SmallSet> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SmallSet> _socketRooms = new(StringComparer.Ordinal);

    public int LocalRoomCount
    {
        get
        {
            lock (_gate)
            {
                return _rooms.Count;
            }
        }
    }

    public ValueTask AddAllAsync(string socketId, IReadOnlyCollection<string> rooms)
    {
        lock (_gate)
        {
            foreach (var room in rooms)
            {
                AddLocked(socketId, room);
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteAsync(string socketId, string room)
    {
        lock (_gate)
        {
            DeleteLocked(socketId, room);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteAllAsync(string socketId)
    {
        lock (_gate)
        {
            if (_socketRooms.Remove(socketId, out var rooms))
            {
                foreach (var room in rooms)
                {
                    if (_rooms.TryGetValue(room, out var members) && members.Remove(socketId) && members.Count == 0)
                    {
                        _rooms.Remove(room);
                    }
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<RoomJoin> JoinIfBelowAsync(string socketId, string room, int capacity)
    {
        lock (_gate)
        {
            int count = _rooms.TryGetValue(room, out var members) ? members.Count : 0;
            bool wasMember = members?.Contains(socketId) ?? false;
            bool joined = wasMember || count < capacity;
            if (joined)
            {
                AddLocked(socketId, room);
            }
            return ValueTask.FromResult(new RoomJoin(count, joined, wasMember));
        }
    }

    public ValueTask BroadcastAsync(EncodedPacket packet, BroadcastTarget target)
    {
        // This thread's list, taken while in use: a broadcast made during the delivery (by an observer) makes its own.
        var ids = t_targets ?? [];
        t_targets = null;
        try
        {
            Targets(target, ids);
            if (target.Flags.AffectsDelivery)
            {
                delivery.Deliver(ids, packet, target.Flags);
            }
            else
            {
                delivery.Deliver(ids, packet);
            }
        }
        finally
        {
            ids.Clear();
            if (ids.Capacity <= MaxReusedTargets)
            {
                t_targets = ids;
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>A broadcast to more sockets than this gets a list that is not kept.</summary>
    private const int MaxReusedTargets = 1024;

    [ThreadStatic]
    private static List<string>? t_targets;

    public ValueTask BroadcastWithAckAsync(EncodedPacket packet, BroadcastTarget target, BroadcastAck ack)
    {
        int clients = 0;
        foreach (var id in Targets(target))
        {
            var socket = delivery.LocalSocket(id);
            if (socket is not null && socket.TryAwaitAck(ack))
            {
                clients++;
                socket.SendPacket(packet, target.Flags);
            }
        }
        ack.ClientCount(clients);
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<SocketDetails>> FetchSocketsAsync(BroadcastTarget target)
    {
        var found = new List<SocketDetails>();
        foreach (var id in Targets(target))
        {
            if (delivery.LocalSocket(id) is { } socket)
            {
                found.Add(new SocketDetails(id, socket.Handshake, RoomsOf(id), socket.Data, socket));
            }
        }
        return ValueTask.FromResult<IReadOnlyList<SocketDetails>>(found);
    }

    public ValueTask AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        lock (_gate)
        {
            foreach (var id in Targets(target))
            {
                foreach (var room in rooms)
                {
                    AddLocked(id, room);
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        lock (_gate)
        {
            foreach (var id in Targets(target))
            {
                foreach (var room in rooms)
                {
                    DeleteLocked(id, room);
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask DisconnectSocketsAsync(BroadcastTarget target, bool close)
    {
        foreach (var id in Targets(target))
        {
            delivery.LocalSocket(id)?.Disconnect(close);
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>One process: no other server to send to (Node's in-memory adapter does not send either).</summary>
    public ValueTask ServerSideEmitAsync(string eventName, IReadOnlyList<object?> args, ServerSideAck? ack)
    {
        ack?.Expect(0);
        return ValueTask.CompletedTask;
    }

    public ValueTask<int> ServerCountAsync() => ValueTask.FromResult(1);

    public IReadOnlyCollection<string> LocalSocketIds(BroadcastTarget target) => Targets(target);

    public ValueTask<int> RoomSizeAsync(string room)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_rooms.TryGetValue(room, out var members) ? members.Count : 0);
        }
    }

    public ValueTask<IReadOnlyCollection<string>> SocketIdsAsync(BroadcastTarget target) =>
        ValueTask.FromResult<IReadOnlyCollection<string>>(Targets(target));

    public IReadOnlyCollection<string> RoomsOf(string socketId)
    {
        lock (_gate)
        {
            return _socketRooms.TryGetValue(socketId, out var rooms) ? rooms.ToArray() : [];
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Every socket with its rooms, copied under the lock.</summary>
    internal List<(string SocketId, string[] Rooms)> Snapshot()
    {
        lock (_gate)
        {
            return _socketRooms.Select(p => (p.Key, p.Value.ToArray())).ToList();
        }
    }

    private List<string> Targets(BroadcastTarget target) => Targets(target, []);

    private List<string> Targets(BroadcastTarget target, List<string> result)
    {
        lock (_gate)
        {
            if (target.Rooms.Count == 0)
            {
                foreach (var (id, rooms) in _socketRooms)
                {
                    if (!IsExcepted(rooms, target.Except))
                    {
                        result.Add(id);
                    }
                }
                return result;
            }
            var seen = target.Rooms.Count > 1 ? new HashSet<string>(StringComparer.Ordinal) : null;
            foreach (var room in target.Rooms)
            {
                if (!_rooms.TryGetValue(room, out var members))
                {
                    continue;
                }
                foreach (var id in members)
                {
                    if ((seen is null || seen.Add(id)) && !IsExcepted(_socketRooms[id], target.Except))
                    {
                        result.Add(id);
                    }
                }
            }
        }
        return result;
    }

    private static bool IsExcepted(SmallSet rooms, IReadOnlySet<string> except) => except.Count != 0 && rooms.Overlaps(except);

    private void AddLocked(string socketId, string room)
    {
        if (!_rooms.TryGetValue(room, out var members))
        {
            members = new SmallSet();
            _rooms[room] = members;
        }
        members.Add(socketId);
        if (!_socketRooms.TryGetValue(socketId, out var rooms))
        {
            rooms = new SmallSet();
            _socketRooms[socketId] = rooms;
        }
        rooms.Add(room);
    }

    private void DeleteLocked(string socketId, string room)
    {
        if (_rooms.TryGetValue(room, out var members) && members.Remove(socketId) && members.Count == 0)
        {
            _rooms.Remove(room);
        }
        if (_socketRooms.TryGetValue(socketId, out var rooms))
        {
            rooms.Remove(room);
        }
    }
}
