namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>
/// What <c>fetchSockets</c> learns of one socket, wherever it is connected: what Node's <c>RemoteSocket</c> carries.
/// <paramref name="Local"/> is the socket itself when it is connected to this node.
/// </summary>
internal sealed record SocketDetails(string Id, SocketIoHandshake Handshake, IReadOnlyCollection<string> Rooms, object? Data, SocketIoSocket? Local = null);
