using System.Text.Json.Nodes;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using static SocketIoSignal.Tests.Codelab.SeedLog;
using static SocketIoSignal.Tests.Infrastructure.RawSocketIoClient;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>
/// The seed's index.js handlers in the default (codelab) mode, checked event for event on the wire, and the
/// places where the Node original falls over and ours must hold (item 3 and 4 of the issue).
/// </summary>
[TestFixture]
public sealed class SignalingHandlersTests
{
    [Test]
    public async Task CreateJoinFullMessageByeAndIpAddrAsTheSeedDoes()
    {
        await using var server = await TestServer.StartAsync();
        await using var a = await ConnectAsync(server.BaseUri, 3);
        await using var b = await ConnectAsync(server.BaseUri, 3);
        await using var c = await ConnectAsync(server.BaseUri, 3);
        await using var outsider = await ConnectAsync(server.BaseUri, 3);

        await a.EmitAsync("create or join", "foo");
        Assert.That(await a.TakeUntilAsync("created"), Is.EqualTo(new[]
        {
            Log("Received request to create or join room foo"),
            Log("Room foo now has 0 client(s)"),
            Log($"Client ID {a.Id} created room foo"),
            Ev("created", "foo", a.Id),
        }));

        await b.EmitAsync("create or join", "foo");
        Assert.That(await b.TakeUntilAsync("ready"), Is.EqualTo(new[]
        {
            Log("Received request to create or join room foo"),
            Log("Room foo now has 1 client(s)"),
            Log($"Client ID {b.Id} joined room foo"),
            Ev("joined", "foo", b.Id),
            Ev("ready"),
        }));
        // "join" went to the room before B was in it: A gets it, B does not.
        Assert.That(await a.TakeUntilAsync("ready"), Is.EqualTo(new[] { Ev("join", "foo"), Ev("ready") }));

        await c.EmitAsync("create or join", "foo");
        Assert.That(await c.TakeUntilAsync("full"), Is.EqualTo(new[]
        {
            Log("Received request to create or join room foo"),
            Log("Room foo now has 2 client(s)"),
            Ev("full", "foo"),
        }));

        // message: to every other socket on the server, in the room or not; the sender gets its log line.
        await a.EmitAsync("message", JsonNode.Parse("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}"));
        var offer = new Dictionary<string, string> { ["type"] = "offer", ["sdp"] = "v=0\r\n" };
        Assert.That(await a.TakeUntilAsync("log"), Is.EqualTo(new[] { Ev("log", (object)new object[] { "Message from server:", "Client said: ", offer }) }));
        foreach (var other in new[] { b, c, outsider })
        {
            Assert.That(await other.TakeUntilAsync("message"), Is.EqualTo(new[] { Ev("message", offer) }));
        }

        // ipaddr: each non-loopback IPv4 address, to the asker only.
        await a.EmitAsync("ipaddr");
        var expected = LocalIPv4().Select(ip => Ev("ipaddr", ip)).ToArray();
        Assert.That(await a.FlushAsync(), Is.EqualTo(expected));

        // bye: only logged.
        await a.EmitAsync("bye", "foo");
        Assert.That(await a.FlushAsync(), Is.Empty);
        foreach (var other in new[] { b, c, outsider })
        {
            Assert.That(await other.FlushAsync(), Is.Empty, "nothing else reached the other sockets");
        }
        Assert.That(server.Logs.Lines, Has.Some.Contains($"socket {a.Id} said bye (foo)"));
        server.AssertNoErrors();
    }

