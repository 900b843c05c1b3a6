using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;
using StackExchange.Redis;

namespace SocketIoSignal.Redis.Classic;

/// <summary>
/// A namespace's cluster requests over some transport, what every protocol does the same way: subscribing (again
/// after a failure), reading and dropping messages, the table of requests waiting for answers (a request that
/// gathers one answer per node, complete or partial at the requests timeout), answering another node's
/// acknowledged broadcast within the acknowledgement limit, and sending this node's. What goes on the wire, and
/// on which channel, is each protocol's own (<see cref="ClassicRequests"/>, <see cref="ShardedRequests"/>,
/// <see cref="Streams.StreamsRequests"/>).
/// </summary>
internal abstract class ClusterRequests : IClusterRequests
{
    private readonly List<ChannelMessageQueue> _queues = [];
    private int _remoteAcks;
    private int _disposed;

    protected ClusterRequests(RedisCluster cluster, string nsp, IClusterLocal local)
    {
        Cluster = cluster;
        Local = local;
        Namespace = nsp;
        Pending = new PendingRequests(cluster.Time, cluster.Options.MaxPendingRequests);
        Subscribed = Task.CompletedTask;
    }

    public string Namespace { get; }

    /// <summary>Completes when this node's channels are subscribed (faults when Redis was unreachable).</summary>
    public Task Subscribed { get; private set; }

    /// <summary>Requests of this node still waiting for answers.</summary>
    public int PendingCount => Pending.Count;

    protected RedisCluster Cluster { get; }

    protected IClusterLocal Local { get; }

    protected PendingRequests Pending { get; }

    protected ClusterCounters Counters => Cluster.Counters;

    protected RedisOptions Options => Cluster.Options;

    protected bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The channels subscribed from the start, in order.</summary>
    protected abstract IEnumerable<string> FixedChannels { get; }

    /// <summary>A channel of this protocol (classic, sharded or as configured).</summary>
    protected abstract RedisChannel ChannelOf(string name);

    /// <summary>A message read from one of this node's channels, decoded.</summary>
    protected abstract void OnMessage(ClusterMessage message, string channel);

    /// <summary>A server-side emit, with the request id when it waits for answers.</summary>
    protected abstract void PublishServerSideEmit(JsonArray args, string? requestId);

    /// <summary>BROADCAST with a request id, as this protocol sends a request that waits for answers.</summary>
    protected abstract void PublishBroadcastRequest(string requestId, EncodedPacket packet, BroadcastTarget target, TimeSpan timeout);

    public abstract Task<int> ServerCountAsync();

    public abstract Task<ClusterAnswer<IReadOnlyList<string>>> AllRoomsAsync();

    public abstract Task<ClusterAnswer<IReadOnlyList<string>>> SocketIdsAsync(IReadOnlySet<string> rooms);

    public abstract Task<ClusterAnswer<IReadOnlyList<RemoteSocketInfo>>> FetchSocketsAsync(BroadcastTarget target);

