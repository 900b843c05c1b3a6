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
        var keys = rooms.Select(RoomKey).ToList();
        if (isNew)
        {
            keys.Add(_allKey);
        }
        await AddAsync(_cluster.CurrentOwner, socketId, keys);
    }

    /// <summary>
    /// Writes memberships, one script per hash slot. A refusal (this owner taken for dead) is let go: the node
    /// writes everything it holds again under its next owner name.
    /// </summary>
    private async Task AddAsync(RedisCluster.Owner owner, string socketId, IEnumerable<RedisKey> keys)
    {
        var writes = new List<Task>();
        foreach (var group in keys.GroupBy(k => _cluster.Keys.SlotOf(k!)))
        {
            writes.Add(AddInSlotAsync(owner, group.Key, socketId, group));
        }
        await Task.WhenAll(writes);
    }

    private async Task AddInSlotAsync(RedisCluster.Owner owner, int slot, string socketId, IEnumerable<RedisKey> rooms)
    {
        if (!await _cluster.MarkSlotAsync(owner, slot))
        {
            return;
        }
        RedisKey[] keys = [_cluster.Keys.Index(slot, owner.Name), _cluster.Keys.Gone(slot, owner.Name), .. rooms];
        await Db.ScriptEvaluateAsync(RedisScripts.Add, keys, [Member(owner, socketId), socketId]);
    }

    private async Task DeleteInRedisAsync(string socketId, IEnumerable<RedisKey> keys)
    {
        var owner = _cluster.CurrentOwner;
        var deletes = new List<Task>();
        foreach (var group in keys.GroupBy(k => _cluster.Keys.SlotOf(k!)))
        {
            RedisKey[] slotKeys = [_cluster.Keys.Index(group.Key, owner.Name), .. group];
            deletes.Add(Db.ScriptEvaluateAsync(RedisScripts.Delete, slotKeys, [Member(owner, socketId), socketId]));
        }
        await Task.WhenAll(deletes);
    }

    public async ValueTask DeleteAsync(string socketId, string room)
    {
        await _local.DeleteAsync(socketId, room);
        RoomsMaybeDeleted([room]);
        await DeleteInRedisAsync(socketId, [RoomKey(room)]);
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
        await DeleteInRedisAsync(socketId, [_allKey, .. rooms.Select(RoomKey)]);
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
            var owner = _cluster.CurrentOwner;
            RedisKey roomKey = RoomKey(room);
            int slot = _cluster.Keys.SlotOf(roomKey!);
            long[] result = [-1, 0, 0];
            if (await _cluster.MarkSlotAsync(owner, slot))
            {
                result = (long[])(await Db.ScriptEvaluateAsync(RedisScripts.JoinIfBelow,
                    [_cluster.Keys.Index(slot, owner.Name), _cluster.Keys.Gone(slot, owner.Name), roomKey], [Member(owner, socketId), socketId, capacity]))!;
            }
            if (result[0] < 0)
            {
                throw new RedisException("this node was taken for dead by the cluster; it rejoins at its next heartbeat");
            }
            join = new RoomJoin((int)result[0], result[1] == 1, result[2] == 1);
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
                await DeleteInRedisAsync(socketId, [RoomKey(room)]);
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

    /// <summary>Read set by set (the rooms may live in different slots of a Redis Cluster), then combined here.</summary>
    public async ValueTask<IReadOnlyCollection<string>> SocketIdsAsync(BroadcastTarget target)
    {
        RedisKey[] include = target.Rooms.Count == 0 ? [_allKey] : [.. target.Rooms.Select(RoomKey)];
        var included = await Task.WhenAll(include.Select(k => Db.SetMembersAsync(k)));
        var excluded = await Task.WhenAll(target.Except.Select(r => Db.SetMembersAsync(RoomKey(r))));
        var except = new HashSet<RedisValue>(excluded.SelectMany(m => m));
        var seen = new HashSet<RedisValue>();
        var ids = new List<string>();
        foreach (var member in included.SelectMany(m => m))
        {
            if (except.Contains(member) || !seen.Add(member))
            {
                continue;
            }
            string text = member.ToString();
            int colon = text.IndexOf(':', StringComparison.Ordinal);
            ids.Add(colon < 0 ? text : text[(colon + 1)..]);
        }
        return ids;
    }

    public IReadOnlyCollection<string> RoomsOf(string socketId) => _local.RoomsOf(socketId);

    /// <summary>
    /// Published first (BROADCAST with a request id, as the Node adapter), then delivered here: every other node
    /// reports its client count and forwards each client's answer to <paramref name="ack"/>, which ends when every
    /// server counted (<c>serverCount</c>) and every counted client answered, or at its timeout with what came.
    /// </summary>
    public ValueTask BroadcastWithAckAsync(EncodedPacket packet, BroadcastTarget target, BroadcastAck ack)
    {
        if (!target.Flags.Local)
        {
            // Without a timeout the tracker ends at once (as Node's); the other nodes still get the packet.
            var timeout = target.Flags.Timeout ?? TimeSpan.FromMilliseconds(1);
            Requests.PublishBroadcastWithAck(packet, target, timeout, ack.Task, ack.ClientCount, answer => ack.Answer([answer]));
        }
        return _local.BroadcastWithAckAsync(packet, target, ack);
    }

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

    /// <summary>Writes every local membership to Redis again, under the node's new owner name (after it was taken for dead).</summary>
    internal async Task RepublishAsync(RedisCluster.Owner owner)
    {
        foreach (var (socketId, rooms) in _local.Snapshot())
        {
            await AddAsync(owner, socketId, [_allKey, .. rooms.Select(RoomKey)]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _cluster.Forget(this);
        await Requests.DisposeAsync();
        await _local.DisposeAsync();
    }

    private RedisKey RoomKey(string room) => _keyPrefix + room;

    private static string Member(RedisCluster.Owner owner, string socketId) => owner.Name + ":" + socketId;

    private sealed class Pending
    {
        public int Count;
        public bool Departed;
    }
}
