using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO.Recovery;

/// <summary>
/// Connection state recovery kept by the cluster instead of this process (socket.io-adapter's
/// <c>persistSession</c> / <c>restoreSession</c>, as the Redis streams adapter implements them): sessions and the
/// events they may miss live where every node reads them, so a client recovers on any node.
/// </summary>
internal interface IClusterRecovery
{
    /// <summary>
    /// A kept event (no offset yet): published, and delivered to this node's targets with the offset the cluster
    /// gave it appended as the last argument; delivered in the order of the calls.
    /// </summary>
    ValueTask BroadcastKeptAsync(EncodedPacket packet, BroadcastTarget target);

    /// <summary>Stores the session of a socket that dropped for a recoverable reason, for the recovery window.</summary>
    void PersistSession(string sid, string pid, IReadOnlyCollection<string> rooms, object? data, TimeSpan window);

    /// <summary>Takes the session <paramref name="pid"/> and the events it missed after <paramref name="offset"/>; null when it cannot be recovered.</summary>
    Task<ClusterSession?> RestoreSessionAsync(string pid, string offset, int maxMissed);
}

/// <summary>A session the cluster gave back: the socket's id, rooms and data, and the events it missed (with their offsets).</summary>
internal sealed record ClusterSession(string Sid, string Pid, IReadOnlyCollection<string> Rooms, object? Data, IReadOnlyList<EncodedPacket> Missed);

/// <summary>An adapter that may keep recovery state in the cluster (null: this process keeps it).</summary>
internal interface IClusterRecoverySource
{
    IClusterRecovery? ClusterRecovery { get; }
}
