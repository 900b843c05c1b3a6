using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;
using StackExchange.Redis;

namespace SocketIoSignal.Redis.Classic;

/// <summary>
/// socket.io-adapter's ClusterAdapter messages (<c>{uid, nsp, type, data}</c>, types 1–13) for one namespace, as
/// both the sharded adapter and the streams adapter exchange them: requests that wait for answers on the
/// namespace channel <c>{prefix}#{nsp}#</c>, answers on the requester's <c>{prefix}#{nsp}#{uid}#</c>. How a
/// message is encoded and carried, and where broadcasts and membership changes go, is each one's own
/// (<see cref="ShardedRequests"/>, <see cref="Streams.StreamsRequests"/>).
/// </summary>
internal abstract class ClusterAdapterRequests : ClusterRequests
{
    protected ClusterAdapterRequests(RedisCluster cluster, string nsp, IClusterLocal local, string channelPrefix)
        : base(cluster, nsp, local)
    {
        Channel = channelPrefix + "#" + nsp + "#";
        ResponseChannel = Channel + cluster.NodeId + "#";
    }

    /// <summary>The namespace's channel: requests that wait for answers (and in sharded mode, broadcasts).</summary>
    public string Channel { get; }

    public string ResponseChannel { get; }

    protected override IEnumerable<string> FixedChannels => [Channel, ResponseChannel];

    /// <summary>A message on a channel (requests that wait for answers, and answers), encoded as the protocol does.</summary>
    protected abstract void Publish(string channel, ClusterMessageType type, JsonObject data, IReadOnlyList<ReadOnlyMemory<byte>> attachments);

    /// <summary>A membership change for every node (SOCKETS_JOIN, SOCKETS_LEAVE, DISCONNECT_SOCKETS), where the protocol sends it.</summary>
    protected abstract void Announce(ClusterMessageType type, JsonObject data);

    /// <summary>A broadcast without acknowledgements, for this node's targets; <paramref name="offset"/> is its stream entry's id, if any.</summary>
    protected abstract void DeliverBroadcast(JsonObject packet, JsonObject opts, IReadOnlyList<ReadOnlyMemory<byte>> attachments, string? offset);

    protected JsonObject Message(ClusterMessageType type, JsonObject data) => new()
    {
        ["uid"] = Cluster.NodeId,
        ["nsp"] = Namespace,
        ["type"] = (int)type,
        ["data"] = data,
    };

    // ---- receiving ----

    protected void Handle(string? uid, string? nsp, int type, JsonObject? data, IReadOnlyList<ReadOnlyMemory<byte>> attachments, string? offset)
    {
        if (uid == Cluster.NodeId)
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
                // Heartbeats of adapters that count nodes by them; this protocol counts subscribers instead.
                return;
            case ClusterMessageType.Broadcast when packetNode is JsonObject packet && opts is not null:
                if (requestId is null)
                {
                    DeliverBroadcast(packet, opts, attachments, offset);
                }
                else
                {
                    AnswerBroadcastWithAck(packet, opts, attachments,
                        count => Respond(uid, ClusterMessageType.BroadcastClientCount, new JsonObject { ["requestId"] = requestId, ["clientCount"] = count }),
                        answer => RespondWithPacket(uid, ClusterMessageType.BroadcastAck, requestId, answer));
                }
                break;
            case ClusterMessageType.SocketsJoin when opts is not null:
                _ = Guard(Local.AddSocketsAsync(Target(opts), ClusterCodec.Rooms(data!["rooms"])).AsTask());
                break;
            case ClusterMessageType.SocketsLeave when opts is not null:
                _ = Guard(Local.DelSocketsAsync(Target(opts), ClusterCodec.Rooms(data!["rooms"])).AsTask());
                break;
            case ClusterMessageType.DisconnectSockets when opts is not null:
                Local.DisconnectSockets(Target(opts), data!["close"] is JsonValue c && c.GetValueKind() == JsonValueKind.True);
                break;
            case ClusterMessageType.FetchSockets when opts is not null && requestId is not null:
                Respond(uid, ClusterMessageType.FetchSocketsResponse, new JsonObject { ["requestId"] = requestId, ["sockets"] = SocketsJson(Target(opts)) });
                break;
            case ClusterMessageType.ServerSideEmit when packetNode is JsonArray args && args.Count > 0:
                Local.OnServerSideEmit((JsonArray)args.DeepClone(), AnswerOnce(requestId, answer => RespondToServerSideEmit(uid, requestId!, answer)));
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
            Cluster.LogRequestFailed(ex, "membership");
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
        Accept(requestId, new ClusterMessage(view, attachments));
    }

    // ---- answering ----

    protected void Respond(string requesterUid, ClusterMessageType type, JsonObject data) =>
        Publish(Channel + requesterUid + "#", type, data, []);