    public abstract Task AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms);

    public abstract Task DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms);

    public abstract void DisconnectSockets(BroadcastTarget target, bool close);

    public abstract void ServerSideEmit(JsonArray args);

    public abstract void PublishBroadcast(EncodedPacket packet, BroadcastTarget target);

    /// <summary>A room got its first local member; nothing to do unless the protocol subscribes per room.</summary>
    public virtual void OnRoomCreated(string room)
    {
    }

    /// <summary>A room lost its last local member.</summary>
    public virtual void OnRoomDeleted(string room)
    {
    }

    // ---- subscribing ----

    /// <summary>Called last by a protocol's constructor, once its channel names are set.</summary>
    protected void StartSubscribing() => Subscribed = SubscribeAsync();

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
        foreach (var channel in FixedChannels)
        {
            var queue = await SubscribeOneAsync(channel);
            lock (_queues)
            {
                _queues.Add(queue);
            }
        }
    }

    protected async Task<ChannelMessageQueue> SubscribeOneAsync(string channel)
    {
        var queue = await Cluster.Connection.GetSubscriber().SubscribeAsync(ChannelOf(channel));
        queue.OnMessage(OnChannelMessage);
        return queue;
    }

    protected async Task UnsubscribeAsync(Task<ChannelMessageQueue> pending, string what)
    {
        try
        {
            var queue = await pending;
            await queue.UnsubscribeAsync();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Cluster.LogRequestFailed(ex, what);
        }
    }

    // ---- receiving ----

    private void OnChannelMessage(ChannelMessage message)
    {
        if (IsDisposed)
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
            Cluster.LogDropped(ex, channel);
            return;
        }
        try
        {
            OnMessage(decoded, channel);
        }
        catch (Exception ex) when (IsInvalid(ex))
        {
            DropInvalid(ex, channel);
        }
    }

    /// <summary>A well-formed message with fields of the wrong kind: the sender's problem, never this node's.</summary>
    protected static bool IsInvalid(Exception ex) => ex is FormatException or InvalidOperationException or JsonException or ArgumentException;

    protected void DropInvalid(Exception ex, string source)
    {
        Counters.Dropped("invalid");
        Cluster.LogDropped(ex, source);
    }

    /// <summary>Routes an answer to the request of this node that waits for it.</summary>
    protected void Accept(string requestId, ClusterMessage response)
    {
        if (!Pending.TryAccept(requestId, response))
        {
            // Answers to other nodes' requests may share the channel: not an error, just not ours.
            Counters.Dropped("not-ours");
        }
    }

    // ---- answering other nodes ----

    /// <summary>This node's sockets a FETCH selects, as the answer carries them.</summary>
    protected JsonArray SocketsJson(BroadcastTarget target)
    {
        var sockets = new JsonArray();
        foreach (var socket in Local.FetchSockets(target))
        {
            sockets.Add(new JsonObject
            {
                ["id"] = socket.Id,
                ["handshake"] = socket.Handshake,
                ["rooms"] = ClusterCodec.RoomArray(socket.Rooms),
                ["data"] = socket.Data,
            });
        }
        return sockets;
    }

    /// <summary>The acknowledgement of a server-side emit that waits for one (a request id): it answers once.</summary>
    protected static Action<JsonNode?>? AnswerOnce(string? requestId, Action<JsonNode?> respond)
    {
        if (requestId is null)
        {
            return null;
        }
        int called = 0;
        return answer =>
        {
            if (Interlocked.Exchange(ref called, 1) == 0)
            {
                respond(answer);
            }
        };
    }

    /// <summary>
    /// Another node's acknowledged broadcast: delivered to this node's targets, its client count and each client's
    /// answer sent back through the callbacks. False (dropped) when the packet is not a named event.
    /// </summary>
    protected bool AnswerBroadcastWithAck(JsonNode? packetNode, JsonNode? opts, IReadOnlyList<ReadOnlyMemory<byte>> attachments, Action<int> respondClientCount, Action<JsonNode?> respondAck)
    {
        if (packetNode is not JsonObject packet || packet["data"] is not JsonArray data || data.Count == 0
            || data[0] is not JsonValue name || name.GetValueKind() != JsonValueKind.String)
        {
            Counters.Dropped("invalid");
            return false;
        }
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
            respondClientCount(0);
            return true;
        }
        int count = Local.BroadcastWithAck(name.GetValue<string>(), EventArgs(data, attachments), Target(opts), timeout, respondAck);
        respondClientCount(count);
        _ = ReleaseAfter(timeout);
        return true;

        async Task ReleaseAfter(TimeSpan delay)
        {
            try
            {
                await Task.Delay(delay, Cluster.Time);
            }
            finally
            {
                Interlocked.Decrement(ref _remoteAcks);
            }
        }
    }

    // ---- this node's requests ----

    /// <summary>
    /// One answer per node (SOCKETS, ALL_ROOMS, FETCH): this node's part is the first; complete when as many nodes
    /// as <see cref="ServerCountAsync"/> counts answered, else partial at the requests timeout.
    /// </summary>
    protected async Task<ClusterAnswer<IReadOnlyList<T>>> GatherAsync<T>(ClusterRequestType type, string field, Func<JsonNode, T?> read, List<T> local, Action<string> send)
    {
        int servers = await ServerCountAsync();
        if (servers <= 1)
        {
            return new ClusterAnswer<IReadOnlyList<T>>(local, true, 1, 1);
        }
        return await RequestAsync(type, new GatherRequest<T>(type, servers, field, read, local), new ClusterAnswer<IReadOnlyList<T>>(local, false, 1, servers), send);
    }

    /// <summary>A server-side emit that waits for one answer from each other node, or the requests timeout.</summary>
    public async Task<ClusterAnswer<IReadOnlyList<JsonNode?>>> ServerSideEmitWithAckAsync(JsonArray args)
    {
        int others = await ServerCountAsync() - 1;
        if (others <= 0)
        {
            return new ClusterAnswer<IReadOnlyList<JsonNode?>>([], true, 0, 0);
        }
        return await RequestAsync(ClusterRequestType.ServerSideEmit, new ServerSideEmitRequest(others),
            new ClusterAnswer<IReadOnlyList<JsonNode?>>([], false, 0, others), id => PublishServerSideEmit(args, id));
    }

    /// <summary>Registers <paramref name="request"/> under a new id, sends it, and waits for its answer.</summary>
    private async Task<ClusterAnswer<IReadOnlyList<T>>> RequestAsync<T>(ClusterRequestType type, PendingRequest<T> request, ClusterAnswer<IReadOnlyList<T>> whenFull, Action<string> send)
    {
        string requestId = ClusterCodec.NewId();
        if (!Pending.TryAdd(requestId, request, Options.RequestsTimeout))
        {
            Counters.Dropped("request-limit");
            return whenFull;
        }
        send(requestId);
        Counters.Sent(type);
        var answer = await request.Result.Task;
        if (!answer.Complete)
        {
            Counters.TimedOut(type);
        }
        return answer;
    }

    /// <summary>
    /// The other nodes' half of an acknowledged broadcast of the server API: BROADCAST with a request id, whose
    /// client counts and acknowledgements go to the callbacks until <paramref name="done"/> or <paramref name="timeout"/>.
    /// False (nothing sent) when this node already waits for as many requests as it may.
    /// </summary>
    public bool PublishBroadcastWithAck(EncodedPacket packet, BroadcastTarget target, TimeSpan timeout, Task done, Action<int> onClientCount, Action<JsonNode?> onAck)
    {
        string requestId = ClusterCodec.NewId();
        if (!Pending.TryAddUntil(requestId, new ForwardedAckRequest(onClientCount, onAck), timeout, done))
        {
            Counters.Dropped("request-limit");
            return false;
        }
        PublishBroadcastRequest(requestId, packet, target, timeout);
        Counters.Sent(ClusterRequestType.Broadcast);
        return true;
    }

    // ---- the shared wire pieces ----

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

    protected static BroadcastTarget Target(JsonNode? opts) =>
        new(ClusterCodec.Rooms(opts?["rooms"]), ClusterCodec.Rooms(opts?["except"]));

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

    // ---- leaving ----

    /// <summary>Subscriptions beside the fixed channels to end at disposal (and whatever else the protocol lets go of).</summary>
    protected virtual IEnumerable<Task<ChannelMessageQueue>> Release() => [];

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        List<Task<ChannelMessageQueue>> all = [.. Release()];
        Pending.ExpireAll();
        lock (_queues)
        {
            all.AddRange(_queues.Select(Task.FromResult));
            _queues.Clear();
        }
        foreach (var queue in all)
        {
            if (Cluster.Connection.IsConnected)
            {
                await UnsubscribeAsync(queue, "unsubscribe").WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
