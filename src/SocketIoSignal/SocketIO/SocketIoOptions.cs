namespace SocketIoSignal.SocketIO;

/// <summary>Socket.IO options; bound from the "SocketIo" configuration section.</summary>
public sealed class SocketIoOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string Section = "SocketIo";

    /// <summary>
    /// Whether the socket.io-client browser bundle is served under the endpoint path (<c>/socket.io/socket.io.js</c>,
    /// <c>.min.js</c> and source maps), as Node's <c>serveClient</c> (on by default).
    /// </summary>
    public bool ServeClient { get; set; } = true;

    /// <summary>Which bundle <see cref="ServeClient"/> serves: <c>4.8.1</c> (default), <c>2.5.0</c> or <c>1.7.4</c>.</summary>
    public string ClientVersion { get; set; } = "4.8.1";

    /// <summary>How long a protocol 5 client may take to send its first CONNECT before the connection closes (<c>connectTimeout</c>, 45 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Binary attachments one packet may announce (the reference parser's default).</summary>
    public int MaxAttachments { get; set; } = 10;

    /// <summary>How deep the JSON of one packet may nest.</summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>How long announced attachments may take to arrive before the connection closes (10 s).</summary>
    public TimeSpan AttachmentTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Packets (events, acknowledgements, connects) one connection may send per second, on average; past it (and
    /// past <see cref="EventBurst"/>) packets are dropped and counted. 0 turns the limit off.
    /// </summary>
    public int MaxEventsPerSecond { get; set; } = 1000;

    /// <summary>Packets a connection may send at once above the rate; 0: twice <see cref="MaxEventsPerSecond"/>.</summary>
    public int EventBurst { get; set; }

    /// <summary>
    /// How long a connection may stay over the rate (its burst never half refilled) before it is disconnected
    /// (10 s); zero: never, packets are only dropped.
    /// </summary>
    public TimeSpan RateLimitDisconnectAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Connection state recovery (Node's <c>connectionStateRecovery</c>); off unless its duration is set.</summary>
    public ConnectionStateRecoveryOptions ConnectionStateRecovery { get; set; } = new();

    /// <summary>
    /// Acknowledgements one socket may wait for at once (its emits with acknowledgement and the acknowledged
    /// broadcasts that reach it); past it an emit with acknowledgement fails at once and an acknowledged broadcast
    /// leaves the socket out. Node has no such limit; this one bounds what a client that never answers can hold.
    /// </summary>
    public int MaxPendingAcks { get; set; } = 1000;

    /// <summary>
    /// Whether a child namespace of a parent (<see cref="SocketIoServer.Of(System.Text.RegularExpressions.Regex)"/>)
    /// is removed when its last socket leaves (Node's <c>cleanupEmptyChildNamespaces</c>; off by default).
    /// </summary>
    public bool CleanupEmptyChildNamespaces { get; set; }
}
