using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;

namespace SocketIoSignal.Redis.Classic;

/// <summary>A socket of any node as a fetch returns it: what the Node adapter's REMOTE_FETCH answer carries.</summary>
/// <param name="Id">The socket's id.</param>
/// <param name="Handshake">Its handshake as Node writes it (headers, time, address, xdomain, secure, issued, url, query, auth).</param>
/// <param name="Rooms">Its rooms.</param>
/// <param name="Data">Its <c>data</c>, as JSON.</param>
internal sealed record RemoteSocketInfo(string Id, JsonObject Handshake, IReadOnlyList<string> Rooms, JsonNode? Data);

/// <summary>
/// What a node does for its own sockets when a request arrives: the local half of socket.io-adapter (what the
/// Node adapter reaches with <c>super.…</c>). The cluster protocol calls it; it never talks to Redis itself.
/// </summary>
internal interface IClusterLocal
{
    /// <summary>Local sockets in any of <paramref name="target"/>'s rooms (all when none), less the excepted.</summary>
    IReadOnlyCollection<string> SocketIds(BroadcastTarget target);

    /// <summary>Rooms with a local member.</summary>
    IReadOnlyCollection<string> Rooms();

    ValueTask AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms);

    ValueTask DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms);

    void DisconnectSockets(BroadcastTarget target, bool close);

    /// <summary>The one local socket <paramref name="socketId"/> joins; false when it is not here.</summary>
    ValueTask<bool> JoinAsync(string socketId, string room);

    ValueTask<bool> LeaveAsync(string socketId, string room);

    bool Disconnect(string socketId, bool close);

    IReadOnlyList<RemoteSocketInfo> FetchSockets(BroadcastTarget target);

    /// <summary>
    /// Another node's <c>serverSideEmit</c>: <paramref name="args"/> is <c>[event, ...args]</c>; <paramref name="ack"/>
    /// (when the sender waits for one) answers once. False when no listener took it.
    /// </summary>
    bool OnServerSideEmit(JsonArray args, Action<JsonNode?>? ack);

    /// <summary>
    /// Emits to the target's local sockets, each with an acknowledgement; returns how many were sent to and calls
    /// <paramref name="onAck"/> with each client's first acknowledgement argument, until <paramref name="timeout"/>.
    /// </summary>
    int BroadcastWithAck(string eventName, IReadOnlyList<object?> args, BroadcastTarget target, TimeSpan timeout, Action<JsonNode?> onAck);
}
