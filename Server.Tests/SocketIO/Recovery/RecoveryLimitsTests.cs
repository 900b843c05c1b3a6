using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests.Recovery;

/// <summary>
/// What recovery keeps is bounded: per namespace (the oldest event dropped first), per session (a session that
/// missed more is not recovered, rather than recovered with a gap), in sessions, and in time (everything back to zero
/// once the window is over).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
internal sealed class RecoveryLimitsTests
{
    private static async Task<(RecoveryHost Host, RawSocketIoClient Client, SocketIoSocket Socket, string Pid, string Offset)> OneDroppedAsync(Dictionary<string, string> recovery)
    {
        var host = await RecoveryHost.StartAsync(recovery);
        var (client, socket, pid) = await host.ConnectAsync();
        socket.Join("room");
        socket.Emit("hi");
        string offset = RecoveryHost.OffsetOf(await client.WaitForAsync("hi"));
        await host.DropAsync(client);
        return (host, client, socket, pid, offset);
    }

    [Test]
    public async Task ASessionThatMissedMoreThanItsCapGetsAFreshSession()
    {
        var (host, client, _, pid, offset) = await OneDroppedAsync(new() { ["MaxDisconnectionDuration"] = "10000", ["MaxPacketsPerSession"] = "5" });
        await using var _ = host;
        for (int i = 0; i < 6; i++)
        {
            host.Namespace.To("room").Emit("e", i);
        }
        await using var back = await host.ReconnectAsync(pid, offset);
        var fresh = await host.NextSocketAsync();
        Assert.That(fresh.Recovered, Is.False, "six missed, five allowed: no recovery with a gap");
        Assert.That(fresh.Id, Is.Not.EqualTo(client.Id));
    }

    [Test]
    public async Task ASessionAtItsCapIsRecoveredWithEverything()
    {
        var (host, client, _, pid, offset) = await OneDroppedAsync(new() { ["MaxDisconnectionDuration"] = "10000", ["MaxPacketsPerSession"] = "5" });
        await using var _ = host;
        for (int i = 0; i < 5; i++)
        {
            host.Namespace.To("room").Emit("e", i);
        }
        await using var back = await host.ReconnectAsync(pid, offset);
        var recovered = await host.NextSocketAsync();
        Assert.That((recovered.Id, recovered.Recovered), Is.EqualTo((client.Id, true)));
        for (int i = 0; i < 5; i++)
        {
            Assert.That((await back.WaitForAsync("e")).Args[0]!.GetValue<int>(), Is.EqualTo(i));
        }
    }

    [Test]
    public async Task TheNamespaceKeepsAtMostItsCapDroppingTheOldestAndASessionThatNeededItIsNotRecovered()
    {
        var (host, client, _, pid, offset) = await OneDroppedAsync(new() { ["MaxDisconnectionDuration"] = "10000", ["MaxPackets"] = "8" });
        await using var _ = host;
        // Emitted to no one in particular: a busy namespace pushes the session's events out.
        host.Namespace.To("room").Emit("mine");
        for (int i = 0; i < 20; i++)
        {
            host.Namespace.To("elsewhere").Emit("e", i);
        }
        Assert.That(host.Store.KeptPackets, Is.EqualTo(8));
        await using var back = await host.ReconnectAsync(pid, offset);
        Assert.That((await host.NextSocketAsync()).Recovered, Is.False, "its event was dropped: a fresh session, not a gap");
        Assert.That(back.PendingEventNames(), Does.Not.Contain("mine"));
        Assert.That(client.Id, Is.Not.Empty);
    }

    [Test]
    public async Task TheNamespaceKeepsAtMostItsCapOfSessionsDroppingTheLongestGone()
    {
        await using var host = await RecoveryHost.StartAsync(new Dictionary<string, string> { ["MaxDisconnectionDuration"] = "10000", ["MaxSessions"] = "2" });
        var dropped = new List<(string Pid, string Offset)>();
        for (int i = 0; i < 3; i++)
        {
            var (client, socket, pid) = await host.ConnectAsync();
            socket.Emit("hi");
            dropped.Add((pid, RecoveryHost.OffsetOf(await client.WaitForAsync("hi"))));
            await host.DropAsync(client, keptAfter: Math.Min(i + 1, 2));
            await Eventually.UntilAsync(() => !socket.Connected, TaskTimeouts.Default, "the server saw the drop");
        }
        Assert.That(host.Store.KeptSessions, Is.EqualTo(2));
        await using var first = await host.ReconnectAsync(dropped[0].Pid, dropped[0].Offset);
        Assert.That((await host.NextSocketAsync()).Recovered, Is.False, "the longest gone was dropped");
        await using var last = await host.ReconnectAsync(dropped[2].Pid, dropped[2].Offset);
        Assert.That((await host.NextSocketAsync()).Recovered, Is.True);
    }

    [Test]
    public async Task EverythingKeptIsGoneOnceTheWindowIsOver()
    {
        await using var host = await RecoveryHost.StartAsync(windowMs: 400);
        var clients = new List<RawSocketIoClient>();
        for (int i = 0; i < 5; i++)
        {
            var (client, socket, _) = await host.ConnectAsync();
            socket.Join("room");
            clients.Add(client);
        }
        for (int i = 0; i < 50; i++)
        {
            host.Namespace.To("room").Emit("e", i);
        }
        Assert.That(host.Store.KeptPackets, Is.EqualTo(50));
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
        await Eventually.UntilAsync(() => host.Store.KeptSessions == 5 || host.Store.KeptPackets == 0, TaskTimeouts.Default, "sessions kept");
        await Eventually.UntilAsync(() => host.Store.KeptSessions == 0 && host.Store.KeptPackets == 0, TaskTimeouts.Default, "sessions and events forgotten after the window");
        Assert.That(host.Io.Metrics.ConnectedSockets, Is.Zero);
        Assert.That(host.Namespace.Adapter.LocalRoomCount, Is.Zero, "away sessions hold no room");
    }
}
