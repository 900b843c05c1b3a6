using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;
using StackExchange.Redis;

namespace SocketIoSignal.Redis.Classic;

/// <summary>The cluster-adapter message types (socket.io-adapter's <c>MessageType</c>), by their wire number.</summary>
internal enum ClusterMessageType
{
    InitialHeartbeat = 1,
    Heartbeat = 2,
    Broadcast = 3,
    SocketsJoin = 4,
    SocketsLeave = 5,
    DisconnectSockets = 6,
    FetchSockets = 7,
    FetchSocketsResponse = 8,
    ServerSideEmit = 9,
    ServerSideEmitResponse = 10,
    BroadcastClientCount = 11,
    BroadcastAck = 12,
    AdapterClose = 13,
}

/// <summary>How a sharded node subscribes: <c>subscriptionMode</c> of <c>createShardedAdapter</c>.</summary>
internal enum ShardedSubscriptionMode
{
    /// <summary>Two channels per namespace; every broadcast on the namespace channel.</summary>
    Static,

    /// <summary>Plus one channel per public room with a local member (the default).</summary>
    Dynamic,

    /// <summary>Plus one channel per room, private rooms (socket ids) included.</summary>
    DynamicPrivate,
}

/// <summary>
/// The protocol of <c>createShardedAdapter</c> (@socket.io/redis-adapter 8.3, on socket.io-adapter's
/// ClusterAdapter) for one namespace: messages <c>{uid, nsp, type, data}</c> (JSON, or MessagePack when they carry
/// binary) with SPUBLISH on <c>{prefix}#{nsp}#</c>, a room's own <c>{prefix}#{nsp}#{room}#</c> (dynamic modes) and
/// responses on the requester's <c>{prefix}#{nsp}#{uid}#</c>; SSUBSCRIBE, so on a Redis Cluster a node receives
/// only the shards' traffic it subscribed to. <c>serverCount</c> is <c>PUBSUB SHARDNUMSUB</c> summed over masters.
/// </summary>
internal sealed class ShardedRequests : IClusterRequests
{
    private readonly RedisCluster _cluster;
    private readonly IClusterLocal _local;
    private readonly InMemoryRoomAdapter _rooms;
    private readonly PendingRequests _pending;
    private readonly ShardedSubscriptionMode _mode;
    private readonly ConcurrentDictionary<string, Task<ChannelMessageQueue>> _dynamic = new(StringComparer.Ordinal);
    private readonly List<ChannelMessageQueue> _queues = [];
    private int _remoteAcks;
    private int _disposed;

    public ShardedRequests(RedisCluster cluster, string nsp, IClusterLocal local, InMemoryRoomAdapter rooms, ShardedSubscriptionMode mode)
    {
        _cluster = cluster;
        _local = local;
        _rooms = rooms;
        _mode = mode;
        Namespace = nsp;
        Channel = cluster.Prefix + "#" + nsp + "#";
        ResponseChannel = Channel + cluster.NodeId + "#";
        _pending = new PendingRequests(cluster.Time, cluster.Options.MaxPendingRequests);
        Subscribed = SubscribeAsync();
    }

    public string Namespace { get; }

    /// <summary>The namespace's channel: every message but responses and single-room broadcasts in dynamic modes.</summary>
    public string Channel { get; }

    public string ResponseChannel { get; }

    public Task Subscribed { get; private set; }

    public int PendingCount => _pending.Count;

    /// <summary>Room channels this node is subscribed to (dynamic modes).</summary>
    public int DynamicChannelCount => _dynamic.Count;

    private ClusterCounters Counters => _cluster.Counters;

    private RedisOptions Options => _cluster.Options;

    public Task EnsureSubscribedAsync()
    {
        if (Subscribed.IsFaulted || Subscribed.IsCanceled)
        {
            Subscribed = SubscribeAsync();
        }
        return Subscribed;
    }

    private async Task SubscribeAsync()
    {
        foreach (var channel in new[] { Channel, ResponseChannel })
        {
            var queue = await SubscribeOneAsync(channel);
            lock (_queues)
            {
                _queues.Add(queue);
            }
        }
    }

    private async Task<ChannelMessageQueue> SubscribeOneAsync(string channel)
    {
        var queue = await _cluster.Connection.GetSubscriber().SubscribeAsync(RedisChannel.Sharded(channel));
        queue.OnMessage(OnMessage);
        return queue;
    }

    // ---- dynamic room channels ----

