using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;
using StackExchange.Redis;

namespace SocketIoSignal.Redis.Classic;

/// <summary>
/// The request/response protocol of <c>@socket.io/redis-adapter</c> 8.x for one namespace (classic mode). It
/// subscribes to <c>{prefix}-request#{nsp}#</c> — so the Node adapter's <c>PUBSUB NUMSUB</c> counts this node —
/// and to both response channels; answers requests of types 0–9 from <see cref="IClusterLocal"/>; and sends
/// the same requests for this node's cluster-wide calls, gathering answers until every node has answered or the
/// requests timeout passes (then with what arrived).
/// </summary>
internal sealed class ClassicRequests : IClusterRequests
{
    private readonly RedisCluster _cluster;
    private readonly IClusterLocal _local;
    private readonly PendingRequests _pending;
    private readonly List<ChannelMessageQueue> _queues = [];
    private int _remoteAcks;
    private int _disposed;

    public ClassicRequests(RedisCluster cluster, string nsp, IClusterLocal local)
    {
        _cluster = cluster;
        _local = local;
        Namespace = nsp;
        string prefix = cluster.Prefix;
        RequestChannel = prefix + "-request#" + nsp + "#";
        ResponseChannel = prefix + "-response#" + nsp + "#";
        SpecificResponseChannel = ResponseChannel + cluster.NodeId + "#";
        _pending = new PendingRequests(cluster.Time, cluster.Options.MaxPendingRequests);
        Subscribed = SubscribeAsync();
    }

    public string Namespace { get; }

    public string RequestChannel { get; }

    public string ResponseChannel { get; }

    public string SpecificResponseChannel { get; }

    /// <summary>Completes when the three channels are subscribed (faults when Redis was unreachable).</summary>
    public Task Subscribed { get; private set; }

    /// <summary>Requests of this node still waiting for answers.</summary>
    public int PendingCount => _pending.Count;

    private ClusterCounters Counters => _cluster.Counters;

    private RedisOptions Options => _cluster.Options;

