using SocketIoSignal.EngineIO;

namespace SocketIoSignal.SocketIO;

public sealed partial class SocketIoServer
{
    /// <summary>
    /// A client over a connection that is no Engine.IO session (another wire encoding): with Engine.IO protocol 3
    /// it follows Socket.IO protocol 4, so it is connected to "/" at once, its socket id being the connection's id.
    /// The caller hands it the connection's messages (<see cref="SocketIoClient.OnText(ReadOnlyMemory{byte})"/>)
    /// and its end (<see cref="SocketIoClient.OnClose"/>).
    /// </summary>
    internal SocketIoClient Accept(IEngineIoConnection connection)
    {
        var client = new SocketIoClient(this, connection);
        client.Start();
        return client;
    }
}
