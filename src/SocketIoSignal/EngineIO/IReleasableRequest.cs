namespace SocketIoSignal.EngineIO;

/// <summary>
/// A request whose context may be let go once the engine holds its WebSocket (a connection-level upgrade, whose
/// request outlives nothing but the WebSocket). Nothing may read the request's context after <see cref="Release"/>.
/// </summary>
internal interface IReleasableRequest
{
    void Release();
}
