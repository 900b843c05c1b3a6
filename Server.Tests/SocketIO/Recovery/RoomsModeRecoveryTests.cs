using NUnit.Framework;
using SocketIoSignal.Signaling;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests.Recovery;

/// <summary>Rooms mode with recovery: a dropped peer's bye waits for its window, and comes when the peer does not.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
internal sealed class RoomsModeRecoveryTests
{
    [Test]
    public async Task APeerThatDoesNotComeBackIsSaidByeOnceTheWindowIsOver()
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms", "--SocketIo:ConnectionStateRecovery:MaxDisconnectionDuration=1500"]);
        var signaling = server.Get<CodelabSignaling>();
        await using var a = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        await using var b = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        await a.EmitAsync("create or join", "r");
        await a.WaitForAsync("created");
        await b.EmitAsync("create or join", "r");
        await b.WaitForAsync("ready");
        await a.DisposeAsync();
        await Eventually.UntilAsync(() => signaling.PendingByes == 1, TaskTimeouts.Default, "the bye is held back");
        Assert.That(b.PendingEventNames(), Does.Not.Contain("bye"), "not at once");
        var bye = await b.WaitForAsync("bye", TimeSpan.FromSeconds(20));
        Assert.That(bye.Args[0]!.GetValue<string>(), Is.EqualTo("r"), "bye with the room, as without recovery");
        Assert.That(signaling.PendingByes, Is.Zero);
        await Eventually.UntilAsync(() => server.Get<SocketIoServer>().Sockets.Recovery!.KeptSessions == 0, TaskTimeouts.Default, "the session is gone too");
    }

    [Test]
    public async Task NoByeTimerOutlivesTheServer()
    {
        var server = await TestServer.StartAsync(["--mode", "rooms"]);
        var signaling = server.Get<CodelabSignaling>();
        RawSocketIoClient? b = null;
        try
        {
            await using var a = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
            b = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
            await a.EmitAsync("create or join", "r");
            await a.WaitForAsync("created");
            await b.EmitAsync("create or join", "r");
            await b.WaitForAsync("ready");
            await a.DisposeAsync();
            await Eventually.UntilAsync(() => signaling.PendingByes == 1, TaskTimeouts.Default, "the bye is held back");
        }
        finally
        {
            // b is still in the room when the server stops: its disconnect must not arm a timer either.
            await server.DisposeAsync();
            if (b is not null)
            {
                await b.DisposeAsync();
            }
        }
        Assert.That(signaling.PendingByes, Is.Zero, "the held-back bye is dropped with the host, not fired after it");
    }

    [Test]
    public async Task ADeliberateLeaveIsSaidByeAtOnce()
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms"]);
        await using var a = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        await using var b = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        await a.EmitAsync("create or join", "r");
        await a.WaitForAsync("created");
        await b.EmitAsync("create or join", "r");
        await b.WaitForAsync("ready");
        await a.SendAsync("1");
        var bye = await b.WaitForAsync("bye");
        Assert.That(bye.Args[0]!.GetValue<string>(), Is.EqualTo("r"));
        Assert.That(server.Get<CodelabSignaling>().PendingByes, Is.Zero);
    }

    [Test]
    public async Task CodelabModeKeepsRecoveryOffAndItsBytes()
    {
        await using var server = await TestServer.StartAsync();
        Assert.That(server.Get<SocketIoServer>().Sockets.Recovery, Is.Null);
        await using var a = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        Assert.That(a.ConnectAnswer, Does.Not.Contain("pid"));
        await a.EmitAsync("create or join", "r");
        Assert.That((await a.WaitForAsync("created")).Text, Is.EqualTo($"2[\"created\",\"r\",\"{a.Id}\"]"));
    }
}
