using System.Text;
using NUnit.Framework;
using SocketIoSignal.AspNetCore;
using SocketIoSignal.Tests.Hostile;
using SocketIoSignal.Tests.Infrastructure;
using static SocketIoSignal.Tests.Codelab.SeedLog;
using static SocketIoSignal.Tests.Infrastructure.RawSocketIoClient;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>
/// --ConnectionLevelWebSockets: Engine.IO WebSockets (new sessions and upgrades of polling sessions) taken at Kestrel's
/// connection level. The signaling works through it, the engine's own checks answer as on the HTTP path, the framing
/// is as strict, and every other connection (polling, pages) still goes to HTTP. On by default in the server app.
/// </summary>
[TestFixture]
internal sealed class WebSocketConnectionTakeoverTests
{
    private static readonly string[] On = ["--ConnectionLevelWebSockets=true"];
    private static readonly string[] Off = ["--ConnectionLevelWebSockets=false"];

    private const string Handshake = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    [Test]
    public async Task TheCodelabRelayRunsOverWebSocketsTakenAtTheConnection()
    {
        await using var server = await TestServer.StartAsync(On);
        await using var a = await ConnectAsync(server.BaseUri, 4);
        await using var b = await ConnectAsync(server.BaseUri, 4);
        await a.EmitAsync("create or join", "t1");
        await a.WaitForAsync("created");
        await b.EmitAsync("create or join", "t1");
        await b.WaitForAsync("joined");
        await a.EmitAsync("message", "offer sdp");
        var message = await b.WaitForAsync("message");
        Assert.That(message.Data!.ToJsonString(), Is.EqualTo("[\"message\",\"offer sdp\"]"));
        // The sender's log echo of it (each wait bounded; earlier logs of the room come first).
        string said;
        do
        {
            said = (await a.WaitForAsync("log")).Data!.ToJsonString();
        }
        while (!said.Contains("Client said", StringComparison.Ordinal));
        Assert.That(said, Is.EqualTo(Log("Client said: ", "offer sdp")));
        server.AssertNoErrors();
    }