    /// <summary>An answer carrying a client's or a server's value, its binary parts as MessagePack binary, as Node sends Buffers.</summary>
    protected void RespondWithPacket(string requesterUid, ClusterMessageType type, string requestId, JsonNode? answer)
    {
        var binary = new List<ReadOnlyMemory<byte>>();
        var packet = ClusterBinary.Extract(answer, binary);
        Publish(Channel + requesterUid + "#", type, new JsonObject { ["requestId"] = requestId, ["packet"] = packet }, binary);
    }

    /// <summary>SERVER_SIDE_EMIT_RESPONSE to a server-side emit that waits for answers.</summary>
    protected virtual void RespondToServerSideEmit(string requesterUid, string requestId, JsonNode? answer) =>
        RespondWithPacket(requesterUid, ClusterMessageType.ServerSideEmitResponse, requestId, answer);

    // ---- this node's calls ----

    /// <summary>Subscribers of the namespace channel on every master (<c>PUBSUB {what}</c>, summed).</summary>
    protected async Task<int> SubscribersOnMastersAsync(string what)
    {
        int total = 0;
        foreach (var server in Cluster.Connection.GetServers())
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

    /// <summary>
    /// The cluster adapter has no request for every room; the rooms of every socket (FETCH_SOCKETS, which Node's
    /// nodes answer too) are the same set: a room exists while it has a member.
    /// </summary>
    public override async Task<ClusterAnswer<IReadOnlyList<string>>> AllRoomsAsync()
    {
        var fetched = await FetchSocketsAsync(BroadcastTarget.All);
        var rooms = new HashSet<string>(Local.Rooms(), StringComparer.Ordinal);
        foreach (var socket in fetched.Value)
        {
            rooms.UnionWith(socket.Rooms);
        }
        return new ClusterAnswer<IReadOnlyList<string>>([.. rooms], fetched.Complete, fetched.Answered, fetched.Expected);
    }

    /// <summary>Through FETCH_SOCKETS, as the cluster adapter answers <c>allSockets</c>.</summary>
    public override async Task<ClusterAnswer<IReadOnlyList<string>>> SocketIdsAsync(IReadOnlySet<string> rooms)
    {
        var fetched = await FetchSocketsAsync(new BroadcastTarget(rooms, RoomSet.Empty));
        return new ClusterAnswer<IReadOnlyList<string>>([.. fetched.Value.Select(s => s.Id)], fetched.Complete, fetched.Answered, fetched.Expected);
    }

    public override Task<ClusterAnswer<IReadOnlyList<RemoteSocketInfo>>> FetchSocketsAsync(BroadcastTarget target) =>
        GatherAsync(ClusterRequestType.RemoteFetch, "sockets", ReadSocket, [.. Local.FetchSockets(target)],
            requestId => Publish(Channel, ClusterMessageType.FetchSockets, new JsonObject { ["opts"] = Opts(target), ["requestId"] = requestId }, []));

    public override async Task AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        Announce(ClusterMessageType.SocketsJoin, new JsonObject { ["opts"] = Opts(target), ["rooms"] = ClusterCodec.RoomArray(rooms) });
        await Local.AddSocketsAsync(target, rooms);
    }

    public override async Task DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms)
    {
        Announce(ClusterMessageType.SocketsLeave, new JsonObject { ["opts"] = Opts(target), ["rooms"] = ClusterCodec.RoomArray(rooms) });
        await Local.DelSocketsAsync(target, rooms);
    }

    public override void DisconnectSockets(BroadcastTarget target, bool close)
    {
        Announce(ClusterMessageType.DisconnectSockets, new JsonObject { ["opts"] = Opts(target), ["close"] = close });
        Local.DisconnectSockets(target, close);
    }

    public override void ServerSideEmit(JsonArray args) => PublishServerSideEmit(args, null);

    protected override void PublishServerSideEmit(JsonArray args, string? requestId) =>
        Publish(Channel, ClusterMessageType.ServerSideEmit, requestId is null
            ? new JsonObject { ["packet"] = args.DeepClone() }
            : new JsonObject { ["requestId"] = requestId, ["packet"] = args.DeepClone() }, []);

    /// <summary>Never on a room's channel: every node counted on the namespace channel must answer.</summary>
    protected override void PublishBroadcastRequest(string requestId, EncodedPacket packet, BroadcastTarget target, TimeSpan timeout) =>
        Publish(Channel, ClusterMessageType.Broadcast, new JsonObject
        {
            ["packet"] = ClusterCodec.PacketJson(packet, Namespace),
            ["requestId"] = requestId,
            ["opts"] = OptsWithTimeout(target, timeout),
        }, packet.Attachments);

    /// <summary>A broadcast's data: the packet as JSON and the target, with the given flags.</summary>
    protected JsonObject BroadcastData(EncodedPacket packet, BroadcastTarget target, JsonObject flags)
    {
        var opts = Opts(target);
        opts["flags"] = flags;
        return new JsonObject
        {
            ["packet"] = ClusterCodec.PacketJson(packet, Namespace),
            ["opts"] = opts,
        };
    }
}
