using System.Net.WebSockets;

namespace SocketIoSignal.EngineIO;

/// <summary>An accepted WebSocket and the guard its bytes pass through.</summary>
internal sealed record AcceptedWebSocket(WebSocket Socket, WebSocketFrameGuard Guard);
