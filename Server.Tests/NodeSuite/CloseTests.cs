using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>
/// socket.io 4.8 test/close.ts, against our server. Node's <c>io.close()</c> is the host stopping here (the library
/// closes every session as the host stops, README "shutdown").
/// </summary>
[TestFixture]
public sealed class CloseTests : NodeSuiteFixture
{
    /// <summary>The port can be bound again: the server let it go.</summary>
    private static void AssertPortFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        listener.Stop();
    }

    private async Task CloseSendingASrvAsync(string host)
    {
        var server = await StartAsync();
        var client = await Clients.ConnectAsync($"{host}:{server.Port}/");
        await client.ConnectedAsync();
        Assert.That(server.Io.Sockets.Sockets, Has.Count.EqualTo(1));
        await server.DisposeAsync();
        await client.DisconnectedAsync();
        Assert.That(server.Io.Sockets.Sockets, Is.Empty);
        AssertPortFree(server.Port);
    }

    [Test(Description = "should be able to close sio sending a srv")]
    public Task ShouldBeAbleToCloseSioSendingASrv() => CloseSendingASrvAsync("http://127.0.0.1");

    [Test(Description = "should be able to close sio sending a srv (2)")]
    public Task ShouldBeAbleToCloseSioSendingASrv2() => CloseSendingASrvAsync("ws://127.0.0.1");

    [Test(Description = "graceful close › should stop socket and timers")]
    public async Task GracefulCloseShouldStopSocketAndTimers()
    {
        // the original runs a server in a child process and expects it to exit by itself once io.close() and the
        // client's close ran: nothing (socket, timer) keeps it alive. Here: no live timer and no session remains.
        var server = await StartAsync();
        var client = await Clients.ConnectAsync($"ws://127.0.0.1:{server.Port}/");
        await client.ConnectedAsync();
        var engine = server.App.Services.GetRequiredService<EngineIoServer>();
        await server.DisposeAsync();
        await client.DisconnectAsync();
        await Eventually.UntilAsync(() => engine.Metrics.Timers.Live == 0 && server.Io.Metrics.Timers.Live == 0, TaskTimeouts.Default, "every timer stopped");
        Assert.That(engine.Metrics.ActiveSessions, Is.Zero);
        Assert.That(server.Io.Sockets.Sockets, Is.Empty);
        AssertPortFree(server.Port);
    }

#if NODESUITE_FAILING
    // Ported but failing against the server as it is (docs/node-suite.md says how); build with
    // -p:DefineConstants=NODESUITE_FAILING to run them.

    [Test(Description = "protocol violations › should close the connection when receiving several CONNECT packets")]
    public async Task ProtocolViolationsShouldCloseTheConnectionWhenReceivingSeveralConnectPackets()
    {
        var server = await StartAsync();
        using var eio = new RawPolling(server);
        var sid = await eio.HandshakeAsync();
        await eio.PushAsync(sid, "40");
        await eio.PushAsync(sid, "40");
        // first the Socket.IO handshake's answer, then the session is cleanly closed
        Assert.That(await eio.PollAsync(sid), Does.StartWith("40{\"sid\":"));
        Assert.That(await eio.PollAsync(sid), Is.EqualTo("6\u001e1"));
    }

    [Test(Description = "protocol violations › should close the connection when receiving an EVENT packet while not connected")]
    public async Task ProtocolViolationsShouldCloseTheConnectionWhenReceivingAnEventPacketWhileNotConnected()
    {
        var server = await StartAsync();
        using var eio = new RawPolling(server);
        var sid = await eio.HandshakeAsync();
        await eio.PushAsync(sid, "42[\"some event\"]");
        Assert.That(await eio.PollAsync(sid), Is.EqualTo("6\u001e1"));
    }

    [Test(Description = "protocol violations › should close the connection when receiving an invalid packet")]
    public async Task ProtocolViolationsShouldCloseTheConnectionWhenReceivingAnInvalidPacket()
    {
        var server = await StartAsync();
        using var eio = new RawPolling(server);
        var sid = await eio.HandshakeAsync();
        await eio.PushAsync(sid, "40");
        await eio.PushAsync(sid, "4abc");
        Assert.That(await eio.PollAsync(sid), Does.StartWith("40{\"sid\":"));
        Assert.That(await eio.PollAsync(sid), Is.EqualTo("6\u001e1"));
    }
#endif
}
