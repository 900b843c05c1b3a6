using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>
/// socket.io 4.8 test/connection-state-recovery.ts, against our server. The cases speak raw Engine.IO long-polling,
/// as the originals do (they send a recovery request by hand).
/// </summary>
[TestFixture]
public sealed class ConnectionStateRecoveryTests : NodeSuiteFixture
{
    private static readonly Action<SocketIoOptions> Enabled = o => o.ConnectionStateRecovery.MaxDisconnectionDuration = TimeSpan.FromMinutes(2);

    /// <summary>The original's init(): a session with a CONNECT, one broadcast received with its offset, then a transport close.</summary>
    private static async Task<(string Sid, string Pid, string Offset)> InitAsync(RawPolling eio, SuiteServer server)
    {
        var sid = await eio.HandshakeAsync();
        await eio.PushAsync(sid, "40");
        var handshakeBody = await eio.PollAsync(sid);
        Assert.That(handshakeBody, Does.StartWith("40"));
        var handshake = JsonNode.Parse(handshakeBody[2..])!;
        Assert.That(handshake["sid"], Is.Not.Null);
        // with recovery on, the handshake also carries a private session id
        Assert.That(handshake["pid"], Is.Not.Null);
        server.Io.Emit("hello");
        var message = await eio.PollAsync(sid);
        Assert.That(message, Does.StartWith("42[\"hello\""));
        // and each packet an offset, last in its data array
        var offset = JsonNode.Parse(message[2..])!.AsArray()[1];
        Assert.That(offset, Is.Not.Null);
        await eio.PushAsync(sid, "1");
        return (handshake["sid"]!.GetValue<string>(), handshake["pid"]!.GetValue<string>(), offset!.GetValue<string>());
    }

    [Test(Description = "should restore rooms and data attributes")]
    public async Task ShouldRestoreRoomsAndDataAttributes()
    {
        var server = await StartAsync(Enabled);
        using var eio = new RawPolling(server);
        var connections = new Connections();
        server.Io.OnConnection(socket =>
        {
            if (connections.All.Count == 0)
            {
                Assert.That(socket.Recovered, Is.False);
                socket.Join("room1");
                socket.Join("room2");
                socket.Data = new Dictionary<string, string> { ["foo"] = "bar" };
            }
            connections.Add(socket);
        });
        var (sid, pid, offset) = await InitAsync(eio, server);
        await connections.NextAsync();
        var newSid = await eio.HandshakeAsync();
        await eio.PushAsync(newSid, $$"""40{"pid":"{{pid}}","offset":"{{offset}}"}""");
        var socket = await connections.NextAsync();
        Assert.That(socket.Id, Is.EqualTo(sid));
        Assert.That(socket.Recovered, Is.True);
        Assert.That(socket.Rooms, Is.EquivalentTo(new[] { sid, "room1", "room2" }));
        Assert.That(socket.Data, Is.EqualTo(new Dictionary<string, string> { ["foo"] = "bar" }));
        await eio.PollAsync(newSid);
    }

    [Test(Description = "should not run middlewares upon recovery by default")]
    public async Task ShouldNotRunMiddlewaresUponRecoveryByDefault()
    {
        var server = await StartAsync(Enabled);
        using var eio = new RawPolling(server);
        var connections = server.Connections();
        var (_, pid, offset) = await InitAsync(eio, server);
        await connections.NextAsync();
        server.Io.Sockets.Use(socket => socket.Data = "middlewareWasCalled");
        var newSid = await eio.HandshakeAsync();
        await eio.PushAsync(newSid, $$"""40{"pid":"{{pid}}","offset":"{{offset}}"}""");
        var socket = await connections.NextAsync();
        Assert.That(socket.Recovered, Is.True);
        Assert.That(socket.Data, Is.Null);
        await eio.PollAsync(newSid);
    }

    [Test(Description = "should run middlewares even upon recovery")]
    public async Task ShouldRunMiddlewaresEvenUponRecovery()
    {
        var server = await StartAsync(o =>
        {
            Enabled(o);
            o.ConnectionStateRecovery.SkipMiddlewares = false;
        });
        using var eio = new RawPolling(server);
        var connections = server.Connections();
        var (_, pid, offset) = await InitAsync(eio, server);
        await connections.NextAsync();
        server.Io.Sockets.Use(socket => socket.Data = "middlewareWasCalled");
        var newSid = await eio.HandshakeAsync();
        await eio.PushAsync(newSid, $$"""40{"pid":"{{pid}}","offset":"{{offset}}"}""");
        var socket = await connections.NextAsync();
        Assert.That(socket.Recovered, Is.True);
        Assert.That(socket.Data, Is.EqualTo("middlewareWasCalled"));
        await eio.PollAsync(newSid);
    }

