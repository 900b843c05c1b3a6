using SocketIoSignal.Redis.Classic;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;
using StackExchange.Redis;

namespace SocketIoSignal.Redis;

/// <summary>
/// Rooms of one namespace shared by every node through Redis. Membership lives in Redis sets (one per room,
/// members <c>nodeId:socketId</c>), so sizes and capacity-bounded joins are cluster-wide and atomic (Lua).
/// This node's own sockets are also indexed in memory (an <see cref="InMemoryRoomAdapter"/>), which answers
/// <see cref="RoomsOf"/> and delivers broadcasts here. A broadcast is delivered locally and published once,
/// as the Node adapter does; each node delivers what it receives to its own sockets.
/// </summary>
internal sealed class RedisRoomAdapter : IRoomAdapter
{
    private readonly RedisCluster _cluster;
    private readonly InMemoryRoomAdapter _local;
    private readonly string _keyPrefix;
    private readonly RedisKey _allKey;
    private readonly RedisChannel _allChannel;
    private readonly object _pendingGate = new();
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    internal RedisRoomAdapter(RedisCluster cluster, string nsp, ILocalDelivery delivery)
    {
        _cluster = cluster;
        Namespace = nsp;
        _local = new InMemoryRoomAdapter(delivery);
        // '#' in a namespace would make room keys ambiguous; escape it (and the escape character).
        string escaped = nsp.Replace("%", "%25", StringComparison.Ordinal).Replace("#", "%23", StringComparison.Ordinal);
        _keyPrefix = cluster.Prefix + "#room#" + escaped + "#";
        _allKey = cluster.Prefix + "#sockets#" + escaped;
        _allChannel = RedisChannel.Literal(cluster.Prefix + "#" + nsp + "#");
        Local = new NamespaceLocal(this, _local, delivery as SocketIoNamespace);
        Requests = new ClassicRequests(cluster, nsp, Local);
    }

    /// <summary>This node's half of the cluster calls (what it answers other nodes with).</summary>
    internal NamespaceLocal Local { get; }

    /// <summary>The cluster-wide calls: requests to and answers from every node of the namespace.</summary>
    internal ClassicRequests Requests { get; }

    public string Namespace { get; }

    public int LocalRoomCount => _local.LocalRoomCount;

    private IDatabase Db => _cluster.Database;

    public async ValueTask AddAllAsync(string socketId, IReadOnlyCollection<string> rooms)
    {
        bool isNew = _local.RoomsOf(socketId).Count == 0;
        await _local.AddAllAsync(socketId, rooms);
        var keys = new RedisKey[rooms.Count + 1 + (isNew ? 1 : 0)];
        keys[0] = _cluster.IndexKey;
        int i = 1;
        foreach (var room in rooms)
        {
            keys[i++] = RoomKey(room);
        }
        if (isNew)
        {
            keys[i] = _allKey;
        }
        await Db.ScriptEvaluateAsync(RedisScripts.Add, keys, [Member(socketId), socketId]);
    }

    public async ValueTask DeleteAsync(string socketId, string room)
    {
        await _local.DeleteAsync(socketId, room);
        await Db.ScriptEvaluateAsync(RedisScripts.Delete, [_cluster.IndexKey, RoomKey(room)], [Member(socketId), socketId]);
    }

    public async ValueTask DeleteAllAsync(string socketId)
    {
        var rooms = _local.RoomsOf(socketId);
        await _local.DeleteAllAsync(socketId);
        lock (_pendingGate)
        {
            if (_pending.TryGetValue(socketId, out var pending))
            {
                pending.Departed = true;
            }
        }
        var keys = new RedisKey[rooms.Count + 2];
        keys[0] = _cluster.IndexKey;
        keys[1] = _allKey;
        int i = 2;
        foreach (var room in rooms)
        {
            keys[i++] = RoomKey(room);
        }
        await Db.ScriptEvaluateAsync(RedisScripts.Delete, keys, [Member(socketId), socketId]);
    }