    /// <summary>Subscribes again when the first attempt failed (Redis down at start); a no-op once subscribed.</summary>
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
        var subscriber = _cluster.Connection.GetSubscriber();
        foreach (var channel in new[] { RequestChannel, ResponseChannel, SpecificResponseChannel })
        {
            var queue = await subscriber.SubscribeAsync(RedisChannel.Literal(channel));
            queue.OnMessage(OnMessage);
            lock (_queues)
            {
                _queues.Add(queue);
            }
        }
    }

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
            var payload = (ReadOnlyMemory<byte>)message.Message;
            decoded = ClusterCodec.Decode(payload.Span, Options.MaxMessageBytes);
        }
        catch (FormatException ex)
        {
            Counters.Dropped("malformed");
            _cluster.LogDropped(ex, channel);
            return;
        }
        try
        {
            if (channel == RequestChannel)
            {
                OnRequest(decoded);
            }
            else
            {
                OnResponse(decoded);
            }
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or JsonException or ArgumentException)
        {
            // A well-formed object with fields of the wrong kind: the sender's problem, never this node's.
            Counters.Dropped("invalid");
            _cluster.LogDropped(ex, channel);
        }
    }

    // ---- answering other nodes ----

    private void OnRequest(ClusterMessage request)
    {
        if (request.Uid == _cluster.NodeId)
        {
            return;
        }
        int type = request.Type;
        string? requestId = request.RequestId;
        switch ((ClusterRequestType)type)
        {
            case ClusterRequestType.Sockets when requestId is not null:
                Respond(request, new JsonObject
                {
                    ["requestId"] = requestId,
                    ["sockets"] = ClusterCodec.RoomArray(_local.SocketIds(new BroadcastTarget(ClusterCodec.Rooms(request.Root["rooms"]), RoomSet.Empty))),
                });
                break;
            case ClusterRequestType.AllRooms when requestId is not null:
                Respond(request, new JsonObject { ["requestId"] = requestId, ["rooms"] = ClusterCodec.RoomArray(_local.Rooms()) });
                break;
            case ClusterRequestType.RemoteJoin:
            case ClusterRequestType.RemoteLeave:
            case ClusterRequestType.RemoteDisconnect:
                _ = MembershipAsync(request, (ClusterRequestType)type);
                break;
            case ClusterRequestType.RemoteFetch when requestId is not null:
                var sockets = new JsonArray();
                foreach (var socket in _local.FetchSockets(Target(request.Root["opts"])))
                {
                    sockets.Add(new JsonObject
                    {
                        ["id"] = socket.Id,
                        ["handshake"] = socket.Handshake,
                        ["rooms"] = ClusterCodec.RoomArray(socket.Rooms),
                        ["data"] = socket.Data,
                    });
                }
                Respond(request, new JsonObject { ["requestId"] = requestId, ["sockets"] = sockets });
                break;
            case ClusterRequestType.ServerSideEmit:
                if (!OnServerSideEmit(request, requestId))
                {
                    return;
                }
                break;
            case ClusterRequestType.Broadcast when requestId is not null:
                if (!OnBroadcastWithAck(request, requestId))
                {
                    return;
                }
                break;
            default:
                Counters.Dropped("unknown-request");
                return;
        }
        Counters.Answered((ClusterRequestType)type);
    }

    private async Task MembershipAsync(ClusterMessage request, ClusterRequestType type)
    {
        try
        {
            if (request.Root["opts"] is JsonObject)
            {
                var target = Target(request.Root["opts"]);
                var rooms = ClusterCodec.Rooms(request.Root["rooms"]);
                switch (type)
                {
                    case ClusterRequestType.RemoteJoin:
                        await _local.AddSocketsAsync(target, rooms);
                        break;
                    case ClusterRequestType.RemoteLeave:
                        await _local.DelSocketsAsync(target, rooms);
                        break;
                    default:
                        _local.DisconnectSockets(target, request.Root["close"] is JsonValue c && c.GetValueKind() == JsonValueKind.True);
                        break;
                }
                return;
            }
            // The older form: one socket by id; only the node that has it answers.
            string? sid = request.String("sid");
            string? room = request.String("room");
            if (sid is null)
            {
                return;
            }
            bool done = type switch
            {
                ClusterRequestType.RemoteJoin => room is not null && await _local.JoinAsync(sid, room),
                ClusterRequestType.RemoteLeave => room is not null && await _local.LeaveAsync(sid, room),
                _ => _local.Disconnect(sid, request.Root["close"] is JsonValue c && c.GetValueKind() == JsonValueKind.True),
            };
            if (done && request.RequestId is { } id)
            {
                Respond(request, new JsonObject { ["requestId"] = id });
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            _cluster.LogRequestFailed(ex, type.ToString());
        }
    }

    private bool OnServerSideEmit(ClusterMessage request, string? requestId)
    {
        if (request.Root["data"] is not JsonArray data || data.Count == 0)
        {
            Counters.Dropped("invalid");
            return false;
        }
        var args = (JsonArray)data.DeepClone();
        Action<JsonNode?>? ack = null;
        if (requestId is not null)
        {
            int called = 0;
            ack = answer =>
            {
                if (Interlocked.Exchange(ref called, 1) == 0)
                {
                    // Node's adapter answers a server-side emit on the shared response channel, always as JSON.
                    Publish(ResponseChannel, ClusterCodec.EncodeJson(new JsonObject
                    {
                        ["type"] = (int)ClusterRequestType.ServerSideEmit,
                        ["requestId"] = requestId,
                        ["data"] = answer?.DeepClone(),
                    }));
                }
            };
        }
        _local.OnServerSideEmit(args, ack);
        return true;
    }

    private bool OnBroadcastWithAck(ClusterMessage request, string requestId)
    {
        if (request.Root["packet"] is not JsonObject packet || packet["data"] is not JsonArray data || data.Count == 0
            || data[0] is not JsonValue name || name.GetValueKind() != JsonValueKind.String)
        {
            Counters.Dropped("invalid");
            return false;
        }
        var opts = request.Root["opts"];
        var timeout = Options.RequestsTimeout;
        if (opts?["flags"]?["timeout"] is JsonValue t && t.TryGetValue<double>(out double ms) && double.IsFinite(ms) && ms >= 0)
        {
            timeout = TimeSpan.FromMilliseconds(Math.Min(ms, Options.MaxRemoteAckTimeout.TotalMilliseconds));
        }
        // Each acknowledgement awaited here holds a socket's ack slot; past the limit this node sends to none
        // (it still counts itself, so the requester is not left waiting for this node).
        if (Interlocked.Increment(ref _remoteAcks) > Options.MaxPendingRequests)
        {
            Interlocked.Decrement(ref _remoteAcks);
            Counters.Dropped("ack-limit");
            RespondClientCount(request, requestId, 0);
            return true;
        }
        var args = EventArgs(data, request.Attachments);
        int count = _local.BroadcastWithAck(name.GetValue<string>(), args, Target(opts), timeout, answer =>
        {
            // Binary answers travel as MessagePack binary, as Node's parser writes a Buffer.
            var attachments = new List<ReadOnlyMemory<byte>>();
            var packet = ClusterBinary.Extract(answer, attachments);
            Respond(request, ClusterCodec.EncodeMessagePack(new JsonObject
            {
                ["type"] = (int)ClusterRequestType.BroadcastAck,
                ["requestId"] = requestId,
                ["packet"] = packet,
            }, attachments));
        });
        RespondClientCount(request, requestId, count);
        _ = ReleaseAfter(timeout);
        return true;

        async Task ReleaseAfter(TimeSpan delay)
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

    private void RespondClientCount(ClusterMessage request, string requestId, int count) =>
        Respond(request, new JsonObject
        {
            ["type"] = (int)ClusterRequestType.BroadcastClientCount,
            ["requestId"] = requestId,
            ["clientCount"] = count,
        });

    /// <summary>An event's arguments: JSON values with their binary parts restored (top-level ones as bytes).</summary>
    internal static object?[] EventArgs(JsonArray data, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        var args = new object?[data.Count - 1];
        for (int i = 1; i < data.Count; i++)
        {
            var item = data[i];
            if (item is JsonObject o && o["_placeholder"] is JsonValue p && p.GetValueKind() == JsonValueKind.True
                && o["num"] is JsonValue n && n.TryGetValue<int>(out int num) && num >= 0 && num < attachments.Count)
            {
                args[i - 1] = attachments[num].ToArray();
            }
            else
            {
                args[i - 1] = ClusterBinary.Restore(item, attachments);
            }
        }
        return args;
    }

    private void Respond(ClusterMessage request, JsonObject response) => Respond(request, ClusterCodec.EncodeJson(response));

    private void Respond(ClusterMessage request, byte[] response)
    {
        string channel = Options.PublishOnSpecificResponseChannel && request.Uid is { } uid
            ? ResponseChannel + uid + "#"
            : ResponseChannel;
        Publish(channel, response);
    }

    private void Publish(string channel, byte[] message)
    {
        try
        {
            _cluster.Database.Publish(RedisChannel.Literal(channel), message, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            _cluster.LogRequestFailed(ex, "publish");
        }
    }

    private static BroadcastTarget Target(JsonNode? opts) =>
        new(ClusterCodec.Rooms(opts?["rooms"]), ClusterCodec.Rooms(opts?["except"]));

    // ---- answers to this node's requests ----

    private void OnResponse(ClusterMessage response)
    {
        if (response.RequestId is not { } id || !_pending.TryAccept(id, response))
        {
            // Answers to other nodes' requests share the response channel: not an error, just not ours.
            Counters.Dropped("not-ours");
        }
    }

    // ---- this node's cluster-wide calls ----

    /// <summary>How many nodes serve this namespace: subscribers of its request channel (this node included).</summary>
    public async Task<int> ServerCountAsync()
    {
        var result = await _cluster.Database.ExecuteAsync("PUBSUB", "NUMSUB", RequestChannel);
        var items = (RedisResult[])result!;
        return items.Length >= 2 ? (int)(long)items[1] : 0;
    }

    public Task<ClusterAnswer<IReadOnlyList<string>>> AllRoomsAsync() =>
        GatherAsync(ClusterRequestType.AllRooms, new JsonObject(), "rooms", RoomOf, [.. _local.Rooms()]);

    public Task<ClusterAnswer<IReadOnlyList<string>>> SocketIdsAsync(IReadOnlySet<string> rooms) =>
        GatherAsync(ClusterRequestType.Sockets, new JsonObject { ["rooms"] = ClusterCodec.RoomArray(rooms) }, "sockets", RoomOf,
            [.. _local.SocketIds(new BroadcastTarget(rooms, RoomSet.Empty))]);

    public Task<ClusterAnswer<IReadOnlyList<RemoteSocketInfo>>> FetchSocketsAsync(BroadcastTarget target) =>
        GatherAsync(ClusterRequestType.RemoteFetch, new JsonObject { ["opts"] = Opts(target) }, "sockets", ReadSocket,
            [.. _local.FetchSockets(target)]);

    private async Task<ClusterAnswer<IReadOnlyList<T>>> GatherAsync<T>(ClusterRequestType type, JsonObject body, string field, Func<JsonNode, T?> read, List<T> local)
    {
        int numSub = await ServerCountAsync();
        if (numSub <= 1)
        {
            return new ClusterAnswer<IReadOnlyList<T>>(local, true, 1, 1);
        }
        string requestId = ClusterCodec.NewId();
        var request = new GatherRequest<T>(type, numSub, field, read, local);
        if (!_pending.TryAdd(requestId, request, Options.RequestsTimeout))
        {
            Counters.Dropped("request-limit");
            return new ClusterAnswer<IReadOnlyList<T>>(local, false, 1, numSub);
        }
        body["uid"] = _cluster.NodeId;
        body["requestId"] = requestId;
        body["type"] = (int)type;
        Publish(RequestChannel, ClusterCodec.EncodeJson(body));
        Counters.Sent(type);
        var answer = await request.Result.Task;
        if (!answer.Complete)
        {
            Counters.TimedOut(type);
        }
        return answer;
    }

    /// <summary>Sockets matching <paramref name="target"/> on every node join <paramref name="rooms"/>.</summary>
    public async Task AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        await _local.AddSocketsAsync(target, rooms);
        SendMembership(ClusterRequestType.RemoteJoin, target, new JsonObject { ["rooms"] = ClusterCodec.RoomArray(rooms) });
    }

    public async Task DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        await _local.DelSocketsAsync(target, rooms);
        SendMembership(ClusterRequestType.RemoteLeave, target, new JsonObject { ["rooms"] = ClusterCodec.RoomArray(rooms) });
    }

    public void DisconnectSockets(BroadcastTarget target, bool close)
    {
        _local.DisconnectSockets(target, close);
        SendMembership(ClusterRequestType.RemoteDisconnect, target, new JsonObject { ["close"] = close });
    }

    private void SendMembership(ClusterRequestType type, BroadcastTarget target, JsonObject body)
    {
        body["uid"] = _cluster.NodeId;
        body["type"] = (int)type;
        body["opts"] = Opts(target);
        Publish(RequestChannel, ClusterCodec.EncodeJson(body));
        Counters.Sent(type);
    }

    /// <summary>An event for the other nodes' server-side listeners; <paramref name="args"/> is <c>[event, ...args]</c>.</summary>
    public void ServerSideEmit(JsonArray args)
    {
        Publish(RequestChannel, ClusterCodec.EncodeJson(new JsonObject
        {
            ["uid"] = _cluster.NodeId,
            ["type"] = (int)ClusterRequestType.ServerSideEmit,
            ["data"] = args.DeepClone(),
        }));
        Counters.Sent(ClusterRequestType.ServerSideEmit);
    }

    /// <summary>A server-side emit that waits for one answer from each other node, or the requests timeout.</summary>
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
        Publish(RequestChannel, ClusterCodec.EncodeJson(new JsonObject
        {
            ["uid"] = _cluster.NodeId,
            ["requestId"] = requestId,
            ["type"] = (int)ClusterRequestType.ServerSideEmit,
            ["data"] = args.DeepClone(),
        }));
        Counters.Sent(ClusterRequestType.ServerSideEmit);
        var answer = await request.Result.Task;
        if (!answer.Complete)
        {
            Counters.TimedOut(ClusterRequestType.ServerSideEmit);
        }
        return answer;
    }

    /// <summary>
    /// The other nodes' half of an acknowledged broadcast of the server API: BROADCAST with a request id, whose
    /// BROADCAST_CLIENT_COUNT and BROADCAST_ACK answers go to the callbacks until <paramref name="timeout"/>.
    /// False (nothing sent) when this node already waits for as many requests as it may.
    /// </summary>
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

    /// <summary>BROADCAST with a request id, always MessagePack as the Node adapter sends it (the packet's ack id is not carried).</summary>
    private void PublishBroadcastRequest(string requestId, EncodedPacket packet, BroadcastTarget target, TimeSpan timeout)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        var w = new MessagePackWriter(buffer);
        w.WriteMapHeader(5);
        w.WriteString("uid"u8);
        w.WriteString(_cluster.NodeId);
        w.WriteString("requestId"u8);
        w.WriteString(requestId);
        w.WriteString("type"u8);
        w.WriteInteger((int)ClusterRequestType.Broadcast);
        w.WriteString("packet"u8);
        w.WriteMapHeader(4);
        w.WriteString("type"u8);
        w.WriteInteger(2);
        w.WriteString("data"u8);
        RedisWire.WriteData(ref w, packet);
        w.WriteString("nsp"u8);
        w.WriteString(Namespace);
        w.WriteString("id"u8);
        w.WriteInteger(0);
        w.WriteString("opts"u8);
        using (var opts = JsonSerializer.SerializeToDocument(OptsWithTimeout(target, timeout), ClusterCodec.Json))
        {
            RedisWire.WriteElement(ref w, opts.RootElement, []);
        }
        Publish(RequestChannel, buffer.WrittenSpan.ToArray());
        Counters.Sent(ClusterRequestType.Broadcast);
    }

    /// <summary>Classic broadcasts go out on the broadcast channels, which the cluster publishes itself.</summary>
    public void PublishBroadcast(EncodedPacket packet, BroadcastTarget target)
    {
        var message = RedisWire.EncodeBroadcast(_cluster.NodeId, Namespace, packet, target);
        _cluster.Publish(RedisChannel.Literal(RedisWire.Channel(_cluster.Prefix, Namespace, target)), message);
    }

    /// <summary>Classic mode receives every room through one pattern: nothing to subscribe per room.</summary>
    public void OnRoomCreated(string room)
    {
    }

    public void OnRoomDeleted(string room)
    {
    }

    internal static JsonObject Opts(BroadcastTarget target) => new()
    {
        ["rooms"] = ClusterCodec.RoomArray(target.Rooms),
        ["except"] = ClusterCodec.RoomArray(target.Except),
    };

    internal static JsonObject OptsWithTimeout(BroadcastTarget target, TimeSpan timeout)
    {
        var opts = Opts(target);
        opts["flags"] = new JsonObject { ["timeout"] = (long)timeout.TotalMilliseconds };
        return opts;
    }

    internal static string? RoomOf(JsonNode node) => node is JsonValue v
        ? v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.Number => v.ToJsonString(),
            _ => null,
        }
        : null;

    internal static RemoteSocketInfo? ReadSocket(JsonNode node)
    {
        if (node is not JsonObject o || o["id"] is not JsonValue id || id.GetValueKind() != JsonValueKind.String)
        {
            return null;
        }
        var rooms = new List<string>();
        if (o["rooms"] is JsonArray array)
        {
            foreach (var room in array)
            {
                if (room is not null && RoomOf(room) is { } name)
                {
                    rooms.Add(name);
                }
            }
        }
        return new RemoteSocketInfo(id.GetValue<string>(), o["handshake"] as JsonObject is { } h ? (JsonObject)h.DeepClone() : new JsonObject(),
            rooms, o["data"]?.DeepClone());
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _pending.ExpireAll();
        ChannelMessageQueue[] queues;
        lock (_queues)
        {
            queues = [.. _queues];
            _queues.Clear();
        }
        foreach (var queue in queues)
        {
            try
            {
                if (_cluster.Connection.IsConnected)
                {
                    await queue.UnsubscribeAsync().WaitAsync(TimeSpan.FromSeconds(2));
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                _cluster.LogRequestFailed(ex, "unsubscribe");
            }
        }
    }
}
