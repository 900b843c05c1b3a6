using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SocketIoSignal.Redis.Classic;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.SocketIO.Recovery;
using StackExchange.Redis;

namespace SocketIoSignal.Redis.Streams;

/// <summary>
/// The protocol of <c>@socket.io/redis-streams-adapter</c> 0.3 (socket.io-adapter's ClusterAdapter over a Redis
/// stream) for one namespace. Broadcasts, joins, leaves and disconnects are stream entries (<c>XADD MAXLEN ~</c>)
/// with the fields <c>uid</c>, <c>nsp</c>, <c>type</c> (the cluster message type as text) and <c>data</c> (JSON text,
/// or base64 MessagePack when it carries binary); the requests that wait for answers (fetch, server-side emit,
/// acknowledged broadcast) and every answer are MessagePack over Pub/Sub, on <c>{prefix}#{nsp}#</c> and the
/// requester's <c>{prefix}#{nsp}#{uid}#</c>. <c>serverCount</c> is the namespace channel's subscriber count.
/// With connection state recovery on, each broadcast carries its stream entry id as the offset, sessions are kept in
/// Redis (<c>{sessionKeyPrefix}{pid}</c>, base64 MessagePack) and a client recovers on any node from the stream.
/// </summary>
internal sealed partial class StreamsRequests : IClusterRequests, IClusterRecovery
{
    private const int MaxRangeCalls = 100;
    private const int RangeCount = 1000;

    private readonly RedisCluster _cluster;
    private readonly IClusterLocal _local;
    private readonly InMemoryRoomAdapter _rooms;
    private readonly PendingRequests _pending;
    private readonly bool _recovery;
    private readonly List<ChannelMessageQueue> _queues = [];
    private readonly Queue<KeptSend> _kept = new();
    private int _remoteAcks;
    private int _disposed;

    public StreamsRequests(RedisCluster cluster, string nsp, IClusterLocal local, InMemoryRoomAdapter rooms, bool recovery)
    {
        _cluster = cluster;
        _local = local;
        _rooms = rooms;
        _recovery = recovery;
        Namespace = nsp;
        var options = cluster.Options.Streams;
        Channel = options.ChannelPrefix + "#" + nsp + "#";
        ResponseChannel = Channel + cluster.NodeId + "#";
        StreamName = StreamFor(nsp, options);
        _pending = new PendingRequests(cluster.Time, cluster.Options.MaxPendingRequests);
        cluster.StreamsHub!.Register(this);
        Subscribed = SubscribeAsync();
    }

    public string Namespace { get; }

    /// <summary>The namespace's Pub/Sub channel: requests that wait for answers.</summary>
    public string Channel { get; }

    public string ResponseChannel { get; }

    /// <summary>The stream this namespace's events go to.</summary>
    public string StreamName { get; }

    public Task Subscribed { get; private set; }

    public int PendingCount => _pending.Count;

    private ClusterCounters Counters => _cluster.Counters;

    private RedisOptions Options => _cluster.Options;

    private RedisStreamsOptions StreamOptions => _cluster.Options.Streams;

    private IDatabase Db => _cluster.Database;

