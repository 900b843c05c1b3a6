using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Tests.Codelab;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Plain;

/// <summary>
/// The codelab's bonus question 1 ("what problems might you face using pure WebSocket?"), measured: a Socket.IO
/// client (socket.io-client 4.8.1) and a plain WebSocket client (ws) on the same server, each through a loopback
/// proxy that misbehaves (Server.Tests/Plain/bonus1.js). Each test prints its figures; the README quotes them.
/// </summary>
[TestFixture]
public sealed class BonusQuestionOneTests
{
    private const int CapMs = 8000;

    /// <summary>Connection state recovery off (rooms mode turns it on by default).</summary>
    private static readonly string[] NoRecovery = ["--SocketIo:ConnectionStateRecovery:MaxDisconnectionDuration", "0"];

    private static async Task<JsonNode> RunAsync(TestServer server, string scenario, params string[] extra)
    {
        NodeScripts.RequireNodeModules();
        var script = RepoPaths.Combine("Server.Tests", "Plain", "bonus1.js");
        await using var process = ChildProcess.Start("node", [script, "--url", server.Url, "--scenario", scenario, "--cap-ms", CapMs.ToString(), .. extra]);
        int exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(120));
        foreach (var line in process.Output.Where(l => !l.StartsWith("RESULT ", StringComparison.Ordinal)))
        {
            TestContext.Progress.WriteLine($"[bonus 1, {scenario}] {line}");
            TestContext.Out.WriteLine(line);
        }
        Assert.That(exit, Is.Zero, "bonus1.js " + scenario + " failed:\n" + string.Join("\n", process.Errors));
        var result = process.Output.Single(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        server.AssertNoErrors();
        return JsonNode.Parse(result["RESULT ".Length..])!;
    }

