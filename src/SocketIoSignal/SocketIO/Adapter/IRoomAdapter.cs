using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO.Adapter;

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