    /// <summary>The adapter's <c>computeStreamName</c>: the stream name, or with several streams one picked by the namespace's hash.</summary>
    internal static string StreamFor(string nsp, RedisStreamsOptions options)
    {
        if (options.StreamCount == 1)
        {
            return options.StreamName;
        }
        int hash = 0;
        foreach (char c in nsp)
        {
            hash = unchecked(hash * 31 + c);
        }
        // JavaScript's % keeps the sign, as C#'s does: a negative hash names a stream "…--1", as Node's.
        return options.StreamName + "-" + (hash % options.StreamCount).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private RedisChannel ChannelOf(string name) => StreamOptions.UseShardedPubSub ? RedisChannel.Sharded(name) : RedisChannel.Literal(name);

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
            var queue = await _cluster.Connection.GetSubscriber().SubscribeAsync(ChannelOf(channel));
            queue.OnMessage(OnPubSubMessage);
            lock (_queues)
            {
                _queues.Add(queue);
            }
        }
    }

    // ---- receiving ----

    private void OnPubSubMessage(ChannelMessage message)
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
        var data = decoded.Root["data"];
        if (data is not null and not JsonObject)
        {
            Counters.Dropped("invalid");
            return;
        }
        Dispatch(decoded.Uid, decoded.String("nsp"), decoded.Type, (JsonObject?)data, decoded.Attachments, null, channel);
    }

    /// <summary>A stream entry of this namespace (the hub read it); <paramref name="offset"/> is its id.</summary>
    internal void OnStreamEntry(string uid, int type, JsonObject? data, IReadOnlyList<ReadOnlyMemory<byte>> attachments, string offset)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }
        Dispatch(uid, Namespace, type, data, attachments, offset, StreamName);
    }

    private void Dispatch(string? uid, string? nsp, int type, JsonObject? data, IReadOnlyList<ReadOnlyMemory<byte>> attachments, string? offset, string source)
    {
        try
        {
            Handle(uid, nsp, type, data, attachments, offset);
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or JsonException or ArgumentException)
        {
            Counters.Dropped("invalid");
            _cluster.LogDropped(ex, source);
        }
    }

    private void Handle(string? uid, string? nsp, int type, JsonObject? data, IReadOnlyList<ReadOnlyMemory<byte>> attachments, string? offset)
    {
        if (uid == _cluster.NodeId)
        {
            return;
        }
        if (uid is null || nsp != Namespace)
        {
            Counters.Dropped("unknown-request");
            return;
        }
        string? requestId = data?["requestId"] is JsonValue r && r.GetValueKind() == JsonValueKind.String ? r.GetValue<string>() : null;
        var opts = data?["opts"] as JsonObject;
        var packetNode = data?["packet"];
        switch ((ClusterMessageType)type)
        {
            case ClusterMessageType.InitialHeartbeat or ClusterMessageType.Heartbeat or ClusterMessageType.AdapterClose:
                // Adapters that count nodes by heartbeats send these; this protocol counts subscribers instead.
                return;
            case ClusterMessageType.Broadcast when packetNode is JsonObject packet && opts is not null:
                if (requestId is null)
                {
                    DeliverBroadcast(packet, opts, attachments, offset);
                }
                else
                {
                    OnBroadcastWithAck(uid, requestId, packet, opts, attachments);
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
                            RespondWithPacket(uid, ClusterMessageType.ServerSideEmitResponse, requestId, answer);
                        }
                    };
                }
                _local.OnServerSideEmit((JsonArray)args.DeepClone(), ack);
                break;
            case ClusterMessageType.FetchSocketsResponse or ClusterMessageType.ServerSideEmitResponse
                or ClusterMessageType.BroadcastClientCount or ClusterMessageType.BroadcastAck:
                OnResponse(type, data, requestId, attachments);
                return;
            case ClusterMessageType.Broadcast or ClusterMessageType.SocketsJoin or ClusterMessageType.SocketsLeave
                or ClusterMessageType.DisconnectSockets or ClusterMessageType.FetchSockets or ClusterMessageType.ServerSideEmit:
                Counters.Dropped("invalid");
                return;
            default:
                Counters.Dropped("unknown-request");
                return;
        }
        Counters.Answered(((ClusterMessageType)type).ToString());
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

    private void DeliverBroadcast(JsonObject packet, JsonObject opts, IReadOnlyList<ReadOnlyMemory<byte>> attachments, string? offset)
    {
        var flags = opts["flags"] as JsonObject;
        if (packet["data"] is not JsonArray data || data.Count == 0 || IsTrue(flags?["local"]))
        {
            Counters.Dropped("invalid");
            return;
        }
        // socket.io-adapter's addOffsetIfNecessary: with recovery on, an event without an ack id, not volatile,
        // carries its entry id as its last argument.
        bool withOffset = _recovery && offset is not null && packet["id"] is null && flags?["volatile"] is null;
        _cluster.CountReceived();
        _rooms.BroadcastAsync(EncodeEvent(data, attachments, withOffset ? offset : null), Target(opts));
    }

    private static bool IsTrue(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    /// <summary>An event packet of this namespace from a cluster message's <c>packet.data</c>, with an offset appended when given.</summary>
    private EncodedPacket EncodeEvent(JsonArray data, IReadOnlyList<ReadOnlyMemory<byte>> attachments, string? offset)
    {
        var type = attachments.Count > 0 ? SocketIoPacketType.BinaryEvent : SocketIoPacketType.Event;
        string json = data.ToJsonString(ClusterCodec.Json);
        if (offset is not null)
        {
            json = AppendOffset(json, offset);
        }
        return new EncodedPacket(SocketIoEncoder.Header(type, Namespace, null, attachments.Count) + json, attachments);
    }

    /// <summary>The JSON array <paramref name="json"/> with one more element, the offset (entry ids need no escaping).</summary>
    private static string AppendOffset(string json, string offset) => string.Concat(json.AsSpan(0, json.Length - 1), ",\"", offset, "\"]");

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
            RespondWithPacket(requester, ClusterMessageType.BroadcastAck, requestId, answer));
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

    private void OnResponse(int type, JsonObject? data, string? requestId, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        if (data is null || requestId is null)
        {
            Counters.Dropped("invalid");
            return;
        }
        // The pending request kinds read the classic field names; give them the cluster message's data under those.
        var view = new JsonObject
        {
            ["type"] = (ClusterMessageType)type switch
            {
                ClusterMessageType.BroadcastClientCount => (int)ClusterRequestType.BroadcastClientCount,
                ClusterMessageType.BroadcastAck => (int)ClusterRequestType.BroadcastAck,
                _ => type,
            },
            ["requestId"] = requestId,
            ["sockets"] = data["sockets"]?.DeepClone(),
            ["data"] = data["packet"]?.DeepClone(),
            ["packet"] = data["packet"]?.DeepClone(),
            ["clientCount"] = data["clientCount"]?.DeepClone(),
        };
        if (!_pending.TryAccept(requestId, new ClusterMessage(view, attachments)))
        {
            Counters.Dropped("not-ours");
        }
    }

    // ---- sending ----

    private JsonObject Message(ClusterMessageType type, JsonObject data) => new()
    {
        ["uid"] = _cluster.NodeId,
        ["nsp"] = Namespace,
        ["type"] = (int)type,
        ["data"] = data,
    };

    private void Respond(string requesterUid, ClusterMessageType type, JsonObject data) =>
        PublishEphemeral(Channel + requesterUid + "#", type, data, []);

    /// <summary>An answer carrying a client's or a server's value, its binary parts as MessagePack binary, as Node sends Buffers.</summary>
    private void RespondWithPacket(string requesterUid, ClusterMessageType type, string requestId, JsonNode? answer)
    {
        var binary = new List<ReadOnlyMemory<byte>>();
        var packet = ClusterBinary.Extract(answer, binary);
        PublishEphemeral(Channel + requesterUid + "#", type, new JsonObject { ["requestId"] = requestId, ["packet"] = packet }, binary);
    }

    /// <summary>Requests that wait for answers, and answers: the whole message as MessagePack over Pub/Sub, as the Node adapter.</summary>
    private void PublishEphemeral(string channel, ClusterMessageType type, JsonObject data, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        byte[] payload = ClusterCodec.EncodeMessagePack(Message(type, data), attachments);
        try
        {
            Db.Publish(ChannelOf(channel), payload, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            _cluster.LogRequestFailed(ex, "publish");
        }
    }

    /// <summary>The entry fields of a message for the stream (<c>data</c> JSON text, or base64 MessagePack with binary).</summary>
    private NameValueEntry[] Entry(ClusterMessageType type, JsonObject data, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        string encoded = attachments.Count > 0
            ? Convert.ToBase64String(ClusterCodec.EncodeMessagePack(data, attachments))
            : data.ToJsonString(ClusterCodec.Json);
        return
        [
            new NameValueEntry("uid", _cluster.NodeId),
            new NameValueEntry("nsp", Namespace),
            new NameValueEntry("type", ((int)type).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new NameValueEntry("data", encoded),
        ];
    }

    private Task<RedisValue> AddAsync(NameValueEntry[] entry, CommandFlags flags = CommandFlags.None) =>
        Db.StreamAddAsync(StreamName, entry, maxLength: StreamOptions.MaxLen, useApproximateMaxLength: true, flags: flags);

    private void AddAndForget(ClusterMessageType type, JsonObject data)
    {
        try
        {
            _ = AddAsync(Entry(type, data, []), CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            _cluster.LogRequestFailed(ex, "xadd");
        }
    }

    private (JsonObject Data, IReadOnlyList<ReadOnlyMemory<byte>> Attachments) BroadcastData(EncodedPacket packet, BroadcastTarget target)
    {
        string text = packet.Text;
        var data = JsonNode.Parse(text.AsSpan(RedisWire.JsonStart(text)).ToString(), documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        var opts = ClassicRequests.Opts(target);
        opts["flags"] = target.Flags.Volatile ? new JsonObject { ["volatile"] = true } : new JsonObject();
        return (new JsonObject
        {
            ["packet"] = new JsonObject { ["type"] = 2, ["data"] = data, ["nsp"] = Namespace },
            ["opts"] = opts,
        }, packet.Attachments);
    }

    /// <summary>A broadcast without recovery: an entry for the other nodes; this node delivers its own part at once.</summary>
    public void PublishBroadcast(EncodedPacket packet, BroadcastTarget target)
    {
        var (data, attachments) = BroadcastData(packet, target);
        try
        {
            _ = AddAsync(Entry(ClusterMessageType.Broadcast, data, attachments), CommandFlags.FireAndForget);
            _cluster.CountPublished();
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            _cluster.LogRequestFailed(ex, "xadd");
        }
    }

    /// <summary>
    /// A kept broadcast (recovery on): the entry is added first, and this node delivers its part with the entry id
    /// as offset once Redis has given it, as the Node adapter awaits it. Entries are added in call order on one
    /// connection, and delivered here in that order too.
    /// </summary>
    public ValueTask BroadcastKeptAsync(EncodedPacket packet, BroadcastTarget target)
    {
        if (target.Flags.Local)
        {
            return _rooms.BroadcastAsync(packet, target);
        }
        var (data, attachments) = BroadcastData(packet, target);
        var send = new KeptSend(packet, target);
        Task<RedisValue> add;
        lock (_kept)
        {
            _kept.Enqueue(send);
            try
            {
                add = AddAsync(Entry(ClusterMessageType.Broadcast, data, attachments));
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
            {
                add = Task.FromException<RedisValue>(ex);
            }
        }
        _cluster.CountPublished();
        return new ValueTask(CompleteKeptAsync(send, add));
    }

    private async Task CompleteKeptAsync(KeptSend send, Task<RedisValue> add)
    {
        try
        {
            send.Offset = (await add.ConfigureAwait(false)).ToString();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // As the Node adapter: the event still goes to this node's sockets, without an offset.
            _cluster.LogRequestFailed(ex, "xadd");
        }
        lock (_kept)
        {
            send.Done = true;
            // Delivered under the lock (the local delivery is synchronous), so two completions never swap order.
            while (_kept.TryPeek(out var head) && head.Done)
            {
                _kept.Dequeue();
                var delivered = head.Offset is null ? head.Packet : WithOffset(head.Packet, head.Offset);
                _rooms.BroadcastAsync(delivered, head.Target);
            }
        }
    }

    private static EncodedPacket WithOffset(EncodedPacket packet, string offset) =>
        new(AppendOffset(packet.Text, offset), packet.Attachments) { EventName = packet.EventName, EventArgs = packet.EventArgs };

    /// <summary>Subscribers of the namespace channel (<c>PUBSUB NUMSUB</c>, or <c>SHARDNUMSUB</c>), summed over the masters.</summary>
    public async Task<int> ServerCountAsync()
    {
        int total = 0;
        string what = StreamOptions.UseShardedPubSub ? "SHARDNUMSUB" : "NUMSUB";
        foreach (var server in _cluster.Connection.GetServers())
        {
            if (server.IsReplica || !server.IsConnected)
            {
                continue;
            }
            var items = (RedisResult[])(await server.ExecuteAsync("PUBSUB", what, Channel))!;
            total += items.Length >= 2 ? (int)(long)items[1] : 0;
        }
        return total;
    }

    /// <summary>The cluster adapter has no request for every room: this node's rooms only, marked incomplete.</summary>
    /// <summary>The cluster adapter has no all-rooms request: every socket's rooms, through FETCH_SOCKETS (Node's nodes answer it too).</summary>
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
        var request = new GatherRequest<RemoteSocketInfo>(ClusterRequestType.RemoteFetch, others + 1, "sockets", ClassicRequests.ReadSocket, local);
        if (!_pending.TryAdd(requestId, request, Options.RequestsTimeout))
        {
            Counters.Dropped("request-limit");
            return new ClusterAnswer<IReadOnlyList<RemoteSocketInfo>>(local, false, 1, others + 1);
        }
        PublishEphemeral(Channel, ClusterMessageType.FetchSockets, new JsonObject { ["opts"] = ClassicRequests.Opts(target), ["requestId"] = requestId }, []);
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
        AddAndForget(ClusterMessageType.SocketsJoin, new JsonObject { ["opts"] = ClassicRequests.Opts(target), ["rooms"] = ClusterCodec.RoomArray(rooms) });
        await _local.AddSocketsAsync(target, rooms);
    }

    public async Task DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        AddAndForget(ClusterMessageType.SocketsLeave, new JsonObject { ["opts"] = ClassicRequests.Opts(target), ["rooms"] = ClusterCodec.RoomArray(rooms) });
        await _local.DelSocketsAsync(target, rooms);
    }

    public void DisconnectSockets(BroadcastTarget target, bool close)
    {
        AddAndForget(ClusterMessageType.DisconnectSockets, new JsonObject { ["opts"] = ClassicRequests.Opts(target), ["close"] = close });
        _local.DisconnectSockets(target, close);
    }

    public void ServerSideEmit(JsonArray args) =>
        PublishEphemeral(Channel, ClusterMessageType.ServerSideEmit, new JsonObject { ["packet"] = args.DeepClone() }, []);

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
        PublishEphemeral(Channel, ClusterMessageType.ServerSideEmit, new JsonObject { ["requestId"] = requestId, ["packet"] = args.DeepClone() }, []);
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
        // Over Pub/Sub, as Node's streams adapter sends requests that wait for answers.
        PublishEphemeral(Channel, ClusterMessageType.Broadcast, ClusterCodec.BroadcastRequest(packet, Namespace, requestId, target, timeout), packet.Attachments);
        Counters.Sent(ClusterRequestType.Broadcast);
        return true;
    }

    public void OnRoomCreated(string room)
    {
    }

    public void OnRoomDeleted(string room)
    {
    }

    private static BroadcastTarget Target(JsonObject opts) =>
        new(ClusterCodec.Rooms(opts["rooms"]), ClusterCodec.Rooms(opts["except"]));

    // ---- connection state recovery ----

    [GeneratedRegex("^[0-9]+-[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex OffsetPattern();

    /// <summary>The adapter's <c>persistSession</c>: <c>SET {prefix}{pid} base64(msgpack({sid, pid, rooms, data})) PX window</c>.</summary>
    public void PersistSession(string sid, string pid, IReadOnlyCollection<string> rooms, object? data, TimeSpan window)
    {
        var session = new JsonObject
        {
            ["sid"] = sid,
            ["pid"] = pid,
            ["rooms"] = ClusterCodec.RoomArray(rooms),
            ["data"] = NamespaceLocal.DataJson(data),
        };
        try
        {
            string encoded = Convert.ToBase64String(ClusterCodec.EncodeMessagePack(session, []));
            Db.StringSet(StreamOptions.SessionKeyPrefix + pid, encoded, window, flags: CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException or InvalidOperationException)
        {
            _cluster.LogRequestFailed(ex, "persistSession");
        }
    }

    /// <summary>
    /// The adapter's <c>restoreSession</c>: takes the session (GETDEL), checks that the offset is still in the
    /// stream, then reads the stream after it (XRANGE) for this namespace's broadcasts the session's rooms select,
    /// each with its entry id appended. Null when the offset is not an entry id, the session or the offset is gone,
    /// or more than <paramref name="maxMissed"/> events were missed.
    /// </summary>
    public async Task<ClusterSession?> RestoreSessionAsync(string pid, string offset, int maxMissed)
    {
        if (!OffsetPattern().IsMatch(offset) || !TryNext(offset, out string next))
        {
            return null;
        }
        try
        {
            var raw = Db.StringGetDeleteAsync(StreamOptions.SessionKeyPrefix + pid);
            var at = Db.StreamRangeAsync(StreamName, offset, offset);
            await Task.WhenAll(raw, at);
            if ((await raw).IsNullOrEmpty || (await at).Length == 0)
            {
                return null;
            }
            if (ReadSession(await raw) is not { } session)
            {
                Counters.Dropped("malformed");
                return null;
            }
            var (sid, rooms, data) = session;
            var missed = new List<EncodedPacket>();
            for (int call = 0; call < MaxRangeCalls; call++)
            {
                var entries = await Db.StreamRangeAsync(StreamName, next, "+", RangeCount);
                foreach (var entry in entries)
                {
                    if (MissedEvent(entry, rooms) is { } packet)
                    {
                        if (missed.Count == maxMissed)
                        {
                            return null;
                        }
                        missed.Add(packet);
                    }
                }
                if (entries.Length < RangeCount || !TryNext(entries[^1].Id.ToString(), out next))
                {
                    break;
                }
            }
            return new ClusterSession(sid, pid, rooms, data, missed);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            _cluster.LogRequestFailed(ex, "restoreSession");
            return null;
        }
    }

    /// <summary>The adapter's <c>nextOffset</c>: the id right after (exclusive ranges without Redis 6.2's syntax).</summary>
    private static bool TryNext(string offset, out string next)
    {
        next = "";
        int dash = offset.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || !ulong.TryParse(offset.AsSpan(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong seq) || seq == ulong.MaxValue)
        {
            return false;
        }
        next = string.Concat(offset.AsSpan(0, dash + 1), (seq + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return true;
    }

    private (string Sid, HashSet<string> Rooms, object? Data)? ReadSession(RedisValue raw)
    {
        try
        {
            byte[] bytes = Convert.FromBase64String(raw.ToString());
            var message = ClusterCodec.Decode(bytes, Options.MaxMessageBytes);
            if (message.String("sid") is not { Length: > 0 } sid || message.Root["rooms"] is not JsonArray)
            {
                return null;
            }
            var rooms = ClusterCodec.Rooms(message.Root["rooms"]);
            rooms.Add(sid);
            return (sid, rooms, message.Root["data"]?.DeepClone());
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>A broadcast entry of this namespace the session's rooms select (Node's <c>shouldIncludePacket</c>), with its offset.</summary>
    private EncodedPacket? MissedEvent(StreamEntry entry, HashSet<string> rooms)
    {
        if (StreamsHub.Field(entry.Values, "nsp") != Namespace || StreamsHub.Field(entry.Values, "type") != "3"
            || StreamsHub.ReadData(StreamsHub.Field(entry.Values, "data"), Options.MaxMessageBytes) is not { } decoded
            || decoded.Data?["packet"]?["data"] is not JsonArray data || data.Count == 0
            || decoded.Data["opts"] is not JsonObject opts)
        {
            return null;
        }
        var include = ClusterCodec.Rooms(opts["rooms"]);
        var except = ClusterCodec.Rooms(opts["except"]);
        bool selected = (include.Count == 0 || include.Overlaps(rooms)) && !except.Overlaps(rooms);
        return selected ? EncodeEvent(data, decoded.Attachments, entry.Id.ToString()) : null;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _cluster.StreamsHub?.Forget(this);
        _pending.ExpireAll();
        List<ChannelMessageQueue> all;
        lock (_queues)
        {
            all = [.. _queues];
            _queues.Clear();
        }
        foreach (var queue in all)
        {
            if (_cluster.Connection.IsConnected)
            {
                await queue.UnsubscribeAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private sealed class KeptSend(EncodedPacket packet, BroadcastTarget target)
    {
        public EncodedPacket Packet { get; } = packet;

        public BroadcastTarget Target { get; } = target;

        public string? Offset { get; set; }

        public bool Done { get; set; }
    }
}
