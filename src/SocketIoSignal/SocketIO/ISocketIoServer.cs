namespace SocketIoSignal.SocketIO;

/// <summary>
/// The server as code that only emits sees it (a background service, an MVC action):
/// <c>io.To(room).Emit(…)</c>. Resolve it from dependency injection.
/// </summary>
public interface ISocketIoServer
{
    /// <summary>The namespace of this name (<c>/</c> is the main one), created on first use.</summary>
    /// <param name="name">The namespace's name.</param>
    SocketIoNamespace Of(string name);

    /// <summary>Selects the sockets of the main namespace in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    BroadcastOperator To(string room);

    /// <summary>The same as <see cref="To"/>.</summary>
    /// <param name="room">A room name.</param>
    BroadcastOperator In(string room);

    /// <summary>Selects every socket of the main namespace but those in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    BroadcastOperator Except(string room);

    /// <summary>Emits an event to every socket of the main namespace.</summary>
    /// <param name="eventName">The event's name.</param>
    /// <param name="args">Its arguments: anything System.Text.Json serializes; byte arrays go as binary attachments.</param>
    void Emit(string eventName, params object?[] args);

    /// <summary>Every socket of the main namespace, with Node's <c>volatile</c> flag (dropped where the transport cannot take it now).</summary>
    BroadcastOperator Volatile { get; }

    /// <summary>Every socket of the main namespace on this node only (Node's <c>local</c>).</summary>
    BroadcastOperator Local { get; }

    /// <summary>Every socket of the main namespace, with Node's <c>compress</c> flag.</summary>
    /// <param name="compress">False: send uncompressed.</param>
    BroadcastOperator Compress(bool compress);

    /// <summary>Every socket of the main namespace, acknowledgements awaited at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait.</param>
    BroadcastOperator Timeout(TimeSpan timeout);

    /// <summary>Every socket of the main namespace, on every node (Node's <c>io.fetchSockets()</c>).</summary>
    ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync();

    /// <summary>Makes every socket of the main namespace join <paramref name="rooms"/> (Node's <c>io.socketsJoin</c>).</summary>
    /// <param name="rooms">Room names.</param>
    void SocketsJoin(params string[] rooms);

    /// <summary>Makes every socket of the main namespace leave <paramref name="rooms"/> (Node's <c>io.socketsLeave</c>).</summary>
    /// <param name="rooms">Room names.</param>
    void SocketsLeave(params string[] rooms);

    /// <summary>Disconnects every socket of the main namespace (Node's <c>io.disconnectSockets</c>).</summary>
    /// <param name="close">Also close their connections.</param>
    void DisconnectSockets(bool close = false);

    /// <summary>Sends an event to the main namespace of every other server (Node's <c>io.serverSideEmit</c>).</summary>
    /// <param name="eventName">The event's name.</param>
    /// <param name="args">Its arguments.</param>
    void ServerSideEmit(string eventName, params object?[] args);

    /// <summary>The same, waiting for one answer per other server (Node's <c>io.serverSideEmitWithAck</c>).</summary>
    /// <param name="eventName">The event's name.</param>
    /// <param name="args">Its arguments.</param>
    Task<IReadOnlyList<System.Text.Json.Nodes.JsonNode?>> ServerSideEmitWithAckAsync(string eventName, params object?[] args);
}
