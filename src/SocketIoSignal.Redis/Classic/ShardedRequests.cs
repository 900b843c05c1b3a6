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
internal sealed class ShardedRequests : ClusterAdapterRequests
{
    private readonly InMemoryRoomAdapter _rooms;
    private readonly ShardedSubscriptionMode _mode;
    private readonly ConcurrentDictionary<string, Task<ChannelMessageQueue>> _dynamic = new(StringComparer.Ordinal);

    public ShardedRequests(RedisCluster cluster, string nsp, IClusterLocal local, InMemoryRoomAdapter rooms, ShardedSubscriptionMode mode)
        : base(cluster, nsp, local, cluster.Prefix)
    {
        _rooms = rooms;
        _mode = mode;
        StartSubscribing();
    }

    /// <summary>Room channels this node is subscribed to (dynamic modes).</summary>
    public int DynamicChannelCount => _dynamic.Count;

    protected override RedisChannel ChannelOf(string name) => RedisChannel.Sharded(name);

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

    public override void OnRoomCreated(string room)
    {
        if (!HasOwnChannel(room) || IsDisposed)
        {
            return;
        }
        _dynamic.GetOrAdd(room, r => SubscribeOneAsync(Channel + r + "#"));
    }

    public override void OnRoomDeleted(string room)
    {
        if (_dynamic.TryRemove(room, out var pending))
        {
            _ = UnsubscribeAsync(pending, "sunsubscribe");
        }
    }

    protected override IEnumerable<Task<ChannelMessageQueue>> Release()
    {
        List<Task<ChannelMessageQueue>> all = [.. _dynamic.Values];
        _dynamic.Clear();
        return all;
    }

    // ---- receiving ----

    protected override void OnMessage(ClusterMessage message, string channel) =>
        Handle(message.Uid, message.String("nsp"), message.Type, message.Root["data"] as JsonObject, message.Attachments, null);

    protected override void DeliverBroadcast(JsonObject packet, JsonObject opts, IReadOnlyList<ReadOnlyMemory<byte>> attachments, string? offset)
    {
        if (packet["data"] is not JsonArray data || opts["flags"]?["local"] is JsonValue l && l.GetValueKind() == JsonValueKind.True)
        {
            return;
        }
        var type = attachments.Count > 0 ? SocketIoPacketType.BinaryEvent : SocketIoPacketType.Event;
        string text = SocketIoEncoder.Header(type, Namespace, null, attachments.Count) + data.ToJsonString(ClusterCodec.Json);
        Cluster.CountReceived();
        _rooms.BroadcastAsync(new EncodedPacket(text, attachments), Target(opts));
    }

    /// <summary>The answer as it is, JSON (the sharded adapter's answers carry binary only for acknowledged broadcasts).</summary>
    protected override void RespondToServerSideEmit(string requesterUid, string requestId, JsonNode? answer) =>
        Respond(requesterUid, ClusterMessageType.ServerSideEmitResponse, new JsonObject { ["requestId"] = requestId, ["packet"] = answer?.DeepClone() });

    // ---- sending ----

    protected override void Publish(string channel, ClusterMessageType type, JsonObject data, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        var message = Message(type, data);
        // As the Node adapter: JSON unless the message carries binary, then MessagePack.
        byte[] payload = attachments.Count > 0 ? ClusterCodec.EncodeMessagePack(message, attachments) : ClusterCodec.EncodeJson(message);
        try
        {
            Cluster.Database.Publish(ChannelOf(channel), payload, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            Cluster.LogRequestFailed(ex, "spublish");
        }
    }

    protected override void Announce(ClusterMessageType type, JsonObject data) => Publish(Channel, type, data, []);

    public override void PublishBroadcast(EncodedPacket packet, BroadcastTarget target)
    {
        var data = BroadcastData(packet, target, new JsonObject());
        string channel = Channel;
        if (target.Rooms.Count == 1 && _mode != ShardedSubscriptionMode.Static)
        {
            string room = target.Rooms.First();
            if (_mode == ShardedSubscriptionMode.DynamicPrivate || !LooksLikeASocketId(room))
            {
                channel = Channel + room + "#";
            }
        }
        Publish(channel, ClusterMessageType.Broadcast, data, packet.Attachments);
        Cluster.CountPublished();
    }

    /// <summary>Subscribers of the namespace channel on every master (<c>PUBSUB SHARDNUMSUB</c>, summed).</summary>
    public override Task<int> ServerCountAsync() => SubscribersOnMastersAsync("SHARDNUMSUB");
}
