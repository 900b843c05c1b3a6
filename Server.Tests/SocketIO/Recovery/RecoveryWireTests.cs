using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests.Recovery;

/// <summary>
/// Connection state recovery on the wire, against raw protocol 5 frames: the cases of socket.io's own
/// connection-state-recovery tests, what Node writes (offsets as the last argument, the pid in the CONNECT, the
/// missed events before it), and requests that must get a fresh session, never someone else's.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
internal sealed class RecoveryWireTests
{
    [Test]
    public async Task RestoresTheSessionAndMissedPacketsInOrderBeforeTheConnect()
    {
        await using var host = await RecoveryHost.StartAsync();
        var (client, socket, pid) = await host.ConnectAsync();
        Assert.That(client.ConnectAnswer, Does.Match("^0/rec,\\{\"sid\":\"[A-Za-z0-9_-]{20}\",\"pid\":\"[A-Za-z0-9_-]{20}\"\\}$"), "Node's CONNECT with recovery on");
        Assert.That(pid, Is.Not.EqualTo(client.Id), "the pid is a secret of its own, not the socket id");
        socket.Join("room1");
        host.Namespace.Emit("hello");
        var hello = await client.WaitForAsync("hello");
        Assert.That(hello.Args, Has.Count.EqualTo(1), "the offset is the one argument");
        string offset = RecoveryHost.OffsetOf(hello);

        await host.DropAsync(client);
        host.Namespace.Emit("hello1");
        host.Namespace.To("room1").Emit("hello2");
        host.Namespace.To("elsewhere").Emit("not-mine");
        host.Namespace.Except("room1").Emit("not-mine-either");
        host.Io.Of(RecoveryHost.Nsp).To(client.Id).Emit("hello3");

        await using var back = await host.ReconnectAsync(pid, offset);
        var packets = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            packets.Add(await back.NextTextAsync());
        }
        Assert.That(packets[0], Does.StartWith("2/rec,[\"hello1\",\""));
        Assert.That(packets[1], Does.StartWith("2/rec,[\"hello2\",\""));
        Assert.That(packets[2], Does.StartWith("2/rec,[\"hello3\",\""));
        Assert.That(packets[3], Is.EqualTo($"0/rec,{{\"sid\":\"{client.Id}\",\"pid\":\"{pid}\"}}"), "the CONNECT comes last, as Node sends it");
        var recovered = await host.NextSocketAsync();
        Assert.That((recovered.Id, recovered.Recovered), Is.EqualTo((client.Id, true)));
        Assert.That(socket.Recovered, Is.False, "the first socket was a fresh one");
        await back.ExpectNothingAsync(TimeSpan.FromMilliseconds(200));
        Assert.That(host.Store.KeptSessions, Is.Zero, "a session is taken once");
    }

    [Test]
    public async Task RestoresRoomsAndDataAndRunsTheConnectionHandlersAgain()
    {
        await using var host = await RecoveryHost.StartAsync();
        var (client, socket, pid) = await host.ConnectAsync();
        socket.Join("room1");
        socket.Join("room2");
        socket.Data = "bar";
        socket.Emit("hi");
        string offset = RecoveryHost.OffsetOf(await client.WaitForAsync("hi"));
        await host.DropAsync(client);
        Assert.That(await host.Namespace.To("room1").SocketIdsAsync(), Is.Empty, "away, the socket is in no room (as Node)");

        await using var back = await host.ReconnectAsync(pid, offset);
        var recovered = await host.NextSocketAsync();
        Assert.That(recovered.Id, Is.EqualTo(client.Id));
        Assert.That(recovered.Recovered, Is.True);
        Assert.That(recovered.Rooms, Is.EquivalentTo(new[] { client.Id, "room1", "room2" }));
        Assert.That(recovered.Data, Is.EqualTo("bar"));
        Assert.That(await host.Namespace.To("room2").SocketIdsAsync(), Is.EquivalentTo(new[] { client.Id }));
        host.Namespace.To("room2").Emit("again");
        Assert.That((await back.WaitForAsync("again")).Args, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task DoesNotRunMiddlewaresUponRecoveryByDefault()
    {
        await using var host = await RecoveryHost.StartAsync();
        var (client, socket, pid) = await host.ConnectAsync();
        socket.Emit("hi");
        string offset = RecoveryHost.OffsetOf(await client.WaitForAsync("hi"));
        await host.DropAsync(client);
        int calls = 0;
        host.Namespace.Use(_ => Interlocked.Increment(ref calls));
        await using var back = await host.ReconnectAsync(pid, offset);
        var recovered = await host.NextSocketAsync();
        Assert.That(recovered.Recovered, Is.True);
        Assert.That(calls, Is.Zero);
    }

    [Test]
    public async Task RunsMiddlewaresUponRecoveryWhenAsked()
    {
        await using var host = await RecoveryHost.StartAsync(new Dictionary<string, string> { ["MaxDisconnectionDuration"] = "10000", ["SkipMiddlewares"] = "false" });
        var (client, socket, pid) = await host.ConnectAsync();
        socket.Emit("hi");
        string offset = RecoveryHost.OffsetOf(await client.WaitForAsync("hi"));
        await host.DropAsync(client);
        int calls = 0;
        host.Namespace.Use(_ => Interlocked.Increment(ref calls));
        await using var back = await host.ReconnectAsync(pid, offset);
        var recovered = await host.NextSocketAsync();
        Assert.That(recovered.Recovered, Is.True);
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public async Task NothingMissedNothingReplayed()
    {
        await using var host = await RecoveryHost.StartAsync();
        var (client, socket, pid) = await host.ConnectAsync();
        for (int i = 0; i < 3; i++)
        {
            socket.Emit("n", i);
        }
        string offset = "";
        for (int i = 0; i < 3; i++)
        {
            offset = RecoveryHost.OffsetOf(await client.WaitForAsync("n"));
        }
        await host.DropAsync(client);
        await using var back = await host.ReconnectAsync(pid, offset);
        Assert.That(await back.NextTextAsync(), Does.StartWith("0/rec,{\"sid\":\"" + client.Id + "\""), "the CONNECT alone: nothing twice");
    }

    [Test]
    public async Task FromAnEarlierOffsetTheEventsAfterItComeAgainExactlyOnce()
    {
        await using var host = await RecoveryHost.StartAsync();
        var (client, socket, pid) = await host.ConnectAsync();
        var offsets = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            socket.Emit("n", i);
            offsets.Add(RecoveryHost.OffsetOf(await client.WaitForAsync("n")));
        }
        await host.DropAsync(client);
        socket.Namespace.To(client.Id).Emit("n", 4);
        // The client says it had only the first two: the events lost in flight (2, 3) and the one sent while away (4).
        await using var back = await host.ReconnectAsync(pid, offsets[1]);
        var got = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            got.Add((await back.WaitForAsync("n")).Args[0]!.GetValue<int>());
        }
        Assert.That(got, Is.EqualTo(new[] { 2, 3, 4 }));
        Assert.That(await back.NextTextAsync(), Does.StartWith("0/rec,"));
        await back.ExpectNothingAsync(TimeSpan.FromMilliseconds(200));
    }

    [Test]
    public async Task AnUnknownSessionGetsAFreshOne()
    {
        await using var host = await RecoveryHost.StartAsync();
        await using var client = await host.ReconnectAsync("foo", "bar");
        string answer = await client.NextTextAsync();
        var json = JsonNode.Parse(answer["0/rec,".Length..])!;
        Assert.That(json["sid"]!.GetValue<string>(), Is.Not.EqualTo("foo"));
        Assert.That(json["pid"]!.GetValue<string>(), Is.Not.EqualTo("bar").And.Not.EqualTo("foo"));
        Assert.That((await host.NextSocketAsync()).Recovered, Is.False);
    }

    [Test]
    public async Task IsOffByDefault()
    {
        await using var host = await RecoveryHost.StartAsync(null);
        Assert.That(host.Namespace.Recovery, Is.Null, "nothing is made when off");
        await using var client = await RawSocketIoClient.ConnectAsync(host.Server.BaseUri, 4, RecoveryHost.Nsp, "{\"pid\":\"foo\",\"offset\":\"bar\"}");
        var socket = await host.NextSocketAsync();
        Assert.That(client.ConnectAnswer, Is.EqualTo($"0/rec,{{\"sid\":\"{client.Id}\"}}"), "no pid");
        socket.Emit("hi", 1);
        host.Namespace.Emit("all", 2);
        Assert.That((await client.WaitForAsync("hi")).Text, Is.EqualTo("2/rec,[\"hi\",1]"), "no offset");
        Assert.That((await client.WaitForAsync("all")).Text, Is.EqualTo("2/rec,[\"all\",2]"));
        Assert.That(socket.Recovered, Is.False);
    }

    [Test]
    public async Task AcknowledgedEventsAreNotKeptAndCarryNoOffset()
    {
        await using var host = await RecoveryHost.StartAsync();
        var (client, socket, _) = await host.ConnectAsync();
        var pending = socket.EmitWithAckAsync("ask", TimeSpan.FromSeconds(10), 1);
        var ask = await client.WaitForAsync("ask");
        Assert.That(ask.Text, Is.EqualTo("2/rec,0[\"ask\",1]"), "as Node: the ack function cannot be kept, so neither is the packet");
        await client.SendAsync("3/rec,0[\"ok\"]");
        Assert.That((await pending.Within())[0]!.GetValue<string>(), Is.EqualTo("ok"));
        Assert.That(host.Store.KeptPackets, Is.Zero);
    }

    [Test]
    public async Task AnotherClientsSocketIdAsPidGetsAFreshSession()
    {
        await using var host = await RecoveryHost.StartAsync();
        var (victim, socket, _) = await host.ConnectAsync();
        socket.Join("secret-room");
        socket.Data = "secret";
        socket.Emit("hi");
        string offset = RecoveryHost.OffsetOf(await victim.WaitForAsync("hi"));
        await host.DropAsync(victim);
        // Other clients may learn a socket id (it names a room, it is in events), never the pid.
        await using var thief = await host.ReconnectAsync(victim.Id, offset);
        var answer = JsonNode.Parse((await thief.NextTextAsync())["0/rec,".Length..])!;
        var fresh = await host.NextSocketAsync();
        Assert.That(fresh.Recovered, Is.False);
        Assert.That(answer["sid"]!.GetValue<string>(), Is.Not.EqualTo(victim.Id));
        Assert.That(fresh.Rooms, Is.EquivalentTo(new[] { fresh.Id }));
        Assert.That(fresh.Data, Is.Null);
        Assert.That(host.Store.KeptSessions, Is.EqualTo(1), "the victim's session is untouched");
    }

    [TestCase("forged", Description = "not an offset this server wrote")]
    [TestCase("shifted", Description = "the right prefix, an offset past any sent")]
    [TestCase("other-namespace", Description = "an offset written by another namespace")]
    public async Task AForgedOffsetGetsAFreshSessionAndSpendsThePid(string kind)
    {
        await using var host = await RecoveryHost.StartAsync();
        var (client, socket, pid) = await host.ConnectAsync();
        socket.Emit("hi");
        string offset = RecoveryHost.OffsetOf(await client.WaitForAsync("hi"));
        string bad = kind switch
        {
            "forged" => "Q9ESkVN",
            "shifted" => offset[..(offset.LastIndexOf('.') + 1)] + "99999",
            _ => await OffsetOfAnotherNamespaceAsync(host),
        };
        await host.DropAsync(client);
        await using var back = await host.ReconnectAsync(pid, bad);
        var fresh = await host.NextSocketAsync();
        Assert.That(fresh.Recovered, Is.False);
        Assert.That(fresh.Id, Is.Not.EqualTo(client.Id));
        // Spent: the right offset no longer recovers it (a pid is good once).
        await using var again = await host.ReconnectAsync(pid, offset);
        Assert.That((await host.NextSocketAsync()).Recovered, Is.False);
    }

    private static async Task<string> OffsetOfAnotherNamespaceAsync(RecoveryHost host)
    {
        var other = host.Io.Of("/other");
        var connected = new TaskCompletionSource<SocketIoSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
        other.OnConnection(s => connected.TrySetResult(s));
        await using var client = await RawSocketIoClient.ConnectAsync(host.Server.BaseUri, 4, "/other");
        (await connected.Task.Within()).Emit("x");
        return RecoveryHost.OffsetOf(await client.WaitForAsync("x"));
    }

    [TestCase("{\"pid\":1,\"offset\":\"x\"}")]
    [TestCase("{\"pid\":null,\"offset\":null}")]
    [TestCase("{\"pid\":[\"a\"],\"offset\":{}}")]
    [TestCase("{\"pid\":\"\",\"offset\":\"\"}")]
    public async Task AMalformedRecoveryRequestGetsAFreshSession(string auth)
    {
        await using var host = await RecoveryHost.StartAsync();
        var (client, _, _) = await host.ConnectAsync(auth);
        var socket = host.All.Single();
        Assert.That(socket.Recovered, Is.False);
        Assert.That(client.Id, Is.EqualTo(socket.Id));
    }

    [Test]
    public async Task AnExpiredSessionGetsAFreshOneAndIsForgotten()
    {
        await using var host = await RecoveryHost.StartAsync(windowMs: 300);
        var (client, socket, pid) = await host.ConnectAsync();
        socket.Emit("hi");
        string offset = RecoveryHost.OffsetOf(await client.WaitForAsync("hi"));
        await host.DropAsync(client);
        await Eventually.UntilAsync(() => host.Store.KeptSessions == 0 && host.Store.KeptPackets == 0, TaskTimeouts.Default, "the sweep forgets sessions and events past the window");
        await using var back = await host.ReconnectAsync(pid, offset);
        Assert.That((await host.NextSocketAsync()).Recovered, Is.False);
    }

    [Test]
    public async Task ADeliberateDisconnectIsNotKept()
    {
        await using var host = await RecoveryHost.StartAsync();
        var (client, socket, _) = await host.ConnectAsync();
        var gone = new TaskCompletionSource<DisconnectReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        socket.OnDisconnect(r => gone.TrySetResult(r));
        await client.SendAsync("1/rec,");
        Assert.That(await gone.Task.Within(), Is.EqualTo(DisconnectReason.ClientNamespaceDisconnect));
        var (other, otherSocket, _) = await host.ConnectAsync();
        otherSocket.Disconnect();
        await Eventually.UntilAsync(() => !otherSocket.Connected, TaskTimeouts.Default, "the server disconnected the socket");
        Assert.That(host.Store.KeptSessions, Is.Zero, "neither a client's nor the server's disconnect is recoverable (as Node)");
        await other.DisposeAsync();
        await client.DisposeAsync();
    }

    [Test]
    public async Task AConnectionClosedForBadInputIsNotKept()
    {
        await using var host = await RecoveryHost.StartAsync();
        var (client, socket, _) = await host.ConnectAsync();
        var gone = new TaskCompletionSource<DisconnectReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        socket.OnDisconnect(r => gone.TrySetResult(r));
        await client.SendAsync("2/rec,[\"connect\"]");
        await gone.Task.Within();
        Assert.That(host.Store.KeptSessions, Is.Zero);
        await client.DisposeAsync();
    }

    [Test]
    public async Task ProtocolFourClientsAreNeverKept()
    {
        await using var host = await RecoveryHost.StartAsync();
        await using var v4 = await RawSocketIoClient.ConnectAsync(host.Server.BaseUri, 3, RecoveryHost.Nsp);
        var socket = await host.NextSocketAsync();
        Assert.That(v4.ConnectAnswer, Is.EqualTo("0/rec,"), "protocol 4's CONNECT has no body");
        await v4.DisposeAsync();
        await Eventually.UntilAsync(() => !socket.Connected, TaskTimeouts.Default, "the server saw the drop");
        Assert.That(host.Store.KeptSessions, Is.Zero);
    }
}
