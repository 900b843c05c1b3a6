namespace SocketIoSignal.SocketIO;

/// <summary>
/// Connection state recovery (Node's <c>connectionStateRecovery</c>): a protocol 5 client whose connection dropped
/// for a transport reason and that comes back within <see cref="MaxDisconnectionDuration"/> gets the same socket id,
/// its rooms, its <see cref="SocketIoSocket.Data"/> and the events emitted to it meanwhile. Bound from
/// <c>SocketIo:ConnectionStateRecovery</c>.
/// </summary>
public sealed class ConnectionStateRecoveryOptions
{
    /// <summary>
    /// How long a disconnected session, and the packets emitted while it is away, are kept (Node's
    /// <c>maxDisconnectionDuration</c>; Node's default once enabled is 2 minutes). Zero (the default) turns recovery
    /// off: no offsets on the wire, nothing kept.
    /// </summary>
    public TimeSpan MaxDisconnectionDuration { get; set; }

    /// <summary>Whether a recovered socket skips the namespace middlewares (Node's <c>skipMiddlewares</c>, default true).</summary>
    public bool SkipMiddlewares { get; set; } = true;

    /// <summary>
    /// The most packets one session may have missed and still be recovered (1000); a session that missed more gets a
    /// fresh session rather than a recovery with a gap.
    /// </summary>
    public int MaxPacketsPerSession { get; set; } = 1000;

    /// <summary>
    /// The most packets kept per namespace for recovery (100000); past it the oldest is dropped first, and a session
    /// that needed it gets a fresh session.
    /// </summary>
    public int MaxPackets { get; set; } = 100_000;

    /// <summary>The most disconnected sessions kept per namespace (100000); past it the longest-gone is dropped first.</summary>
    public int MaxSessions { get; set; } = 100_000;

    internal bool Enabled => MaxDisconnectionDuration > TimeSpan.Zero;
}
