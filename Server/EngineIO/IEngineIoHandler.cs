namespace SocketIoSignal.EngineIO;

/// <summary>
/// The whole seam between Engine.IO and the layer above: a session opened, a message (text or binary)
/// arrived, a session closed. Calls for one session never overlap and come in wire order.
/// </summary>
public interface IEngineIoHandler
{
    void OnConnect(EngineIoSession session);

    void OnMessage(EngineIoSession session, string text);

    void OnBinary(EngineIoSession session, ReadOnlyMemory<byte> data);

    void OnDisconnect(EngineIoSession session, CloseReason reason);
}
