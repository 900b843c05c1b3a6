using System.Net.WebSockets;
using System.Text;

namespace SocketIoSignal.Tests.Infrastructure;

public static class WebSocketExtensions
{
    public static Task SendTextAsync(this WebSocket ws, string text) =>
        ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).Within();

    public static Task SendBinaryAsync(this WebSocket ws, byte[] data) =>
        ws.SendAsync(data, WebSocketMessageType.Binary, true, CancellationToken.None).Within();

    /// <summary>Receives one whole message; Close when the server closed.</summary>
    public static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveMessageAsync(this WebSocket ws, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var buffer = new byte[64 * 1024];
        using var ms = new MemoryStream();
        while (true)
        {
            var result = await ws.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (WebSocketMessageType.Close, []);
            }
            ms.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, ms.ToArray());
            }
        }
    }

    public static async Task<string> ReceiveTextAsync(this WebSocket ws, TimeSpan? timeout = null)
    {
        var (type, data) = await ws.ReceiveMessageAsync(timeout);
        if (type != WebSocketMessageType.Text)
        {
            throw new InvalidOperationException($"expected a text frame, got {type}");
        }
        return Encoding.UTF8.GetString(data);
    }
}
