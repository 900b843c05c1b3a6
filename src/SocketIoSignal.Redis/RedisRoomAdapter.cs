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
internal sealed class RedisRoomAdapter : IRoomAdapter, SocketIoSignal.SocketIO.Recovery.IClusterRecoverySource
{
    private readonly RedisCluster _cluster;
    private readonly InMemoryRoomAdapter _local;
    private readonly string _keyPrefix;
    private readonly RedisKey _allKey;
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
        Local = new NamespaceLocal(this, _local, delivery as SocketIoNamespace);
        Requests = cluster.Streams
            ? new Streams.StreamsRequests(cluster, nsp, Local, _local, (delivery as SocketIoNamespace)?.Server.Options.ConnectionStateRecovery.Enabled == true)
            : cluster.Sharded
            ? new ShardedRequests(cluster, nsp, Local, _local, cluster.Options.SubscriptionMode switch
            {
                "static" => ShardedSubscriptionMode.Static,
                "dynamic-private" => ShardedSubscriptionMode.DynamicPrivate,
                _ => ShardedSubscriptionMode.Dynamic,
            })
            : new ClassicRequests(cluster, nsp, Local);
    }

    /// <summary>Streams mode keeps recovery sessions and events in Redis, so a client recovers on any node.</summary>
    public SocketIoSignal.SocketIO.Recovery.IClusterRecovery? ClusterRecovery => Requests as SocketIoSignal.SocketIO.Recovery.IClusterRecovery;

    /// <summary>This node's half of the cluster calls (what it answers other nodes with).</summary>
    internal NamespaceLocal Local { get; }

    /// <summary>The cluster-wide calls: requests to and answers from every node of the namespace.</summary>
    internal IClusterRequests Requests { get; }

    public string Namespace { get; }

    public int LocalRoomCount => _local.LocalRoomCount;

    private IDatabase Db => _cluster.Database;

    public async ValueTask AddAllAsync(string socketId, IReadOnlyCollection<string> rooms)
    {
        bool isNew = _local.RoomsOf(socketId).Count == 0;
        await AddLocalAsync(socketId, rooms);
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
        RoomsMaybeDeleted([room]);
        await Db.ScriptEvaluateAsync(RedisScripts.Delete, [_cluster.IndexKey, RoomKey(room)], [Member(socketId), socketId]);
    }

    public async ValueTask DeleteAllAsync(string socketId)
    {
        var rooms = _local.RoomsOf(socketId);
        await _local.DeleteAllAsync(socketId);
        RoomsMaybeDeleted(rooms);
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
                await AddLocalAsync(socketId, [room]);
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
        Requests.PublishBroadcast(packet, target);
        return _local.BroadcastAsync(packet, target);
    }

    /// <summary>A broadcast from another node, for this node's sockets.</summary>
    internal void DeliverRemote(RemoteBroadcast broadcast) => _local.BroadcastAsync(broadcast.Packet, broadcast.Target);

    /// <summary>Adds locally and tells the protocol which rooms got their first local member.</summary>
    private async ValueTask AddLocalAsync(string socketId, IReadOnlyCollection<string> rooms)
    {
        List<string>? created = null;
        foreach (var room in rooms)
        {
            if (_local.RoomSizeAsync(room).Result == 0)
            {
                (created ??= []).Add(room);
            }
        }
        await _local.AddAllAsync(socketId, rooms);
        foreach (var room in created ?? [])
        {
            Requests.OnRoomCreated(room);
        }
    }

    private void RoomsMaybeDeleted(IReadOnlyCollection<string> rooms)
    {
        foreach (var room in rooms)
        {
            if (_local.RoomSizeAsync(room).Result == 0)
            {
                Requests.OnRoomDeleted(room);
            }
        }
    }

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

    /// <summary>
    /// This node's sockets and, through REMOTE_FETCH (or FETCH_SOCKETS), every other node's; a node that does not
    /// answer within the requests timeout is left out.
    /// </summary>
    public async ValueTask<IReadOnlyList<SocketDetails>> FetchSocketsAsync(BroadcastTarget target)
    {
        var local = await _local.FetchSocketsAsync(target);
        if (target.Flags.Local)
        {
            return local;
        }
        var answer = await Requests.FetchSocketsAsync(target);
        var result = new List<SocketDetails>(local);
        var seen = new HashSet<string>(local.Select(s => s.Id), StringComparer.Ordinal);
        foreach (var remote in answer.Value)
        {
            if (seen.Add(remote.Id))
            {
                result.Add(new SocketDetails(remote.Id, RemoteHandshake(remote.Handshake), remote.Rooms, remote.Data));
            }
        }
        return result;
    }

    /// <summary>A handshake as another node wrote it (Node's fields), read back into ours.</summary>
    private static SocketIoHandshake RemoteHandshake(System.Text.Json.Nodes.JsonObject h)
    {
        static Dictionary<string, string> Map(System.Text.Json.Nodes.JsonNode? node, StringComparer comparer)
        {
            var map = new Dictionary<string, string>(comparer);
            if (node is System.Text.Json.Nodes.JsonObject o)
            {
                foreach (var (key, value) in o)
                {
                    map[key] = value is System.Text.Json.Nodes.JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : value?.ToJsonString() ?? "";
                }
            }
            return map;
        }
        var query = Map(h["query"], StringComparer.Ordinal);
        long issued = h["issued"] is System.Text.Json.Nodes.JsonValue i && i.TryGetValue<double>(out double ms) && double.IsFinite(ms) ? (long)ms : 0;
        System.Net.IPAddress? address = h["address"] is System.Text.Json.Nodes.JsonValue a && a.GetValueKind() == System.Text.Json.JsonValueKind.String
            && System.Net.IPAddress.TryParse(a.GetValue<string>(), out var parsed) ? parsed : null;
        var engine = new SocketIoSignal.EngineIO.HandshakeInfo
        {
            Headers = Map(h["headers"], StringComparer.OrdinalIgnoreCase),
            Query = query,
            RemoteAddress = address,
            Time = DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(issued, 0, 253402300799999)),
            Secure = h["secure"] is System.Text.Json.Nodes.JsonValue sv && sv.GetValueKind() == System.Text.Json.JsonValueKind.True,
            Url = h["url"] is System.Text.Json.Nodes.JsonValue u && u.GetValueKind() == System.Text.Json.JsonValueKind.String ? u.GetValue<string>() : "",
        };
        return new SocketIoHandshake
        {
            Engine = engine,
            Query = query,
            Auth = h["auth"] is System.Text.Json.Nodes.JsonObject auth ? (System.Text.Json.Nodes.JsonObject)auth.DeepClone() : null,
        };
    }

    public async ValueTask AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        if (target.Flags.Local)
        {
            // Through AddAllAsync, so that Redis holds the memberships as it does for a socket's own joins.
            await Local.AddSocketsAsync(target, rooms);
            return;
        }
        await Requests.AddSocketsAsync(target, rooms);
    }

    public async ValueTask DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        if (target.Flags.Local)
        {
            await Local.DelSocketsAsync(target, rooms);
            return;
        }
        await Requests.DelSocketsAsync(target, rooms);
    }

    public ValueTask DisconnectSocketsAsync(BroadcastTarget target, bool close)
    {
        if (target.Flags.Local)
        {
            return _local.DisconnectSocketsAsync(target, close);
        }
        Requests.DisconnectSockets(target, close);
        return ValueTask.CompletedTask;
    }

    /// <summary>To the other nodes' listeners (SERVER_SIDE_EMIT); with an ack, one answer per other node or a timeout with the answers so far.</summary>
    public async ValueTask ServerSideEmitAsync(string eventName, IReadOnlyList<object?> args, ServerSideAck? ack)
    {
        var array = new System.Text.Json.Nodes.JsonArray { eventName };
        foreach (var arg in args)
        {
            array.Add(NamespaceLocal.DataJson(arg));
        }
        if (ack is null)
        {
            Requests.ServerSideEmit(array);
            return;
        }
        var answer = await Requests.ServerSideEmitWithAckAsync(array);
        foreach (var response in answer.Value)
        {
            ack.Response(response);
        }
        if (answer.Complete)
        {
            ack.Expect(answer.Value.Count);
        }
        else
        {
            ack.TimedOut();
        }
    }

    public async ValueTask<int> ServerCountAsync() => Math.Max(1, await Requests.ServerCountAsync());

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
