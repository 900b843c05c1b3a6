namespace SocketIoSignal.EngineIO;

/// <summary>
/// The whole seam between Engine.IO and the layer above: a session opened, a message (text or binary)
/// arrived, a session closed. Calls for one session never overlap and come in wire order.
/// </summary>
internal interface IEngineIoHandler
{
    void OnConnect(EngineIoSession session);

    void OnMessage(EngineIoSession session, string text);

    /// <summary>
    /// A text message that arrived as UTF-8 (a WebSocket frame), without the type digit. The memory stays valid and
    /// unchanged after the call. By default it is decoded and handed to <see cref="OnMessage"/>.
    /// </summary>
    void OnMessageUtf8(EngineIoSession session, ReadOnlyMemory<byte> utf8) =>
        OnMessage(session, System.Text.Encoding.UTF8.GetString(utf8.Span));

    void OnBinary(EngineIoSession session, ReadOnlyMemory<byte> data);

    void OnDisconnect(EngineIoSession session, CloseReason reason);
}