    private bool HasOwnChannel(string room) => _mode switch
    {
        ShardedSubscriptionMode.Dynamic => !IsSocketId(room),
        ShardedSubscriptionMode.DynamicPrivate => true,
        _ => false,
    };

    /// <summary>Whether a room is a socket's own (Node: a local socket id, or for publishing, 20 characters).</summary>
    private bool IsSocketId(string room) => _rooms.RoomsOf(room).Count > 0;

    private static bool LooksLikeASocketId(string room) => room.Length == 20;

    public void OnRoomCreated(string room)
    {
        if (!HasOwnChannel(room) || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }
        _dynamic.GetOrAdd(room, r => SubscribeOneAsync(Channel + r + "#"));
    }

    public void OnRoomDeleted(string room)
    {
        if (_dynamic.TryRemove(room, out var pending))
        {
            _ = UnsubscribeAsync(pending);
        }
    }

    private async Task UnsubscribeAsync(Task<ChannelMessageQueue> pending)
    {
        try
        {
            var queue = await pending;
            await queue.UnsubscribeAsync();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            _cluster.LogRequestFailed(ex, "sunsubscribe");
        }
    }

    // ---- receiving ----

    private void OnMessage(ChannelMessage message)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }
        string channel = message.Channel.ToString();
        ClusterMessage decoded;
        try
        {
            decoded = ClusterCodec.Decode(((ReadOnlyMemory<byte>)message.Message).Span, Options.MaxMessageBytes);
        }
        catch (FormatException ex)
        {
            Counters.Dropped("malformed");
            _cluster.LogDropped(ex, channel);
            return;
        }
        try
        {
            Handle(decoded);
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or JsonException or ArgumentException)
        {
            Counters.Dropped("invalid");
            _cluster.LogDropped(ex, channel);
        }
    }

    private void Handle(ClusterMessage message)
    {
        string? uid = message.Uid;
        if (uid == _cluster.NodeId)
        {
            return;
        }
        if (uid is null || message.String("nsp") != Namespace)
        {
            Counters.Dropped("unknown-request");
            return;
        }
        var data = message.Root["data"] as JsonObject;
        string? requestId = data?["requestId"] is JsonValue r && r.GetValueKind() == JsonValueKind.String ? r.GetValue<string>() : null;
        var opts = data?["opts"] as JsonObject;
        var packetNode = data?["packet"];
        switch ((ClusterMessageType)message.Type)
        {
            case ClusterMessageType.InitialHeartbeat or ClusterMessageType.Heartbeat or ClusterMessageType.AdapterClose:
                // Heartbeats of adapters that count nodes by them; this protocol counts subscribers instead.
                return;
            case ClusterMessageType.Broadcast when packetNode is JsonObject packet && opts is not null:
                if (requestId is null)
                {
                    DeliverBroadcast(packet, opts, message.Attachments);
                }
                else
                {
                    OnBroadcastWithAck(uid, requestId, packet, opts, message.Attachments);
                }
                break;
            case ClusterMessageType.SocketsJoin when opts is not null:
                _ = Guard(_local.AddSocketsAsync(Target(opts), ClusterCodec.Rooms(data!["rooms"])).AsTask());
                break;
            case ClusterMessageType.SocketsLeave when opts is not null:
                _ = Guard(_local.DelSocketsAsync(Target(opts), ClusterCodec.Rooms(data!["rooms"])).AsTask());
                break;
            case ClusterMessageType.DisconnectSockets when opts is not null:
                _local.DisconnectSockets(Target(opts), data!["close"] is JsonValue c && c.GetValueKind() == JsonValueKind.True);
                break;
            case ClusterMessageType.FetchSockets when opts is not null && requestId is not null:
                var sockets = new JsonArray();
                foreach (var socket in _local.FetchSockets(Target(opts)))
                {
                    sockets.Add(new JsonObject
                    {
                        ["id"] = socket.Id,
                        ["handshake"] = socket.Handshake,
                        ["rooms"] = ClusterCodec.RoomArray(socket.Rooms),
                        ["data"] = socket.Data,
                    });
                }
                Respond(uid, ClusterMessageType.FetchSocketsResponse, new JsonObject { ["requestId"] = requestId, ["sockets"] = sockets });
                break;
            case ClusterMessageType.ServerSideEmit when packetNode is JsonArray args && args.Count > 0:
                Action<JsonNode?>? ack = null;
                if (requestId is not null)
                {
                    int called = 0;
                    ack = answer =>
                    {
                        if (Interlocked.Exchange(ref called, 1) == 0)
                        {
                            Respond(uid, ClusterMessageType.ServerSideEmitResponse, new JsonObject { ["requestId"] = requestId, ["packet"] = answer?.DeepClone() });
                        }
                    };
                }
                _local.OnServerSideEmit((JsonArray)args.DeepClone(), ack);
                break;
            case ClusterMessageType.FetchSocketsResponse or ClusterMessageType.ServerSideEmitResponse
                or ClusterMessageType.BroadcastClientCount or ClusterMessageType.BroadcastAck:
                OnResponse(message, data, requestId);
                return;
            case ClusterMessageType.Broadcast or ClusterMessageType.SocketsJoin or ClusterMessageType.SocketsLeave
                or ClusterMessageType.DisconnectSockets or ClusterMessageType.FetchSockets or ClusterMessageType.ServerSideEmit:
                Counters.Dropped("invalid");
                return;
            default:
                Counters.Dropped("unknown-request");
                return;
        }
        Counters.Answered(((ClusterMessageType)message.Type).ToString());
    }

    private async Task Guard(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            _cluster.LogRequestFailed(ex, "membership");
        }
    }

    private void DeliverBroadcast(JsonObject packet, JsonObject opts, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        if (packet["data"] is not JsonArray data || opts["flags"]?["local"] is JsonValue l && l.GetValueKind() == JsonValueKind.True)
        {
            return;
        }
        var type = attachments.Count > 0 ? SocketIoPacketType.BinaryEvent : SocketIoPacketType.Event;
        string text = SocketIoEncoder.Header(type, Namespace, null, attachments.Count) + data.ToJsonString(ClusterCodec.Json);
        _cluster.CountReceived();
        _rooms.BroadcastAsync(new EncodedPacket(text, attachments), Target(opts));
    }

    private void OnBroadcastWithAck(string requester, string requestId, JsonObject packet, JsonObject opts, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        if (packet["data"] is not JsonArray data || data.Count == 0 || data[0] is not JsonValue name || name.GetValueKind() != JsonValueKind.String)
        {
            Counters.Dropped("invalid");
            return;
        }
        var timeout = Options.RequestsTimeout;
        if (opts["flags"]?["timeout"] is JsonValue t && t.TryGetValue<double>(out double ms) && double.IsFinite(ms) && ms >= 0)
        {
            timeout = TimeSpan.FromMilliseconds(Math.Min(ms, Options.MaxRemoteAckTimeout.TotalMilliseconds));
        }
        if (Interlocked.Increment(ref _remoteAcks) > Options.MaxPendingRequests)
        {
            Interlocked.Decrement(ref _remoteAcks);
            Counters.Dropped("ack-limit");
            Respond(requester, ClusterMessageType.BroadcastClientCount, new JsonObject { ["requestId"] = requestId, ["clientCount"] = 0 });
            return;
        }
        int count = _local.BroadcastWithAck(name.GetValue<string>(), ClassicRequests.EventArgs(data, attachments), Target(opts), timeout, answer =>
        {
            var binary = new List<ReadOnlyMemory<byte>>();
            var packet = ClusterBinary.Extract(answer, binary);
            Publish(Channel + requester + "#", ClusterMessageType.BroadcastAck, new JsonObject { ["requestId"] = requestId, ["packet"] = packet }, binary);
        });
        Respond(requester, ClusterMessageType.BroadcastClientCount, new JsonObject { ["requestId"] = requestId, ["clientCount"] = count });
        _ = Release(timeout);

        async Task Release(TimeSpan delay)
        {
            try
            {
                await Task.Delay(delay, _cluster.Time);
            }
            finally
            {
                Interlocked.Decrement(ref _remoteAcks);
            }
        }
    }

    private void OnResponse(ClusterMessage message, JsonObject? data, string? requestId)
    {
        if (data is null || requestId is null)
        {
            Counters.Dropped("invalid");
            return;
        }
        // The pending request kinds read the classic field names; give them the sharded data under those names.
        var view = new JsonObject
        {
            ["type"] = (ClusterMessageType)message.Type switch
            {
                ClusterMessageType.BroadcastClientCount => (int)ClusterRequestType.BroadcastClientCount,
                ClusterMessageType.BroadcastAck => (int)ClusterRequestType.BroadcastAck,
                _ => message.Type,
            },
            ["requestId"] = requestId,
            ["sockets"] = data["sockets"]?.DeepClone(),
            ["data"] = data["packet"]?.DeepClone(),
            ["packet"] = data["packet"]?.DeepClone(),
            ["clientCount"] = data["clientCount"]?.DeepClone(),
        };
        if (!_pending.TryAccept(requestId, new ClusterMessage(view, message.Attachments)))
        {
            Counters.Dropped("not-ours");
        }
    }

    // ---- sending ----

    private void Respond(string requesterUid, ClusterMessageType type, JsonObject data) =>
        Publish(Channel + requesterUid + "#", type, data, []);

    private void Publish(string channel, ClusterMessageType type, JsonObject data, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        var message = new JsonObject
        {
            ["uid"] = _cluster.NodeId,
            ["nsp"] = Namespace,
            ["type"] = (int)type,
            ["data"] = data,
        };
        // As the Node adapter: JSON unless the message carries binary, then MessagePack.
        byte[] payload = attachments.Count > 0 ? ClusterCodec.EncodeMessagePack(message, attachments) : ClusterCodec.EncodeJson(message);
        try
        {
            _cluster.Database.Publish(RedisChannel.Sharded(channel), payload, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            _cluster.LogRequestFailed(ex, "spublish");
        }
    }

    public void PublishBroadcast(EncodedPacket packet, BroadcastTarget target)
    {
        string text = packet.Text;
        var data = JsonNode.Parse(text.AsSpan(RedisWire.JsonStart(text)).ToString(), documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        string channel = Channel;
        if (target.Rooms.Count == 1 && _mode != ShardedSubscriptionMode.Static)
        {
            string room = target.Rooms.First();
            if (_mode == ShardedSubscriptionMode.DynamicPrivate || !LooksLikeASocketId(room))
            {
                channel = Channel + room + "#";
            }
        }
        var opts = ClassicRequests.Opts(target);
        opts["flags"] = new JsonObject();
        Publish(channel, ClusterMessageType.Broadcast, new JsonObject
        {
            ["packet"] = new JsonObject { ["type"] = 2, ["data"] = data, ["nsp"] = Namespace },
            ["opts"] = opts,
        }, packet.Attachments);
        _cluster.CountPublished();
    }

    /// <summary>Subscribers of the namespace channel on every master (<c>PUBSUB SHARDNUMSUB</c>, summed).</summary>
    public async Task<int> ServerCountAsync()
    {
        int total = 0;
        foreach (var server in _cluster.Connection.GetServers())
        {
            if (server.IsReplica || !server.IsConnected)
            {
                continue;
            }
            var items = (RedisResult[])(await server.ExecuteAsync("PUBSUB", "SHARDNUMSUB", Channel))!;
            total += items.Length >= 2 ? (int)(long)items[1] : 0;
        }
        return total;
    }

    /// <summary>
    /// The cluster adapter has no request for every room; the rooms of every socket (FETCH_SOCKETS, which Node's
    /// sharded nodes answer too) are the same set: a room exists while it has a member.
    /// </summary>
    public async Task<ClusterAnswer<IReadOnlyList<string>>> AllRoomsAsync()
    {
        var fetched = await FetchSocketsAsync(BroadcastTarget.All);
        var rooms = new HashSet<string>(_local.Rooms(), StringComparer.Ordinal);
        foreach (var socket in fetched.Value)
        {
            rooms.UnionWith(socket.Rooms);
        }
        return new ClusterAnswer<IReadOnlyList<string>>([.. rooms], fetched.Complete, fetched.Answered, fetched.Expected);
    }

    /// <summary>Through FETCH_SOCKETS, as the cluster adapter answers <c>allSockets</c>.</summary>
    public async Task<ClusterAnswer<IReadOnlyList<string>>> SocketIdsAsync(IReadOnlySet<string> rooms)
    {
        var fetched = await FetchSocketsAsync(new BroadcastTarget(rooms, RoomSet.Empty));
        return new ClusterAnswer<IReadOnlyList<string>>([.. fetched.Value.Select(s => s.Id)], fetched.Complete, fetched.Answered, fetched.Expected);
    }

    public async Task<ClusterAnswer<IReadOnlyList<RemoteSocketInfo>>> FetchSocketsAsync(BroadcastTarget target)
    {
        List<RemoteSocketInfo> local = [.. _local.FetchSockets(target)];
        int others = await ServerCountAsync() - 1;
        if (others <= 0)
        {
            return new ClusterAnswer<IReadOnlyList<RemoteSocketInfo>>(local, true, 1, 1);
        }
        string requestId = ClusterCodec.NewId();
        // The gather request counts this node as the first answer; the others are counted as they come.
        var request = new GatherRequest<RemoteSocketInfo>(ClusterRequestType.RemoteFetch, others + 1, "sockets", ClassicRequests.ReadSocket, local);
        if (!_pending.TryAdd(requestId, request, Options.RequestsTimeout))
        {
            Counters.Dropped("request-limit");
            return new ClusterAnswer<IReadOnlyList<RemoteSocketInfo>>(local, false, 1, others + 1);
        }
        Publish(Channel, ClusterMessageType.FetchSockets, new JsonObject { ["opts"] = ClassicRequests.Opts(target), ["requestId"] = requestId }, []);
        Counters.Sent(ClusterRequestType.RemoteFetch);
        var answer = await request.Result.Task;
        if (!answer.Complete)
        {
            Counters.TimedOut(ClusterRequestType.RemoteFetch);
        }
        return answer;
    }

    public async Task AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        Publish(Channel, ClusterMessageType.SocketsJoin, new JsonObject { ["opts"] = ClassicRequests.Opts(target), ["rooms"] = ClusterCodec.RoomArray(rooms) }, []);
        await _local.AddSocketsAsync(target, rooms);
    }

    public async Task DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        Publish(Channel, ClusterMessageType.SocketsLeave, new JsonObject { ["opts"] = ClassicRequests.Opts(target), ["rooms"] = ClusterCodec.RoomArray(rooms) }, []);
        await _local.DelSocketsAsync(target, rooms);
    }

    public void DisconnectSockets(BroadcastTarget target, bool close)
    {
        Publish(Channel, ClusterMessageType.DisconnectSockets, new JsonObject { ["opts"] = ClassicRequests.Opts(target), ["close"] = close }, []);
        _local.DisconnectSockets(target, close);
    }

    public void ServerSideEmit(JsonArray args) =>
        Publish(Channel, ClusterMessageType.ServerSideEmit, new JsonObject { ["packet"] = args.DeepClone() }, []);

    public async Task<ClusterAnswer<IReadOnlyList<JsonNode?>>> ServerSideEmitWithAckAsync(JsonArray args)
    {
        int others = await ServerCountAsync() - 1;
        if (others <= 0)
        {
            return new ClusterAnswer<IReadOnlyList<JsonNode?>>([], true, 0, 0);
        }
        string requestId = ClusterCodec.NewId();
        var request = new ServerSideEmitRequest(others);
        if (!_pending.TryAdd(requestId, request, Options.RequestsTimeout))
        {
            Counters.Dropped("request-limit");
            return new ClusterAnswer<IReadOnlyList<JsonNode?>>([], false, 0, others);
        }
        Publish(Channel, ClusterMessageType.ServerSideEmit, new JsonObject { ["requestId"] = requestId, ["packet"] = args.DeepClone() }, []);
        Counters.Sent(ClusterRequestType.ServerSideEmit);
        var answer = await request.Result.Task;
        if (!answer.Complete)
        {
            Counters.TimedOut(ClusterRequestType.ServerSideEmit);
        }
        return answer;
    }

    public bool PublishBroadcastWithAck(EncodedPacket packet, BroadcastTarget target, TimeSpan timeout, Task done, Action<int> onClientCount, Action<JsonNode?> onAck)
    {
        string requestId = ClusterCodec.NewId();
        if (!_pending.TryAddUntil(requestId, new ForwardedAckRequest(onClientCount, onAck), timeout, done))
        {
            Counters.Dropped("request-limit");
            return false;
        }
        PublishBroadcastRequest(requestId, packet, target, timeout);
        return true;
    }

    private void PublishBroadcastRequest(string requestId, EncodedPacket packet, BroadcastTarget target, TimeSpan timeout)
    {
        // Never on a room's channel: every node counted by SHARDNUMSUB of the namespace channel must answer.
        Publish(Channel, ClusterMessageType.Broadcast, ClusterCodec.BroadcastRequest(packet, Namespace, requestId, target, timeout), packet.Attachments);
        Counters.Sent(ClusterRequestType.Broadcast);
    }

    private static BroadcastTarget Target(JsonObject opts) =>
        new(ClusterCodec.Rooms(opts["rooms"]), ClusterCodec.Rooms(opts["except"]));

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _pending.ExpireAll();
        List<Task<ChannelMessageQueue>> all = [.. _dynamic.Values];
        _dynamic.Clear();
        lock (_queues)
        {
            all.AddRange(_queues.Select(Task.FromResult));
            _queues.Clear();
        }
        foreach (var queue in all)
        {
            if (_cluster.Connection.IsConnected)
            {
                await UnsubscribeAsync(queue).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