    [Test]
    public async Task The101ComesFromTheEngineWithoutKestrelsHttpLayerAndOnlyWhenTheOptionIsOn()
    {
        foreach (var (on, args) in new[] { (true, On), (true, Array.Empty<string>()), (false, Off) })
        {
            await using var server = await TestServer.StartAsync(args);
            await using var tcp = await RawTcp.ConnectAsync(server.Port);
            await tcp.SendAsync(Handshake + "\r\n");
            var (status, head, _) = await tcp.ReadResponseAsync();
            Assert.That(status, Is.EqualTo(101));
            Assert.That(head, Does.Contain("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
            // Kestrel's HTTP/1.1 layer adds its Server header to every response; the connection-level 101 has none.
            Assert.That(head.Contains("Server: Kestrel", StringComparison.Ordinal), Is.EqualTo(!on), on ? "taken at the connection" : "through HTTP");
            var (b0, open) = await tcp.ReadFrameAsync();
            Assert.That(b0, Is.EqualTo(0x81));
            Assert.That(Encoding.UTF8.GetString(open), Does.StartWith("0{\"sid\":"));
        }
    }

    [Test]
    public async Task KestrelsUpgradedConnectionLimitCapsTheConnectionsTaken()
    {
        await using var server = await TestServer.StartAsync([.. On, "--Kestrel:Limits:MaxConcurrentUpgradedConnections=1"]);
        await using var first = await RawTcp.ConnectAsync(server.Port);
        await first.SendAsync(Handshake + "\r\n");
        var (status, head, _) = await first.ReadResponseAsync();
        Assert.That((status, head.Contains("Server: Kestrel", StringComparison.Ordinal)), Is.EqualTo((101, false)), "the first is taken");
        await first.ReadFrameAsync();
        // The limit is reached: the engine refuses the next one, as it does when Kestrel turns an upgrade down.
        await using var second = await RawTcp.ConnectAsync(server.Port);
        await second.SendAsync(Handshake + "\r\n");
        var (refused, _, body) = await second.ReadResponseAsync();
        Assert.That((refused, body), Is.EqualTo((403, "{\"code\":4,\"message\":\"Forbidden\"}")));
        // The first one's end frees its place.
        await first.DisposeAsync();
        await Eventually.UntilAsync(async () =>
        {
            await using var third = await RawTcp.ConnectAsync(server.Port);
            await third.SendAsync(Handshake + "\r\n");
            var (s3, h3, _) = await third.ReadResponseAsync();
            return s3 == 101 && !h3.Contains("Server: Kestrel", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10), "a place is free again once the first connection ended");
        server.AssertNoErrors();
    }

    [Test]
    public async Task ASilentConnectionIsClosedAfterKestrelsKeepAliveTimeout()
    {
        await using var server = await TestServer.StartAsync([.. On, "--Kestrel:Limits:KeepAliveTimeout=00:00:01"]);
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await silent.ConnectAsync(System.Net.IPAddress.Loopback, server.Port).Within();
        // Without a byte sent (no FIN either): the server's close is the only way this read ends.
        int read = await silent.ReceiveAsync(new byte[16], System.Net.Sockets.SocketFlags.None).Within();
        Assert.That(read, Is.Zero, "closed by the server without a byte");
        server.AssertNoErrors();
    }

    [Test]
    public async Task NothingOfTheHandshakeRequestLivesAsLongAsItsWebSocket()
    {
        await using var server = await TestServer.StartAsync(On);
        var io = server.Get<SocketIoSignal.SocketIO.SocketIoServer>();
        var handshakes = new System.Collections.Concurrent.ConcurrentQueue<WeakReference>();
        io.Engine.OnInitialHeaders((_, request) => handshakes.Enqueue(new WeakReference(request.HttpContext)));
        await using var client = await ConnectAsync(server.BaseUri, 4);
        Assert.That(handshakes, Has.Count.EqualTo(1));
        // The WebSocket runs on; its handshake's context (and the features and request made for it) must be garbage.
        await Eventually.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return handshakes.All(h => !h.IsAlive);
        }, TimeSpan.FromSeconds(10), "the handshake's HttpContext to be collected while its WebSocket is open");
        // Still the same session, working.
        await client.SendAsync("2[\"create or join\",\"r\"]");
        Assert.That((await client.WaitForAsync("created")).Args[0]!.GetValue<string>(), Is.EqualTo("r"));
        server.AssertNoErrors();
    }

    [Test]
    public async Task ASilentConnectionDoesNotHoldTheShutdown()
    {
        var server = await TestServer.StartAsync([.. On, "--Logging:LogLevel:Microsoft.AspNetCore.Server.Kestrel=Debug"]);
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await silent.ConnectAsync(System.Net.IPAddress.Loopback, server.Port).Within();
        // A browser's preconnected socket: accepted, and not a byte of a request on it. Kestrel's graceful stop asks
        // every connection to close; the wait for the first bytes must end then, not at the keep-alive timeout (130 s)
        // nor at the stop's own deadline (10 s here).
        await Eventually.UntilAsync(() => server.Logs.Lines.Any(l => l.Contains("Connection id", StringComparison.Ordinal) && l.Contains("accepted", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(5), "Kestrel to accept the connection");
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await server.DisposeAsync();
        Assert.That(stopping.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "the stop waited for the silent connection");
        int read = await silent.ReceiveAsync(new byte[16], System.Net.Sockets.SocketFlags.None).Within();
        Assert.That(read, Is.Zero, "closed by the server without a byte");
    }

    [Test]
    public async Task AnUnmaskedClientFrameClosesWith1002AndAFin()
    {
        await using var server = await TestServer.StartAsync(On);
        await using var tcp = await RawTcp.ConnectAsync(server.Port);
        await tcp.SendAsync(Handshake + "\r\n");
        Assert.That((await tcp.ReadResponseAsync()).Status, Is.EqualTo(101));
        await tcp.ReadFrameAsync();
        await tcp.SendFrameAsync(1, "40"u8.ToArray(), mask: false);
        var (code, _) = await tcp.ReadCloseFrameAsync();
        Assert.That(code, Is.EqualTo(1002));
        Assert.That(await tcp.EndsWithFinAsync(), Is.True);
    }

    [Test]
    public async Task TheEnginesOwnAnswersComeBackAsHttpResponses()
    {
        await using var server = await TestServer.StartAsync(On);
        await using (var tcp = await RawTcp.ConnectAsync(server.Port))
        {
            await tcp.SendAsync(Handshake.Replace("EIO=4", "EIO=9", StringComparison.Ordinal) + "\r\n");
            var (status, head, body) = await tcp.ReadResponseAsync();
            Assert.That(status, Is.EqualTo(400));
            Assert.That(body, Is.EqualTo("{\"code\":5,\"message\":\"Unsupported protocol version\"}"));
            Assert.That(head, Does.Contain("Connection: close"));
            Assert.That(await tcp.EndsWithFinAsync(), Is.True);
        }
        await using (var tcp = await RawTcp.ConnectAsync(server.Port))
        {
            // A WebSocket handshake of another version: 426 naming version 13, as on the HTTP path.
            await tcp.SendAsync(Handshake.Replace("Version: 13", "Version: 8", StringComparison.Ordinal) + "\r\n");
            var (status, head, _) = await tcp.ReadResponseAsync();
            Assert.That(status, Is.EqualTo(426));
            Assert.That(head, Does.Contain("Sec-WebSocket-Version: 13"));
        }
    }

    [Test]
    public async Task EveryOtherConnectionGoesToHttpUntouched()
    {
        await using var server = await TestServer.StartAsync(On);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        var page = await http.GetAsync("/").Within();
        Assert.That((int)page.StatusCode, Is.EqualTo(200), "the codelab page");
        Assert.That(page.Headers.Server.ToString(), Does.Contain("Kestrel"), "the page comes from HTTP");
        var open = await http.GetStringAsync("/socket.io/?EIO=4&transport=polling").Within();
        Assert.That(open, Does.StartWith("0{\"sid\":"));
        server.AssertNoErrors();
    }

    [Test]
    public async Task APollingSessionsUpgradeIsTakenAtTheConnectionAndCarriesTheSession()
    {
        await using var server = await TestServer.StartAsync(On);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        var open = await http.GetStringAsync("/socket.io/?EIO=4&transport=polling").Within();
        var sid = EngineIoRaw.SidOf(open);
        var connect = await http.PostAsync($"/socket.io/?EIO=4&transport=polling&sid={sid}", new StringContent("40")).Within();
        Assert.That(await connect.Content.ReadAsStringAsync(), Is.EqualTo("ok"));
        Assert.That(await http.GetStringAsync($"/socket.io/?EIO=4&transport=polling&sid={sid}").Within(), Does.StartWith("40{\"sid\":"));
        await using var tcp = await RawTcp.ConnectAsync(server.Port);
        await tcp.SendAsync(Handshake.Replace("transport=websocket", $"transport=websocket&sid={sid}", StringComparison.Ordinal) + "\r\n");
        var (status, head, _) = await tcp.ReadResponseAsync();
        Assert.That(status, Is.EqualTo(101));
        Assert.That(head.Contains("Server: Kestrel", StringComparison.Ordinal), Is.False, "taken at the connection, not by HTTP");
        await tcp.SendFrameAsync(1, "2probe"u8.ToArray());
        var (_, probe) = await tcp.ReadFrameAsync();
        Assert.That(Encoding.UTF8.GetString(probe), Is.EqualTo("3probe"));
        await tcp.SendFrameAsync(1, "5"u8.ToArray());
        // The session now speaks over the WebSocket: the codelab answers its join there.
        await tcp.SendFrameAsync(1, "42[\"create or join\",\"up1\"]"u8.ToArray());
        string frame;
        do
        {
            frame = Encoding.UTF8.GetString((await tcp.ReadFrameAsync()).Payload);
        }
        while (!frame.StartsWith("42[\"created\"", StringComparison.Ordinal));
        Assert.That(frame, Does.StartWith("42[\"created\",\"up1\""));
        // Polling is over for the session.
        var late = await http.GetAsync($"/socket.io/?EIO=4&transport=polling&sid={sid}").Within();
        Assert.That((int)late.StatusCode, Is.EqualTo(400));
        server.AssertNoErrors();
    }

    [Test]
    public async Task AnUpgradeForAnUnknownSessionIsRefusedAsOverHttp()
    {
        await using var server = await TestServer.StartAsync(On);
        await using var tcp = await RawTcp.ConnectAsync(server.Port);
        await tcp.SendAsync(Handshake.Replace("transport=websocket", "transport=websocket&sid=nosuchsession", StringComparison.Ordinal) + "\r\n");
        var (status, _, body) = await tcp.ReadResponseAsync();
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body, Does.Contain("Session ID unknown"));
        server.AssertNoErrors();
    }

    [TestCase("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", true)]
    [TestCase("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n", false)]
    [TestCase("GET /socket.io/?EIO=4&transport=websocket&sid=abc HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", true)]
    [TestCase("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", false)]
    [TestCase("GET /other/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", false)]
    [TestCase("POST /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", false)]
    [TestCase("GET /socket.io/?EIO=4&transport=websocket HTTP/1.0\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", false)]
    [TestCase("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", false)]
    [TestCase("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nHost: b\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", false)]
    [TestCase("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", false)]
    [TestCase("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\n folded\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", false)]
    [TestCase("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nBad Name: x\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", false)]
    [TestCase("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Key: k\r\n\r\n", false)]
    public void OnlyAWholeCleanEngineIoWebSocketHandshakeIsTaken(string head, bool taken)
    {
        var parsed = WebSocketConnectionTakeover.Parse(Encoding.ASCII.GetBytes(head), "GET /socket.io/"u8);
        Assert.That(parsed is not null, Is.EqualTo(taken));
        if (parsed is not null)
        {
            Assert.That(parsed.Length, Is.EqualTo(head.Length));
            Assert.That(parsed.Path, Is.EqualTo("/socket.io/"));
            Assert.That(parsed.Headers, Has.Count.EqualTo(3));
        }
    }

    [Test]
    public void AHeaderValueOutsidePrintableAsciiIsLeftToHttp()
    {
        var head = Encoding.Latin1.GetBytes("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nX: caf\u00e9\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n");
        Assert.That(WebSocketConnectionTakeover.Parse(head, "GET /socket.io/"u8), Is.Null);
    }
}
