using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>What an idle WebSocket connection costs the server: no receive buffer while it waits.</summary>
[TestFixture]
public sealed class IdleCostTests
{
    /// <summary>Two ManagedWebSockets over a loopback TCP connection: the server end and the client end.</summary>
    private static async Task<(WebSocket Server, WebSocket Client, IDisposable Resources)> PairAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        var accept = listener.AcceptTcpClientAsync();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port).Within();
        var server = await accept.Within();
        listener.Stop();
        var s = WebSocket.CreateFromStream(server.GetStream(), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var c = WebSocket.CreateFromStream(client.GetStream(), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        return (s, c, new Both(server, client));
    }

    private sealed class Both(IDisposable a, IDisposable b) : IDisposable
    {
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }

    [Test]
    public async Task AZeroByteReadWaitsForAFrameAndConsumesNoPayload()
    {
        var (server, client, resources) = await PairAsync();
        using (resources)
        using (server)
        using (client)
        {
            var peek = server.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
            Assert.That(peek.IsCompleted, Is.False, "nothing was sent yet");
            await client.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None).Within();
            var header = await peek.Within();
            Assert.That((header.Count, header.EndOfMessage, header.MessageType), Is.EqualTo((0, false, WebSocketMessageType.Text)));
            var buffer = new byte[64];
            var body = await server.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().Within();
            Assert.That((Encoding.UTF8.GetString(buffer, 0, body.Count), body.EndOfMessage), Is.EqualTo(("hello", true)));

            // An empty final frame: the zero-byte read is the whole message.
            await client.SendAsync(Memory<byte>.Empty, WebSocketMessageType.Binary, true, CancellationToken.None).AsTask().Within();
            var empty = await server.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().Within();
            Assert.That((empty.Count, empty.EndOfMessage, empty.MessageType), Is.EqualTo((0, true, WebSocketMessageType.Binary)));

            // A close frame shows as Close on a zero-byte read.
            await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).Within();
            var close = await server.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().Within();
            Assert.That(close.MessageType, Is.EqualTo(WebSocketMessageType.Close));
        }
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AnIdleWebSocketSessionHoldsNoReceiveBuffer(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var sockets = new List<ClientWebSocket>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                var ws = await h.Raw.ConnectWebSocketAsync(eio);
                sockets.Add(ws);
                await ws.ReceiveTextAsync();
                await ws.SendTextAsync("4hi" + i);
                Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4hi" + i));
            }
            // Each has read a message and waits for the next: none holds a buffer.
            await Eventually.UntilAsync(() => h.Engine.Metrics.ReceiveBuffers == 0, TaskTimeouts.Default, "no receive buffer held");

            // A message that has begun (one fragment of two) holds one, until it ends.
            var first = sockets[0];
            await first.SendAsync("4par"u8.ToArray(), WebSocketMessageType.Text, false, CancellationToken.None).Within();
            await Eventually.UntilAsync(() => h.Engine.Metrics.ReceiveBuffers == 1, TaskTimeouts.Default, "one receive buffer held");
            await first.SendAsync("ts"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None).Within();
            Assert.That(await first.ReceiveTextAsync(), Is.EqualTo("4parts"));
            await Eventually.UntilAsync(() => h.Engine.Metrics.ReceiveBuffers == 0, TaskTimeouts.Default, "no receive buffer held");

            // An empty message still reaches the session as one (a parse error: Engine.IO packets are never empty).
            await sockets[1].SendTextAsync("");
            Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(SocketIoSignal.EngineIO.CloseReason.ParseError));
        }
        finally
        {
            foreach (var ws in sockets)
            {
                ws.Dispose();
            }
        }
        await Eventually.UntilAsync(() => h.Engine.SessionCount == 0 || h.Engine.Metrics.ReceiveBuffers == 0, TaskTimeouts.Default, "the session or its receive buffer gone");
    }
}
