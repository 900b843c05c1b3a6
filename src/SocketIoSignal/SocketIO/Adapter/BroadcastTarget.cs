namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>Which sockets a broadcast reaches: those in any of <see cref="Rooms"/> (all when empty), less those in any of <see cref="Except"/>.</summary>
internal sealed record BroadcastTarget(IReadOnlySet<string> Rooms, IReadOnlySet<string> Except)
{
    public static readonly BroadcastTarget All = new(RoomSet.Empty, RoomSet.Empty);

    /// <summary>How the packet is sent (Node's <c>opts.flags</c>); <see cref="BroadcastFlags.Local"/>: this node only.</summary>
    public BroadcastFlags Flags { get; init; }
}
