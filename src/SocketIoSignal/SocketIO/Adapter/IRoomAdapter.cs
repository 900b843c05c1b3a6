using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>Which sockets a broadcast reaches: those in any of <see cref="Rooms"/> (all when empty), less those in any of <see cref="Except"/>.</summary>
internal sealed record BroadcastTarget(IReadOnlySet<string> Rooms, IReadOnlySet<string> Except)
{
    public static readonly BroadcastTarget All = new(RoomSet.Empty, RoomSet.Empty);
}

/// <summary>The outcome of an atomic capacity-bounded join.</summary>
/// <param name="CountBefore">Members of the room just before the join (the joiner included if it was one).</param>
/// <param name="Joined">Whether the socket is now a member.</param>
/// <param name="WasMember">Whether it already was.</param>
internal readonly record struct RoomJoin(int CountBefore, bool Joined, bool WasMember);

/// <summary>Where an adapter delivers packets to sockets of this process.</summary>
internal interface ILocalDelivery
{
    /// <summary>Sends one encoded packet to each of these local sockets (encoded once, sent to many).</summary>
    void Deliver(IEnumerable<string> socketIds, EncodedPacket packet);

    /// <summary>The sockets connected to this process, by id.</summary>
    IEnumerable<string> LocalSocketIds { get; }
}

/// <summary>
/// Rooms of one namespace: room → sockets and socket → rooms. Every socket is in the room named by its id.
/// Thread-safe. The in-memory adapter completes every call synchronously; a cluster adapter (Redis) may not,
/// and answers room sizes and joins for the whole cluster.
/// </summary>
internal interface IRoomAdapter : IAsyncDisposable
{
    ValueTask AddAllAsync(string socketId, IReadOnlyCollection<string> rooms);

    ValueTask DeleteAsync(string socketId, string room);

    /// <summary>Removes the socket from every room (it is leaving).</summary>
    ValueTask DeleteAllAsync(string socketId);

    /// <summary>Atomically: counts the room and joins it when the count is below <paramref name="capacity"/>.</summary>
    ValueTask<RoomJoin> JoinIfBelowAsync(string socketId, string room, int capacity);

    /// <summary>Delivers the packet to every socket the target names, on every node.</summary>
    ValueTask BroadcastAsync(EncodedPacket packet, BroadcastTarget target);

    ValueTask<int> RoomSizeAsync(string room);

    ValueTask<IReadOnlyCollection<string>> SocketIdsAsync(BroadcastTarget target);

    /// <summary>The rooms this socket (a local one) is in.</summary>
    IReadOnlyCollection<string> RoomsOf(string socketId);

    /// <summary>Rooms with at least one member, known to this node (for counters and tests).</summary>
    int LocalRoomCount { get; }
}

/// <summary>Makes the adapter of each namespace.</summary>
internal interface IRoomAdapterFactory
{
    IRoomAdapter Create(string namespaceName, ILocalDelivery delivery);
}
