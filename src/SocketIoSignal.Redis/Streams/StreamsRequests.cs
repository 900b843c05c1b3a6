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
internal sealed partial class StreamsRequests : ClusterAdapterRequests, IClusterRecovery
{
    private const int MaxRangeCalls = 100;
    private const int RangeCount = 1000;

    private readonly InMemoryRoomAdapter _rooms;
    private readonly bool _recovery;
    private readonly Queue<KeptSend> _kept = new();

    public StreamsRequests(RedisCluster cluster, string nsp, IClusterLocal local, InMemoryRoomAdapter rooms, bool recovery)
        : base(cluster, nsp, local, cluster.Options.Streams.ChannelPrefix)
    {
        _rooms = rooms;
        _recovery = recovery;
        StreamName = StreamFor(nsp, cluster.Options.Streams);
        cluster.StreamsHub!.Register(this);
        StartSubscribing();
    }

    /// <summary>The stream this namespace's events go to.</summary>
    public string StreamName { get; }

    private RedisStreamsOptions StreamOptions => Cluster.Options.Streams;

    private IDatabase Db => Cluster.Database;

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

    protected override RedisChannel ChannelOf(string name) => StreamOptions.UseShardedPubSub ? RedisChannel.Sharded(name) : RedisChannel.Literal(name);

    // ---- receiving ----

    protected override void OnMessage(ClusterMessage message, string channel)
    {
        var data = message.Root["data"];
        if (data is not null and not JsonObject)
        {
            Counters.Dropped("invalid");
            return;
        }
        Handle(message.Uid, message.String("nsp"), message.Type, (JsonObject?)data, message.Attachments, null);
    }

    /// <summary>A stream entry of this namespace (the hub read it); <paramref name="offset"/> is its id.</summary>
    internal void OnStreamEntry(string uid, int type, JsonObject? data, IReadOnlyList<ReadOnlyMemory<byte>> attachments, string offset)
    {
        if (IsDisposed)
        {
            return;
        }
        try
        {
            Handle(uid, Namespace, type, data, attachments, offset);
        }
        catch (Exception ex) when (IsInvalid(ex))
        {
            DropInvalid(ex, StreamName);
        }
    }

    protected override void DeliverBroadcast(JsonObject packet, JsonObject opts, IReadOnlyList<ReadOnlyMemory<byte>> attachments, string? offset)
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
        Cluster.CountReceived();
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

    // ---- sending ----

    /// <summary>Requests that wait for answers, and answers: the whole message as MessagePack over Pub/Sub, as the Node adapter.</summary>
    protected override void Publish(string channel, ClusterMessageType type, JsonObject data, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        byte[] payload = ClusterCodec.EncodeMessagePack(Message(type, data), attachments);
        try
        {
            Db.Publish(ChannelOf(channel), payload, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            Cluster.LogRequestFailed(ex, "publish");
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
            new NameValueEntry("uid", Cluster.NodeId),
            new NameValueEntry("nsp", Namespace),
            new NameValueEntry("type", ((int)type).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new NameValueEntry("data", encoded),
        ];
    }

    private Task<RedisValue> AddAsync(NameValueEntry[] entry, CommandFlags flags = CommandFlags.None) =>
        Db.StreamAddAsync(StreamName, entry, maxLength: StreamOptions.MaxLen, useApproximateMaxLength: true, flags: flags);

    /// <summary>Joins, leaves and disconnects are stream entries.</summary>
    protected override void Announce(ClusterMessageType type, JsonObject data)
    {
        try
        {
            _ = AddAsync(Entry(type, data, []), CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            Cluster.LogRequestFailed(ex, "xadd");
        }
    }

    private JsonObject BroadcastData(EncodedPacket packet, BroadcastTarget target) =>
        BroadcastData(packet, target, target.Flags.Volatile ? new JsonObject { ["volatile"] = true } : new JsonObject());

    /// <summary>A broadcast without recovery: an entry for the other nodes; this node delivers its own part at once.</summary>
    public override void PublishBroadcast(EncodedPacket packet, BroadcastTarget target)
    {
        var data = BroadcastData(packet, target);
        try
        {
            _ = AddAsync(Entry(ClusterMessageType.Broadcast, data, packet.Attachments), CommandFlags.FireAndForget);
            Cluster.CountPublished();
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            Cluster.LogRequestFailed(ex, "xadd");
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
        var data = BroadcastData(packet, target);
        var send = new KeptSend(packet, target);
        Task<RedisValue> add;
        lock (_kept)
        {
            _kept.Enqueue(send);
            try
            {
                add = AddAsync(Entry(ClusterMessageType.Broadcast, data, packet.Attachments));
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
            {
                add = Task.FromException<RedisValue>(ex);
            }
        }
        Cluster.CountPublished();
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
            Cluster.LogRequestFailed(ex, "xadd");
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
    public override Task<int> ServerCountAsync() => SubscribersOnMastersAsync(StreamOptions.UseShardedPubSub ? "SHARDNUMSUB" : "NUMSUB");

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
            Cluster.LogRequestFailed(ex, "persistSession");
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
            Cluster.LogRequestFailed(ex, "restoreSession");
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

    protected override IEnumerable<Task<ChannelMessageQueue>> Release()
    {
        Cluster.StreamsHub?.Forget(this);
        return [];
    }

    private sealed class KeptSend(EncodedPacket packet, BroadcastTarget target)
    {
        public EncodedPacket Packet { get; } = packet;

        public BroadcastTarget Target { get; } = target;

        public string? Offset { get; set; }

        public bool Done { get; set; }
    }
}
