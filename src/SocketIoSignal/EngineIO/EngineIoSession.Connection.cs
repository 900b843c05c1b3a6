namespace SocketIoSignal.EngineIO;

/// <summary>The session is the connection the Socket.IO layer writes to (its members implement the interface).</summary>
internal sealed partial class EngineIoSession : IEngineIoConnection
{
}
