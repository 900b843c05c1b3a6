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
}
