using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Redis.Classic;

/// <summary>
/// The cluster-wide calls of one namespace, whichever wire protocol carries them: the classic adapter's requests
/// (<see cref="ClassicRequests"/>) or the sharded adapter's cluster messages (<see cref="ShardedRequests"/>).
/// </summary>
internal interface IClusterRequests : IAsyncDisposable
{
    /// <summary>Completes when this node's channels are subscribed.</summary>
    Task Subscribed { get; }

    int PendingCount { get; }

    Task EnsureSubscribedAsync();

    Task<int> ServerCountAsync();

    Task<ClusterAnswer<IReadOnlyList<string>>> AllRoomsAsync();

    Task<ClusterAnswer<IReadOnlyList<string>>> SocketIdsAsync(IReadOnlySet<string> rooms);

    Task<ClusterAnswer<IReadOnlyList<RemoteSocketInfo>>> FetchSocketsAsync(BroadcastTarget target);

    Task AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms);

    Task DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms);

    void DisconnectSockets(BroadcastTarget target, bool close);

    void ServerSideEmit(JsonArray args);

    Task<ClusterAnswer<IReadOnlyList<JsonNode?>>> ServerSideEmitWithAckAsync(JsonArray args);

    /// <summary>
    /// The other nodes' half of an acknowledged broadcast (this node delivers its own part itself): each node's
    /// client count and each client's answer go to the callbacks until <paramref name="done"/> completes or
    /// <paramref name="timeout"/> passes. False when nothing was sent (this node waits for as many requests as it may).
    /// </summary>
    bool PublishBroadcastWithAck(EncodedPacket packet, BroadcastTarget target, TimeSpan timeout, Task done, Action<int> onClientCount, Action<JsonNode?> onAck);

    /// <summary>Publishes a broadcast for the other nodes (this node delivers its own part itself).</summary>
    void PublishBroadcast(EncodedPacket packet, BroadcastTarget target);

    /// <summary>A room got its first local member (sharded, dynamic subscriptions: subscribe to its channel).</summary>
    void OnRoomCreated(string room);

    /// <summary>A room lost its last local member.</summary>
    void OnRoomDeleted(string room);
}