    [Test(Description = "should fail to restore an unknown session")]
    public async Task ShouldFailToRestoreAnUnknownSession()
    {
        var server = await StartAsync(Enabled);
        using var eio = new RawPolling(server);
        var sid = await eio.HandshakeAsync();
        await eio.PushAsync(sid, """40{"pid":"foo","offset":"bar"}""");
        var handshakeBody = await eio.PollAsync(sid);
        Assert.That(handshakeBody, Does.StartWith("40"));
        var handshake = JsonNode.Parse(handshakeBody[2..])!;
        Assert.That(handshake["sid"]!.GetValue<string>(), Is.Not.EqualTo("foo"));
        Assert.That(handshake["pid"]!.GetValue<string>(), Is.Not.EqualTo("bar"));
    }

    [Test(Description = "should be disabled by default")]
    public async Task ShouldBeDisabledByDefault()
    {
        var server = await StartAsync();
        using var eio = new RawPolling(server);
        var sid = await eio.HandshakeAsync();
        await eio.PushAsync(sid, "40");
        var handshakeBody = await eio.PollAsync(sid);
        Assert.That(handshakeBody, Does.StartWith("40"));
        var handshake = JsonNode.Parse(handshakeBody[2..])!.AsObject();
        Assert.That(handshake["sid"], Is.Not.Null);
        Assert.That(handshake.ContainsKey("pid"), Is.False);
    }

    [Test(Description = "should not call adapter#persistSession or adapter#restoreSession if disabled")]
    public async Task ShouldNotCallAdapterPersistSessionOrRestoreSessionIfDisabled()
    {
        var server = await StartAsync();
        using var eio = new RawPolling(server);
        var connections = server.Connections();
        var sid = await eio.HandshakeAsync();
        await eio.PushAsync(sid, """40{"pid":"foo","offset":"bar"}""");
        var answer = await eio.PollAsync(sid);
        Assert.That(answer, Does.StartWith("40{\"sid\":"));
        var socket = await connections.NextAsync();
        await eio.PushAsync(sid, "1");
        await Eventually.UntilAsync(() => !socket.Connected, TaskTimeouts.Default, "the session closed");
        // the .NET form of "the adapter's persistSession / restoreSession are never called": with recovery off
        // the namespace has no session store at all, so nothing is kept or looked up
        Assert.That(server.Io.Sockets.Recovery, Is.Null);
        Assert.That(socket.Recovered, Is.False);
    }

    [Test(Description = "should restore session and missed packets")]
    public async Task ShouldRestoreSessionAndMissedPackets()
    {
        var server = await StartAsync(Enabled);
        using var eio = new RawPolling(server);
        var serverSocket = new TaskCompletionSource<SocketIoSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(socket =>
        {
            if (serverSocket.TrySetResult(socket))
            {
                socket.Join("room1");
            }
        });
        var (sid, pid, offset) = await InitAsync(eio, server);
        var socket = await serverSocket.Task.Within();
        await Eventually.UntilAsync(() => !socket.Connected, TaskTimeouts.Default, "the first session closed");
        server.Io.Emit("hello1");
        server.Io.To("room1").Emit("hello2");
        socket.Emit("hello3");
        var newSid = await eio.HandshakeAsync();
        await eio.PushAsync(newSid, $$"""40{"pid":"{{pid}}","offset":"{{offset}}"}""");
        var packets = (await eio.PollAsync(newSid)).Split('\x1e');
        Assert.That(packets, Has.Length.EqualTo(4), string.Join(" | ", packets));
        // as in Node, the missed EVENT packets come before the CONNECT answer
        Assert.That(packets[0], Does.StartWith("42[\"hello1\""));
        Assert.That(packets[1], Does.StartWith("42[\"hello2\""));
        Assert.That(packets[2], Does.StartWith("42[\"hello3\""));
        Assert.That(packets[3], Is.EqualTo($$"""40{"sid":"{{sid}}","pid":"{{pid}}"}"""));
    }
}
