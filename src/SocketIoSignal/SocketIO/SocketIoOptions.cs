namespace SocketIoSignal.SocketIO;

/// <summary>Socket.IO options; bound from the "SocketIo" configuration section.</summary>
public sealed class SocketIoOptions
{
    public const string Section = "SocketIo";

    /// <summary>How long a protocol 5 client may take to send its first CONNECT before the connection closes (ms).</summary>
    public int ConnectTimeout { get; set; } = 45000;

    /// <summary>Binary attachments one packet may announce (the reference parser's default).</summary>
    public int MaxAttachments { get; set; } = 10;

    /// <summary>How deep the JSON of one packet may nest.</summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>How long announced attachments may take to arrive before the connection closes (ms).</summary>
    public int AttachmentTimeout { get; set; } = 10000;

    /// <summary>
    /// Packets (events, acknowledgements, connects) one connection may send per second, on average; past it (and
    /// past <see cref="EventBurst"/>) packets are dropped and counted. 0 turns the limit off.
    /// </summary>
    public int MaxEventsPerSecond { get; set; } = 1000;

    /// <summary>Packets a connection may send at once above the rate; 0: twice <see cref="MaxEventsPerSecond"/>.</summary>
    public int EventBurst { get; set; }

    /// <summary>
    /// How long (ms) a connection may stay over the rate (its burst never half refilled) before it is disconnected;
    /// 0: never, packets are only dropped.
    /// </summary>
    public int RateLimitDisconnectAfter { get; set; } = 10000;
}