    [Test]
    public async Task ThroughAProxyThatRefusesUpgradeSocketIoFallsBackToPollingAndPlainWebSocketFails()
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms"]);
        var r = await RunAsync(server, "noupgrade");
        Assert.That(r["upgradesRefused"]!.GetValue<int>(), Is.GreaterThanOrEqualTo(1), "the Socket.IO client tried to upgrade, and the proxy refused");
        Assert.That(r["sioTransport"]!.GetValue<string>(), Is.EqualTo("polling"));
        Assert.That(r["sioSignaled"]!.GetValue<bool>(), Is.True, "offer and answer crossed over polling");
        Assert.That(r["plainConnected"]!.GetValue<bool>(), Is.False);
        Assert.That(r["plainError"]!.GetValue<string>(), Does.Contain("403"));
    }

    [TestCase("rooms")]
    [TestCase("codelab")]
    public async Task ANetworkCutMidCallLosesWhatWasSentMeanwhile(string mode)
    {
        await using var server = await TestServer.StartAsync(["--mode", mode, .. NoRecovery]);
        var r = (JsonArray)await RunAsync(server, "cut", "--cut-ms", "3000");
        var plain = r[0]!;
        var sio = r[1]!;
        // Plain WebSocket: the app reconnected and rejoined by itself (its own code), and everything sent during the
        // cut, both ways, is gone.
        Assert.That(plain["rejoined"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(plain["toTheCutPeer"]!.GetValue<int>(), Is.Zero);
        Assert.That(plain["fromTheCutPeer"]!.GetValue<int>(), Is.Zero);
        // Socket.IO without connection state recovery: reconnected by itself; what the peer sent meanwhile is lost.
        Assert.That(sio["rejoined"]!.GetValue<int>(), Is.EqualTo(1), "Socket.IO reconnects by itself");
        Assert.That(sio["recovered"]!.GetValue<bool>(), Is.False);
        Assert.That(sio["toTheCutPeer"]!.GetValue<int>(), Is.Zero);
        if (mode == "codelab")
        {
            // The client buffered what the cut peer emitted and sent it on reconnecting; the codelab relays it to
            // every other socket. (One emitted before the client noticed the cut may die in the old connection.)
            Assert.That(sio["fromTheCutPeer"]!.GetValue<int>(), Is.GreaterThanOrEqualTo(8));
        }
        else
        {
            // Rooms mode relays to the sender's rooms: the buffer is flushed on the new socket before the page joins
            // its room again, so the server has nowhere to send it.
            Assert.That(sio["fromTheCutPeer"]!.GetValue<int>(), Is.Zero);
        }
    }

    [Test]
    public async Task WithConnectionStateRecoveryTheSocketIoPeerLosesNothingSentToIt()
    {
        // Rooms mode: recovery on by default (120 s).
        await using var server = await TestServer.StartAsync(["--mode", "rooms"]);
        var r = (JsonArray)await RunAsync(server, "cut", "--cut-ms", "3000");
        var plain = r[0]!;
        var sio = r[1]!;
        Assert.That(plain["toTheCutPeer"]!.GetValue<int>(), Is.Zero, "a plain peer cannot recover");
        Assert.That(plain["fromTheCutPeer"]!.GetValue<int>(), Is.Zero);
        Assert.That(sio["recovered"]!.GetValue<bool>(), Is.True, "same socket, same rooms: no rejoin needed");
        Assert.That(sio["toTheCutPeer"]!.GetValue<int>(), Is.EqualTo(10), "every event emitted to it while it was away, replayed");
        // The client's buffer, flushed on the recovered socket, which is still in its room. One message emitted
        // before the client saw its connection die is written into the dead connection: recovery replays what the
        // server sent, not what the client lost on the way.
        Assert.That(sio["fromTheCutPeer"]!.GetValue<int>(), Is.GreaterThanOrEqualTo(8));
    }

    [Test]
    public async Task AHalfOpenConnectionIsNoticedByHeartbeatsOnlyNeverByPlainWebSocket()
    {
        // Recovery off: with it, rooms mode tells the peer "bye" only once the recovery window is over.
        await using var server = await TestServer.StartAsync(["--mode", "rooms", "--EngineIo:PingInterval", "1000", "--EngineIo:PingTimeout", "1000", .. NoRecovery]);
        var r = (JsonArray)await RunAsync(server, "halfopen");
        var plain = r[0]!;
        var sio = r[1]!;
        Assert.That(plain["clientNoticedMs"], Is.Null, $"the plain client does not notice within {CapMs} ms");
        Assert.That(plain["serverNoticedMs"], Is.Null, $"the server does not notice the plain client within {CapMs} ms (the room stays taken)");
        // pingInterval + pingTimeout = 2000 ms, plus scheduling slack on a loaded machine.
        Assert.That(sio["clientNoticedMs"]!.GetValue<int>(), Is.LessThanOrEqualTo(2000 + 2000));
        Assert.That(sio["serverNoticedMs"]!.GetValue<int>(), Is.LessThanOrEqualTo(2000 + 2000));
    }

    [Test]
    public async Task BytesOnTheWirePerSignalingMessage()
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms", "--EngineIo:PingInterval", "1000", "--EngineIo:PingTimeout", "5000", .. NoRecovery]);
        var r = (JsonArray)await RunAsync(server, "bytes", "--idle-ms", "3000");
        var plain = r[0]!;
        var sioWs = r[1]!;
        var sioPolling = r[2]!;
        int json = plain["jsonBytes"]!.GetValue<int>();
        // A client frame of 126 to 65535 bytes: 4 header bytes and a 4-byte mask; a server frame: 4 header bytes.
        Assert.That(plain["perMessageUp"]!.GetValue<double>(), Is.EqualTo(json + 8));
        Assert.That(plain["perMessageDown"]!.GetValue<double>(), Is.EqualTo(json + 4));
        // Socket.IO adds "42" (Engine.IO message, Socket.IO event) to each frame.
        Assert.That(sioWs["perMessageUp"]!.GetValue<double>(), Is.EqualTo(json + 8 + 2));
        Assert.That(sioWs["perMessageDown"]!.GetValue<double>(), Is.EqualTo(json + 4 + 2));
        Assert.That(plain["connectBytes"]!.GetValue<int>(), Is.LessThan(sioWs["connectBytes"]!.GetValue<int>()));
        Assert.That(sioWs["connectBytes"]!.GetValue<int>(), Is.LessThan(sioPolling["connectBytes"]!.GetValue<int>()));
        Assert.That(plain["idleBytes"]!.GetValue<int>(), Is.Zero, "plain WebSocket sends nothing when idle");
        // Each heartbeat: ping "2" (3 bytes down) and pong "3" (7 bytes up, masked); 3 s at a 1 s interval.
        Assert.That(sioWs["idleBytes"]!.GetValue<int>(), Is.InRange(10, 40));
    }

    [Test]
    public async Task WithRecoveryEachSocketIoEventCarriesItsOffsetAndPlainEventsDoNot()
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms", "--EngineIo:PingInterval", "1000", "--EngineIo:PingTimeout", "5000"]);
        var r = (JsonArray)await RunAsync(server, "bytes", "--idle-ms", "1000");
        int json = r[0]!["jsonBytes"]!.GetValue<int>();
        Assert.That(r[0]!["perMessageDown"]!.GetValue<double>(), Is.EqualTo(json + 4), "the plain peer gets the event without the offset");
        // ,"XXXXXXXX.n" : 13 bytes and the offset's digits.
        Assert.That(r[1]!["perMessageDown"]!.GetValue<double>(), Is.InRange(json + 4 + 2 + 14, json + 4 + 2 + 16));
    }
}
