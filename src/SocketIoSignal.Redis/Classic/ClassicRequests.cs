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
internal sealed class ClassicRequests : ClusterRequests
{
    public ClassicRequests(RedisCluster cluster, string nsp, IClusterLocal local)
        : base(cluster, nsp, local)
    {
        string prefix = cluster.Prefix;
        RequestChannel = prefix + "-request#" + nsp + "#";
        ResponseChannel = prefix + "-response#" + nsp + "#";
        SpecificResponseChannel = ResponseChannel + cluster.NodeId + "#";
        StartSubscribing();
    }

    public string RequestChannel { get; }

    public string ResponseChannel { get; }

    public string SpecificResponseChannel { get; }

    protected override IEnumerable<string> FixedChannels => [RequestChannel, ResponseChannel, SpecificResponseChannel];

    protected override RedisChannel ChannelOf(string name) => RedisChannel.Literal(name);

    protected override void OnMessage(ClusterMessage message, string channel)
    {
        if (channel == RequestChannel)
        {
            OnRequest(message);
        }
        else if (message.RequestId is { } id)
        {
            Accept(id, message);
        }
        else
        {
            Counters.Dropped("not-ours");
        }
    }

    // ---- answering other nodes ----

    private void OnRequest(ClusterMessage request)
    {
        if (request.Uid == Cluster.NodeId)
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
                    ["sockets"] = ClusterCodec.RoomArray(Local.SocketIds(new BroadcastTarget(ClusterCodec.Rooms(request.Root["rooms"]), RoomSet.Empty))),
                });
                break;
            case ClusterRequestType.AllRooms when requestId is not null:
                Respond(request, new JsonObject { ["requestId"] = requestId, ["rooms"] = ClusterCodec.RoomArray(Local.Rooms()) });
                break;
            case ClusterRequestType.RemoteJoin:
            case ClusterRequestType.RemoteLeave:
            case ClusterRequestType.RemoteDisconnect:
                _ = MembershipAsync(request, (ClusterRequestType)type);
                break;
            case ClusterRequestType.RemoteFetch when requestId is not null:
                Respond(request, new JsonObject { ["requestId"] = requestId, ["sockets"] = SocketsJson(Target(request.Root["opts"])) });
                break;
            case ClusterRequestType.ServerSideEmit:
                if (!OnServerSideEmit(request, requestId))
                {
                    return;
                }
                break;
            case ClusterRequestType.Broadcast when requestId is not null:
                if (!AnswerBroadcastWithAck(request.Root["packet"], request.Root["opts"], request.Attachments,
                    count => Respond(request, new JsonObject
                    {
                        ["type"] = (int)ClusterRequestType.BroadcastClientCount,
                        ["requestId"] = requestId,
                        ["clientCount"] = count,
                    }),
                    answer =>
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
                    }))
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
                        await Local.AddSocketsAsync(target, rooms);
                        break;
                    case ClusterRequestType.RemoteLeave:
                        await Local.DelSocketsAsync(target, rooms);
                        break;
                    default:
                        Local.DisconnectSockets(target, request.Root["close"] is JsonValue c && c.GetValueKind() == JsonValueKind.True);
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
                ClusterRequestType.RemoteJoin => room is not null && await Local.JoinAsync(sid, room),
                ClusterRequestType.RemoteLeave => room is not null && await Local.LeaveAsync(sid, room),
                _ => Local.Disconnect(sid, request.Root["close"] is JsonValue c && c.GetValueKind() == JsonValueKind.True),
            };
            if (done && request.RequestId is { } id)
            {
                Respond(request, new JsonObject { ["requestId"] = id });
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Cluster.LogRequestFailed(ex, type.ToString());
        }
    }

    private bool OnServerSideEmit(ClusterMessage request, string? requestId)
    {
        if (request.Root["data"] is not JsonArray data || data.Count == 0)
        {
            Counters.Dropped("invalid");
            return false;
        }
        // Node's adapter answers a server-side emit on the shared response channel, always as JSON.
        Local.OnServerSideEmit((JsonArray)data.DeepClone(), AnswerOnce(requestId, answer => Publish(ResponseChannel, ClusterCodec.EncodeJson(new JsonObject
        {
            ["type"] = (int)ClusterRequestType.ServerSideEmit,
            ["requestId"] = requestId,
            ["data"] = answer?.DeepClone(),
        }))));
        return true;
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
            Cluster.Database.Publish(RedisChannel.Literal(channel), message, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            Cluster.LogRequestFailed(ex, "publish");
        }
    }

    // ---- this node's cluster-wide calls ----

    /// <summary>How many nodes serve this namespace: subscribers of its request channel (this node included).</summary>
    public override async Task<int> ServerCountAsync()
    {
        var result = await Cluster.Database.ExecuteAsync("PUBSUB", "NUMSUB", RequestChannel);
        var items = (RedisResult[])result!;
        return items.Length >= 2 ? (int)(long)items[1] : 0;
    }

    public override Task<ClusterAnswer<IReadOnlyList<string>>> AllRoomsAsync() =>
        GatherAsync(ClusterRequestType.AllRooms, new JsonObject(), "rooms", RoomOf, [.. Local.Rooms()]);

    public override Task<ClusterAnswer<IReadOnlyList<string>>> SocketIdsAsync(IReadOnlySet<string> rooms) =>
        GatherAsync(ClusterRequestType.Sockets, new JsonObject { ["rooms"] = ClusterCodec.RoomArray(rooms) }, "sockets", RoomOf,
            [.. Local.SocketIds(new BroadcastTarget(rooms, RoomSet.Empty))]);

    public override Task<ClusterAnswer<IReadOnlyList<RemoteSocketInfo>>> FetchSocketsAsync(BroadcastTarget target) =>
        GatherAsync(ClusterRequestType.RemoteFetch, new JsonObject { ["opts"] = Opts(target) }, "sockets", ReadSocket,
            [.. Local.FetchSockets(target)]);

    /// <summary>A request of <paramref name="body"/>'s fields and the request's own, JSON on the request channel.</summary>
    private Task<ClusterAnswer<IReadOnlyList<T>>> GatherAsync<T>(ClusterRequestType type, JsonObject body, string field, Func<JsonNode, T?> read, List<T> local) =>
        GatherAsync(type, field, read, local, requestId =>
        {
            body["uid"] = Cluster.NodeId;
            body["requestId"] = requestId;
            body["type"] = (int)type;
            Publish(RequestChannel, ClusterCodec.EncodeJson(body));
        });

    /// <summary>Sockets matching <paramref name="target"/> on every node join <paramref name="rooms"/>.</summary>
    public override async Task AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        await Local.AddSocketsAsync(target, rooms);
        SendMembership(ClusterRequestType.RemoteJoin, target, new JsonObject { ["rooms"] = ClusterCodec.RoomArray(rooms) });
    }

    public override async Task DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        await Local.DelSocketsAsync(target, rooms);
        SendMembership(ClusterRequestType.RemoteLeave, target, new JsonObject { ["rooms"] = ClusterCodec.RoomArray(rooms) });
    }

    public override void DisconnectSockets(BroadcastTarget target, bool close)
    {
        Local.DisconnectSockets(target, close);
        SendMembership(ClusterRequestType.RemoteDisconnect, target, new JsonObject { ["close"] = close });
    }

    private void SendMembership(ClusterRequestType type, BroadcastTarget target, JsonObject body)
    {
        body["uid"] = Cluster.NodeId;
        body["type"] = (int)type;
        body["opts"] = Opts(target);
        Publish(RequestChannel, ClusterCodec.EncodeJson(body));
        Counters.Sent(type);
    }

    /// <summary>An event for the other nodes' server-side listeners; <paramref name="args"/> is <c>[event, ...args]</c>.</summary>
    public override void ServerSideEmit(JsonArray args)
    {
        PublishServerSideEmit(args, null);
        Counters.Sent(ClusterRequestType.ServerSideEmit);
    }

    protected override void PublishServerSideEmit(JsonArray args, string? requestId)
    {
        var message = new JsonObject { ["uid"] = Cluster.NodeId };
        if (requestId is not null)
        {
            message["requestId"] = requestId;
        }
        message["type"] = (int)ClusterRequestType.ServerSideEmit;
        message["data"] = args.DeepClone();
        Publish(RequestChannel, ClusterCodec.EncodeJson(message));
    }

    /// <summary>BROADCAST with a request id, always MessagePack as the Node adapter sends it (the packet's ack id is not carried).</summary>
    protected override void PublishBroadcastRequest(string requestId, EncodedPacket packet, BroadcastTarget target, TimeSpan timeout)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        var w = new MessagePackWriter(buffer);
        w.WriteMapHeader(5);
        w.WriteString("uid"u8);
        w.WriteString(Cluster.NodeId);
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
    }

    /// <summary>Classic broadcasts go out on the broadcast channels, which the cluster publishes itself.</summary>
    public override void PublishBroadcast(EncodedPacket packet, BroadcastTarget target)
    {
        var message = RedisWire.EncodeBroadcast(Cluster.NodeId, Namespace, packet, target);
        Cluster.Publish(RedisChannel.Literal(RedisWire.Channel(Cluster.Prefix, Namespace, target)), message);
    }
}
