namespace SocketIoSignal.Redis;

/// <summary>The <c>Redis</c> section: where the shared rooms live and how nodes watch each other.</summary>
public sealed class RedisOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string Section = "Redis";

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c> or <c>redis.internal:6379,password=…</c>.</summary>
    public string Configuration { get; set; } = "";

    /// <summary>Time between this node's heartbeats (and its sweeps for dead nodes); 2 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a heartbeat lives: a node silent this long is dead and its members are purged; 6 s.</summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>Prefix of every key and channel; <c>socket.io</c> is the Node adapter's default.</summary>
    public string KeyPrefix { get; set; } = "socket.io";

    /// <summary>How long the first connection may take at start-up before the node starts without Redis; 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a cluster-wide request (fetch, all rooms, server-side emit with ack) waits for every node; 5 s, the Node adapter's <c>requestsTimeout</c>.</summary>
    public TimeSpan RequestsTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Answer on the requester's own response channel (<c>…-response#nsp#uid#</c>) instead of the shared one; false, as the Node adapter's <c>publishOnSpecificResponseChannel</c>.</summary>
    public bool PublishOnSpecificResponseChannel { get; set; }

    /// <summary>Requests of this node waiting for answers, and other nodes' acknowledged broadcasts waiting here, per namespace; beyond it they fail at once; 1000.</summary>
    public int MaxPendingRequests { get; set; } = 1000;

    /// <summary>The longest acknowledgement timeout another node's broadcast may ask this node to wait; 60 s.</summary>
    public TimeSpan MaxRemoteAckTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A request or response larger than this is dropped unread; 16 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 16 << 20;

    /// <summary>
    /// The protocol: <c>classic</c> (the default; <c>createAdapter</c>'s PUBLISH/SUBSCRIBE and requests),
    /// <c>sharded</c> (<c>createShardedAdapter</c>'s SPUBLISH/SSUBSCRIBE cluster messages, Redis 7 or later) or
    /// <c>streams</c> (<c>@socket.io/redis-streams-adapter</c>: events in a Redis stream, so connection state
    /// recovery works across nodes; see <see cref="Streams"/>).
    /// </summary>
    public string Mode { get; set; } = "classic";

    /// <summary>Sharded mode only: <c>static</c>, <c>dynamic</c> (the default) or <c>dynamic-private</c>, as <c>createShardedAdapter</c>'s <c>subscriptionMode</c>.</summary>
    public string SubscriptionMode { get; set; } = "dynamic";

    /// <summary>Streams mode only: the <c>Redis:Streams</c> section.</summary>
    public RedisStreamsOptions Streams { get; set; } = new();
}
