using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>
/// Rooms of one namespace: room → sockets and socket → rooms. Every socket is in the room named by its id.
/// Thread-safe. The in-memory adapter completes every call synchronously; a cluster adapter (Redis) may not,
/// and answers room sizes and joins for the whole cluster.
/// <para>
/// Every server utility goes through here, as in socket.io-adapter (<c>broadcast</c>, <c>broadcastWithAck</c>,
/// <c>fetchSockets</c>, <c>addSockets</c>, <c>delSockets</c>, <c>disconnectSockets</c>, <c>serverSideEmit</c>,
/// <c>serverCount</c>), so a cluster adapter makes each of them cluster-wide; a target with
/// <see cref="BroadcastFlags.Local"/> stays on this node.
/// </para>
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

    /// <summary>
    /// Delivers a packet that carries <see cref="BroadcastAck.Id"/> and has each reached socket wait for its
    /// client's answer (<see cref="SocketIoSocket.TryAwaitAck"/>); each server reports how many clients it reached
    /// (<see cref="BroadcastAck.ClientCount"/>), each answer goes to <see cref="BroadcastAck.Answer"/>.
    /// </summary>
    ValueTask BroadcastWithAckAsync(EncodedPacket packet, BroadcastTarget target, BroadcastAck ack);

    ValueTask<int> RoomSizeAsync(string room);

    ValueTask<IReadOnlyCollection<string>> SocketIdsAsync(BroadcastTarget target);

    /// <summary>The sockets the target names, with their handshake, rooms and data, on every node.</summary>
    ValueTask<IReadOnlyList<SocketDetails>> FetchSocketsAsync(BroadcastTarget target);

    /// <summary>Makes every socket the target names join <paramref name="rooms"/>, on every node.</summary>
    ValueTask AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms);

    /// <summary>Makes every socket the target names leave <paramref name="rooms"/>, on every node.</summary>
    ValueTask DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms);

    /// <summary>Disconnects every socket the target names, on every node; <paramref name="close"/>: their whole connection.</summary>
    ValueTask DisconnectSocketsAsync(BroadcastTarget target, bool close);

    /// <summary>
    /// Sends an event to the other servers' namespace of this name (never to this one). With
    /// <paramref name="ack"/>: tells it how many servers will answer (<see cref="ServerSideAck.Expect"/>), then
    /// each answer; the adapter bounds the wait.
    /// </summary>
    ValueTask ServerSideEmitAsync(string eventName, IReadOnlyList<object?> args, ServerSideAck? ack);

    /// <summary>How many servers share this namespace (1 in memory).</summary>
    ValueTask<int> ServerCountAsync();

    /// <summary>The sockets of this node the target names (no cluster traffic).</summary>
    IReadOnlyCollection<string> LocalSocketIds(BroadcastTarget target);

    /// <summary>The rooms this socket (a local one) is in.</summary>
    IReadOnlyCollection<string> RoomsOf(string socketId);

    /// <summary>Rooms with at least one member, known to this node (for counters and tests).</summary>
    int LocalRoomCount { get; }
}