    public async ValueTask<RoomJoin> JoinIfBelowAsync(string socketId, string room, int capacity)
    {
        Pending pending;
        lock (_pendingGate)
        {
            if (!_pending.TryGetValue(socketId, out pending!))
            {
                pending = new Pending();
                _pending[socketId] = pending;
            }
            pending.Count++;
        }
        bool departed;
        RoomJoin join;
        try
        {
            var result = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisScripts.JoinIfBelow,
                [_cluster.IndexKey, RoomKey(room)], [Member(socketId), socketId, capacity]))!;
            join = new RoomJoin((int)(long)result[0], (long)result[1] == 1, (long)result[2] == 1);
        }
        finally
        {
            lock (_pendingGate)
            {
                departed = pending.Departed;
                if (--pending.Count == 0)
                {
                    _pending.Remove(socketId);
                }
            }
        }
        if (join.Joined)
        {
            if (departed)
            {
                // The socket left while the join was on its way: take the membership back.
                await Db.ScriptEvaluateAsync(RedisScripts.Delete, [_cluster.IndexKey, RoomKey(room)], [Member(socketId), socketId]);
            }
            else
            {
                await _local.AddAllAsync(socketId, [room]);
            }
        }
        return join;
    }

    public ValueTask BroadcastAsync(EncodedPacket packet, BroadcastTarget target)
    {
        if (target.Flags.Local)
        {
            return _local.BroadcastAsync(packet, target);
        }
        var message = RedisWire.EncodeBroadcast(_cluster.NodeId, Namespace, packet, target);
        var channel = target.Rooms.Count == 1 ? RedisChannel.Literal(RedisWire.Channel(_cluster.Prefix, Namespace, target)) : _allChannel;
        _cluster.Publish(channel, message);
        return _local.BroadcastAsync(packet, target);
    }

    /// <summary>A broadcast from another node, for this node's sockets.</summary>
    internal void DeliverRemote(RemoteBroadcast broadcast) => _local.BroadcastAsync(broadcast.Packet, broadcast.Target);

    public async ValueTask<int> RoomSizeAsync(string room) => (int)await Db.SetLengthAsync(RoomKey(room));

    public async ValueTask<IReadOnlyCollection<string>> SocketIdsAsync(BroadcastTarget target)
    {
        var keys = new RedisKey[Math.Max(1, target.Rooms.Count) + target.Except.Count];
        int i = 0;
        if (target.Rooms.Count == 0)
        {
            keys[i++] = _allKey;
        }
        foreach (var room in target.Rooms)
        {
            keys[i++] = RoomKey(room);
        }
        int include = i;
        foreach (var room in target.Except)
        {
            keys[i++] = RoomKey(room);
        }
        var members = (RedisValue[])(await Db.ScriptEvaluateAsync(RedisScripts.Members, keys, [include]))!;
        var ids = new List<string>(members.Length);
        foreach (var member in members)
        {
            string text = member.ToString();
            int colon = text.IndexOf(':', StringComparison.Ordinal);
            ids.Add(colon < 0 ? text : text[(colon + 1)..]);
        }
        return ids;
    }

    public IReadOnlyCollection<string> RoomsOf(string socketId) => _local.RoomsOf(socketId);

    // The utilities below act on this node's sockets; making them cluster-wide (requests to the other nodes and
    // their answers, as the Node cluster adapter) is the next step of the Redis adapter.

    public ValueTask BroadcastWithAckAsync(EncodedPacket packet, BroadcastTarget target, BroadcastAck ack) => _local.BroadcastWithAckAsync(packet, target, ack);

    public ValueTask<IReadOnlyList<SocketDetails>> FetchSocketsAsync(BroadcastTarget target) => _local.FetchSocketsAsync(target);

    public async ValueTask AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        // Through AddAllAsync, so that Redis holds the memberships as it does for a socket's own joins.
        foreach (var id in _local.LocalSocketIds(target))
        {
            await AddAllAsync(id, rooms);
        }
    }

    public async ValueTask DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        foreach (var id in _local.LocalSocketIds(target))
        {
            foreach (var room in rooms)
            {
                await DeleteAsync(id, room);
            }
        }
    }

    public ValueTask DisconnectSocketsAsync(BroadcastTarget target, bool close) => _local.DisconnectSocketsAsync(target, close);

    public ValueTask ServerSideEmitAsync(string eventName, IReadOnlyList<object?> args, ServerSideAck? ack) => _local.ServerSideEmitAsync(eventName, args, ack);

    public ValueTask<int> ServerCountAsync() => _local.ServerCountAsync();

    public IReadOnlyCollection<string> LocalSocketIds(BroadcastTarget target) => _local.LocalSocketIds(target);

    /// <summary>Writes every local membership to Redis again (after this node was taken for dead).</summary>
    internal async Task RepublishAsync()
    {
        foreach (var (socketId, rooms) in _local.Snapshot())
        {
            var keys = new RedisKey[rooms.Length + 2];
            keys[0] = _cluster.IndexKey;
            keys[1] = _allKey;
            int i = 2;
            foreach (var room in rooms)
            {
                keys[i++] = RoomKey(room);
            }
            await Db.ScriptEvaluateAsync(RedisScripts.Add, keys, [Member(socketId), socketId]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _cluster.Forget(this);
        await Requests.DisposeAsync();
        await _local.DisposeAsync();
    }

    private RedisKey RoomKey(string room) => _keyPrefix + room;

    private string Member(string socketId) => _cluster.NodeId + ":" + socketId;

    private sealed class Pending
    {
        public int Count;
        public bool Departed;
    }
}