    /// <summary>The Node server dies on "constructor" (a prototype property taken for a room); here they are rooms.</summary>
    [TestCase("constructor")]
    [TestCase("__proto__")]
    [TestCase("toString")]
    [TestCase("hasOwnProperty")]
    [TestCase("valueOf")]
    public async Task PrototypeNamesAreOrdinaryRooms(string room)
    {
        await using var server = await TestServer.StartAsync();
        var clients = await ConnectManyAsync(server.BaseUri, 3, 3);
        try
        {
            await clients[0].EmitAsync("create or join", room);
            Assert.That(await clients[0].TakeUntilAsync("created"), Has.Member(Log($"Room {room} now has 0 client(s)")));
            await clients[1].EmitAsync("create or join", room);
            Assert.That(await clients[1].TakeUntilAsync("ready"), Has.Member(Ev("joined", room, clients[1].Id)));
            Assert.That(await clients[0].TakeUntilAsync("ready"), Is.EqualTo(new[] { Ev("join", room), Ev("ready") }));
            await clients[2].EmitAsync("create or join", room);
            Assert.That(await clients[2].TakeUntilAsync("full"), Is.EqualTo(new[]
            {
                Log("Received request to create or join room " + room),
                Log($"Room {room} now has 2 client(s)"),
                Ev("full", room),
            }));
            // The server is still up and relaying.
            await clients[2].EmitAsync("message", "still here");
            Assert.That(await clients[0].TakeUntilAsync("message"), Is.EqualTo(new[] { Ev("message", "still here") }));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
        server.AssertNoErrors();
    }

    /// <summary>Room names are bounded (--Signaling:MaxRoomNameLength, 1024): longer ones get full and make no room.</summary>
    [Test]
    public async Task OverlongRoomNamesAreRefusedWithFull()
    {
        await using var server = await TestServer.StartAsync();
        await using var a = await ConnectAsync(server.BaseUri, 3);
        var longest = new string('r', 1024);
        await a.EmitAsync("create or join", longest);
        Assert.That(await a.TakeUntilAsync("created"), Has.Member(Ev("created", longest, a.Id)));
        var tooLong = new string('x', 1025);
        await a.EmitAsync("create or join", tooLong);
        Assert.That(await a.TakeUntilAsync("full"), Is.EqualTo(new[] { Log("Received request to create or join room " + tooLong), Ev("full", tooLong) }));
        Assert.That(await server.Get<global::SocketIoSignal.SocketIO.SocketIoServer>().Sockets.Adapter.RoomSizeAsync(tooLong).Within(), Is.Zero);
        server.AssertNoErrors();
    }

    /// <summary>Ten clients ask for one room at the same instant, several times over: never a third member.</summary>
    [Test]
    public async Task SimultaneousJoinsGiveExactlyTwoMembers()
    {
        await using var server = await TestServer.StartAsync();
        var clients = await ConnectManyAsync(server.BaseUri, 3, 10);
        try
        {
            for (int round = 0; round < 5; round++)
            {
                string room = "race" + round;
                var packet = EventPacket("create or join", room);
                using var go = new ManualResetEventSlim();
                var sends = clients.Select(c => Task.Run(async () =>
                {
                    go.Wait(TaskTimeouts.Default);
                    await c.SendRawAsync(packet);
                })).ToArray();
                go.Set();
                await Task.WhenAll(sends).Within();
                var outcomes = new List<string>();
                foreach (var c in clients)
                {
                    var events = await c.FlushAsync();
                    outcomes.AddRange(events.Select(EventName).Where(n => n is "created" or "joined" or "full")!);
                }
                Assert.That(outcomes.Count(o => o == "created"), Is.EqualTo(1), $"round {round}: {string.Join(",", outcomes)}");
                Assert.That(outcomes.Count(o => o == "joined"), Is.EqualTo(1), $"round {round}: {string.Join(",", outcomes)}");
                Assert.That(outcomes.Count(o => o == "full"), Is.EqualTo(8), $"round {round}: {string.Join(",", outcomes)}");
                Assert.That(await server.Get<global::SocketIoSignal.SocketIO.SocketIoServer>().Sockets.Adapter.RoomSizeAsync(room).Within(), Is.EqualTo(2));
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
        server.AssertNoErrors();
    }

    /// <summary>A member that closes its connection frees its place before the close completes.</summary>
    [Test]
    public async Task ClosingTheConnectionFreesTheSlotAtOnce()
    {
        await using var server = await TestServer.StartAsync();
        await using var a = await ConnectAsync(server.BaseUri, 3);
        await using var b = await ConnectAsync(server.BaseUri, 3);
        await using var c = await ConnectAsync(server.BaseUri, 3);
        await a.EmitAsync("create or join", "slot");
        await a.TakeUntilAsync("created");
        await b.EmitAsync("create or join", "slot");
        await b.TakeUntilAsync("ready");
        await c.EmitAsync("create or join", "slot");
        await c.TakeUntilAsync("full");

        await b.CloseAsync();
        await c.EmitAsync("create or join", "slot");
        var events = await c.TakeUntilAsync("ready");
        Assert.That(events, Has.Member(Log("Room slot now has 1 client(s)")));
        Assert.That(events, Has.Member(Ev("joined", "slot", c.Id)));
        server.AssertNoErrors();
    }

    /// <summary>A socket.io disconnect ("41") without closing the connection frees the place too.</summary>
    [Test]
    public async Task LeavingTheNamespaceFreesTheSlotAtOnce()
    {
        await using var server = await TestServer.StartAsync();
        await using var a = await ConnectAsync(server.BaseUri, 3);
        await using var b = await ConnectAsync(server.BaseUri, 3);
        await using var c = await ConnectAsync(server.BaseUri, 3);
        await a.EmitAsync("create or join", "slot");
        await a.TakeUntilAsync("created");
        await b.EmitAsync("create or join", "slot");
        await b.TakeUntilAsync("ready");

        await a.SendRawAsync("41");
        await a.FlushAsync();   // the server has read "41" once it answers the ping sent after it
        await c.EmitAsync("create or join", "slot");
        var events = await c.TakeUntilAsync("ready");
        Assert.That(events, Has.Member(Log("Room slot now has 1 client(s)")));
        Assert.That(events, Has.Member(Ev("joined", "slot", c.Id)));
        Assert.That(await b.TakeUntilAsync("ready"), Is.EqualTo(new[] { Ev("join", "slot"), Ev("ready") }));
        server.AssertNoErrors();
    }

    /// <summary>
    /// The join of a socket lands after its disconnect cleared its rooms (held back by a gated adapter, as a
    /// slow cluster adapter would): the server must take it out again, or the room keeps a ghost member.
    /// </summary>
    [Test]
    public async Task JoinRacingDisconnectLeavesNoGhost()
    {
        var gate = new GatedRoomAdapterFactory("ghost");
        await using var server = await TestServer.StartAsync(configure: b => GatedRoomAdapterFactory.Install(b, gate));
        var a = await ConnectAsync(server.BaseUri, 3);
        await a.EmitAsync("create or join", "ghost");
        await gate.JoinEntered.Within();
        await a.CloseAsync();
        await a.DisposeAsync();
        await gate.SocketRemoved.Within();   // the disconnect cleared A's rooms (before its join landed)
        gate.ReleaseJoin();
        await gate.JoinCompleted.Within();
        try
        {
            await gate.RemovedAfterJoin.Within(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            Assert.Fail("the join that landed after the disconnect was never undone: room 'ghost' keeps a ghost member");
        }
        Assert.That(await gate.Inner.RoomSizeAsync("ghost").Within(), Is.Zero);

        await using var b = await ConnectAsync(server.BaseUri, 3);
        await b.EmitAsync("create or join", "ghost");
        var events = await b.TakeUntilAsync("created");
        Assert.That(events, Has.Member(Log("Room ghost now has 0 client(s)")));
        server.AssertNoErrors();
    }

    /// <summary>What os.networkInterfaces() lists as IPv4, 127.0.0.1 left out.</summary>
    private static List<string> LocalIPv4() =>
        [.. NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Where(u => u.Address.AddressFamily == AddressFamily.InterNetwork && u.Address.ToString() != "127.0.0.1")
            .Select(u => u.Address.ToString())];
}
