namespace SocketIoSignal.EngineIO;

internal enum TransportKind
{
    Unknown,
    Polling,
    WebSocket,
}
