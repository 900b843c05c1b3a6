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

/// <summary>The heartbeats of many sessions behind one shared timer: each still on its own schedule, on fake time.</summary>
[TestFixture]
public sealed class SharedHeartbeatTimerTests
{
    private const int Interval = 25000;
    private const int Timeout = 20000;

    private static TimeSpan Ms(int ms) => TimeSpan.FromMilliseconds(ms);

    [Test]
    public async Task StaggeredSessionsArePingedAndTimedOutEachOnItsOwnSchedule()
    {
        await using var h = await EngineHarness.StartAsync();
        var sockets = new List<(ClientWebSocket Ws, string Sid)>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var ws = await h.Raw.ConnectWebSocketAsync(4);
                sockets.Add((ws, EngineIoRaw.SidOf(await ws.ReceiveTextAsync())));
                h.Time.Advance(Ms(1000));
            }
            // Session i opened at i seconds; now is 3 s. Session 0 is due at 25 s, 1 at 26 s, 2 at 27 s.
            h.Time.Advance(Ms(Interval - 3000 - 1));
            Assert.That(sockets.Select(s => h.Session(s.Sid).AwaitingPong), Is.EqualTo(new[] { false, false, false }));
            h.Time.Advance(Ms(1));
            Assert.That(sockets.Select(s => h.Session(s.Sid).AwaitingPong), Is.EqualTo(new[] { true, false, false }));
            Assert.That(await sockets[0].Ws.ReceiveTextAsync(), Is.EqualTo("2"));
            h.Time.Advance(Ms(1000));
            Assert.That(sockets.Select(s => h.Session(s.Sid).AwaitingPong), Is.EqualTo(new[] { true, true, false }));
            Assert.That(await sockets[1].Ws.ReceiveTextAsync(), Is.EqualTo("2"));
            await sockets[1].Ws.SendTextAsync("3");
            await Eventually.UntilAsync(() => !h.Session(sockets[1].Sid).AwaitingPong, TaskTimeouts.Default, "the pong arrived");

            // Session 0 never answers: closed at 25 + 20 s, not a tick before; session 1 answered and stays.
            h.Time.Advance(Ms(Timeout - 1000 - 1));
            Assert.That(h.IsOpen(sockets[0].Sid), Is.True);
            h.Time.Advance(Ms(1));
            Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(SocketIoSignal.EngineIO.CloseReason.PingTimeout));
            Assert.That(h.IsOpen(sockets[0].Sid), Is.False);
            Assert.That(h.IsOpen(sockets[1].Sid), Is.True);
            Assert.That(h.IsOpen(sockets[2].Sid), Is.True);
            // One live timer per open session is counted, none per closed one; the queue holds a few entries each.
            Assert.That(h.Engine.Metrics.Timers.Live, Is.EqualTo(2));
            Assert.That(h.Engine.Timers.QueuedEntries, Is.LessThanOrEqualTo(3 * 3));
        }
        finally
        {
            foreach (var (ws, _) in sockets)
            {
                ws.Dispose();
            }
        }
    }
}

/// <summary>The shared timer on the system clock: it fires about once per due time, and does not spin before one.</summary>
[TestFixture]
public sealed class SharedTimerOnTheSystemClockTests
{
    [Test]
    public async Task TheSharedTimerFiresAboutOncePerDueTime()
    {
        await using var server = await TestServer.StartAsync(["--EngineIo:PingInterval=150", "--EngineIo:PingTimeout=5000"]);
        var engine = server.Get<SocketIoSignal.EngineIO.EngineIoServer>();
        var raw = new EngineIoRaw(server.BaseUri);
        var sockets = new List<ClientWebSocket>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                var ws = await raw.ConnectWebSocketAsync(4);
                sockets.Add(ws);
                await ws.ReceiveTextAsync();
            }
            long before = engine.Timers.Firings;
            const int Pings = 3;
            await Task.WhenAll(sockets.Select(async ws =>
            {
                for (int p = 0; p < Pings; p++)
                {
                    Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("2"));
                    await ws.SendTextAsync("3");
                }
            })).Within();
            TestContext.Out.WriteLine($"firings: {engine.Timers.Firings - before}");
            // Each ping and each pong sets a due time (the pong deadline, then the next ping); stale ones may fire
            // the timer once more. A timer re-armed under a millisecond would fire hundreds of times per due time.
            Assert.That(engine.Timers.Firings - before, Is.LessThanOrEqualTo((long)sockets.Count * Pings * 3 + 20));
        }
        finally
        {
            foreach (var ws in sockets)
            {
                ws.Dispose();
            }
            raw.Dispose();
        }
    }
}

/// <summary>The open packet of a WebSocket handshake: after the 101, one whole unmasked text frame of its own.</summary>
[TestFixture]
public sealed class OpenPacketFrameTests
{
    [TestCase(3)]
    [TestCase(4)]
    public async Task TheOpenPacketFollowsThe101AsOneTextFrame(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        await using var tcp = await SocketIoSignal.Tests.Hostile.RawTcp.ConnectAsync(h.Server.BaseUri.Port);
        Assert.That(await tcp.UpgradeAsync($"/socket.io/?EIO={eio}&transport=websocket"), Is.EqualTo(101));
        var frame = Encoding.Latin1.GetBytes(await tcp.ReadUntilAsync("}"));
        Assert.That(frame[0], Is.EqualTo(0x81), "FIN, text");
        Assert.That(frame[1] & 0x80, Is.Zero, "unmasked");
        int length = frame[1] & 0x7F;
        Assert.That(length, Is.LessThan(126));
        Assert.That(frame.Length, Is.EqualTo(2 + length), "nothing but the one frame");
        Assert.That(Encoding.UTF8.GetString(frame, 2, length), Does.StartWith("0{\"sid\":\""));
    }
}
