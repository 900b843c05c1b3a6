using System.Text.Json;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Signaling;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Codelab;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests.Recovery;

/// <summary>
/// The real socket.io-client 4.8.1 in Node recovers against this server: its network is cut mid-session (a loopback
/// proxy resets every connection and refuses new ones), events are emitted to it while it is away, and when the
/// network is back it reconnects on its own with the same id, <c>recovered</c> true, and gets every missed event,
/// in order, exactly once.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
internal sealed class RecoveryNodeClientTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private static readonly string[] ShortHeartbeats = ["--EngineIo:PingInterval=500", "--EngineIo:PingTimeout=1500"];

    [OneTimeSetUp]
    public void RequireNode() => NodeScripts.RequireNodeModules();

    private static ChildProcess StartClient(string url, string nsp, string transport) =>
        ChildProcess.Start("node", [Path.Combine(NodeScripts.Folder, "recovery-client.js"), "--url", url, "--nsp", nsp, "--transport", transport]);

    private static async Task<JsonObject> NextAsync(ChildProcess client, string type, string? eventName = null)
    {
        string line;
        try
        {
            line = await client.WaitForLineAsync(l => l.Contains($"\"t\":\"{type}\"", StringComparison.Ordinal)
                && (eventName is null || l.Contains($"\"name\":\"{eventName}\"", StringComparison.Ordinal)), Long);
        }
        catch (TimeoutException)
        {
            TestContext.Out.WriteLine($"waiting for {type} {eventName}; the client wrote:\n" + string.Join("\n", client.Output));
            throw;
        }
        return JsonNode.Parse(line)!.AsObject();
    }

    [TestCase("websocket")]
    [TestCase("polling")]
    public async Task TheRealClientRecoversItsIdRoomsDataAndEveryMissedEventOnce(string transport)
    {
        // Short heartbeats: a polling client cut between two polls leaves no connection to fail, only its silence.
        await using var host = await RecoveryHost.StartAsync(new Dictionary<string, string> { ["MaxDisconnectionDuration"] = "30000" }, ShortHeartbeats);
        await using var proxy = new CuttableProxy(host.Server.Port);
        await using var client = StartClient(proxy.Url, RecoveryHost.Nsp, transport);
        var first = await NextAsync(client, "connect");
        Assert.That(first["recovered"]!.GetValue<bool>(), Is.False);
        string id = first["id"]!.GetValue<string>();
        var socket = await host.NextSocketAsync();
        Assert.That(socket.Id, Is.EqualTo(id));
        socket.Join("room");
        socket.Data = "kept";
        socket.Emit("e", 0);
        await NextAsync(client, "event", "e");

        proxy.Cut();
        await Eventually.UntilAsync(() => host.Store.KeptSessions == 1, Long, "the server kept the session of the cut client");
        host.Namespace.To("room").Emit("e", 1);
        host.Namespace.Emit("e", 2);
        host.Namespace.To(id).Emit("e", 3);
        host.Namespace.To("other-room").Emit("e", -1);
        proxy.Restore();

        var again = await NextAsync(client, "connect");
        Assert.That(again["id"]!.GetValue<string>(), Is.EqualTo(id), "the same socket id");
        Assert.That(again["recovered"]!.GetValue<bool>(), Is.True, "socket.recovered on the client");
        var recovered = await host.NextSocketAsync();
        Assert.That((recovered.Id, recovered.Recovered, recovered.Data), Is.EqualTo((id, true, (object)"kept")));
        Assert.That(recovered.Rooms, Does.Contain("room"));
        host.Namespace.To("room").Emit("e", 4);
        host.Namespace.To("room").Emit("done");
        await client.WaitForExitAsync(Long);

        var events = client.Output.Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(o => o["t"]!.GetValue<string>() == "event" && o["name"]!.GetValue<string>() == "e")
            .Select(o => o["args"]!.AsArray()).ToList();
        Assert.That(events.Select(a => a[0]!.GetValue<int>()), Is.EqualTo(new[] { 0, 1, 2, 3, 4 }), "every event, in order, exactly once");
        Assert.That(events.Select(a => a[^1]!.GetValue<string>()).Distinct().Count(), Is.EqualTo(5), "each with an offset of its own as the last argument");
        Assert.That(client.Output.Count(l => l.Contains("\"t\":\"disconnect\"", StringComparison.Ordinal)), Is.EqualTo(2), "one drop (and the final close)");
        Assert.That(host.Store.KeptSessions, Is.Zero);
    }

    /// <summary>
    /// Rooms mode as shipped (recovery on by default): a WebRTC peer whose network blips gets back its room and the
    /// ICE candidates its peer sent meanwhile, and the peer never hears <c>bye</c>.
    /// </summary>
    [Test]
    public async Task ARoomsModePeerWhoseNetworkBlipsGetsBackItsRoomAndTheCandidatesSentMeanwhile()
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms", .. ShortHeartbeats]);
        var io = server.Get<SocketIoServer>();
        Assert.That(io.Options.ConnectionStateRecovery.MaxDisconnectionDuration, Is.EqualTo(TimeSpan.FromMinutes(2)), "on by default in rooms mode");
        await using var proxy = new CuttableProxy(server.Port);
        await using var a = StartClient(proxy.Url, "/", "websocket");
        await using var b = StartClient(server.Url, "/", "websocket");
        string aId = (await NextAsync(a, "connect"))["id"]!.GetValue<string>();
        await NextAsync(b, "connect");
        await a.SendLineAsync("{\"emit\":\"create or join\",\"args\":[\"call\"]}");
        await NextAsync(a, "event", "created");
        await b.SendLineAsync("{\"emit\":\"create or join\",\"args\":[\"call\"]}");
        await NextAsync(a, "event", "ready");
        await NextAsync(b, "event", "ready");

        proxy.Cut();
        await Eventually.UntilAsync(() => io.Sockets.Recovery!.KeptSessions == 1, Long, "the server kept the dropped peer's session");
        Assert.That(server.Get<CodelabSignaling>().PendingByes, Is.EqualTo(1), "bye held back while the peer may come back");
        await b.SendLineAsync("{\"emit\":\"message\",\"args\":[{\"type\":\"candidate\",\"candidate\":\"c1\"}]}");
        await b.SendLineAsync("{\"emit\":\"message\",\"args\":[{\"type\":\"candidate\",\"candidate\":\"c2\"}]}");
        await NextAsync(b, "event", "log");
        await Eventually.UntilAsync(() => io.Sockets.Recovery!.KeptPackets >= 4, Long, "the candidates were emitted while the peer was away");
        proxy.Restore();

        var back = await NextAsync(a, "connect");
        Assert.That((back["id"]!.GetValue<string>(), back["recovered"]!.GetValue<bool>()), Is.EqualTo((aId, true)));
        // The missed events arrive before the CONNECT, as Node sends them (the client holds them until it is connected).
        var candidates = a.Output.Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(o => o["t"]!.GetValue<string>() == "event" && o["name"]!.GetValue<string>() == "message")
            .Select(o => o["args"]![0]!["candidate"]!.GetValue<string>());
        Assert.That(candidates, Is.EqualTo(new[] { "c1", "c2" }), "the candidates sent while away, in order, once");
        await a.SendLineAsync("{\"emit\":\"message\",\"args\":[\"still here\"]}");
        var reply = await NextAsync(b, "event", "message");
        Assert.That(reply["args"]![0]!.GetValue<string>(), Is.EqualTo("still here"), "the peer is in its room again");
        Assert.That(b.Output.Any(l => l.Contains("\"name\":\"bye\"", StringComparison.Ordinal)), Is.False, "the other peer never heard bye");
        Assert.That(server.Get<CodelabSignaling>().PendingByes, Is.Zero);
    }
}
