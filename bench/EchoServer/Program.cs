using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

// The floor of this stack: Kestrel + ASP.NET WebSockets echoing every frame back, no protocol at all.
// Usage: EchoServer --port N   (prints "listening N")
int port = 8099;
for (int i = 0; i < args.Length - 1; i++)
{
    if (args[i] is "--port" or "--Port")
    {
        port = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
var app = builder.Build();
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
app.Run(async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = 400;
        return;
    }
    using var ws = await context.WebSockets.AcceptWebSocketAsync();
    byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
    try
    {
        while (true)
        {
            int count = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (count == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, count).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                result = await ws.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                count += result.Count;
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                break;
            }
            await ws.SendAsync(buffer.AsMemory(0, count), result.MessageType, true, CancellationToken.None);
        }
    }
    catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
    {
    }
    finally
    {
        ArrayPool<byte>.Shared.Return(buffer);
    }
});
await app.StartAsync();
Console.WriteLine($"listening {port}");
await app.WaitForShutdownAsync();
