using System.Net.NetworkInformation;
using System.Net.Sockets;
using NUnit.Framework;
using SocketIoSignal.Signaling;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.SocketIOTests.Recovery;
using static SocketIoSignal.Tests.Codelab.SeedLog;
using static SocketIoSignal.Tests.Infrastructure.RawSocketIoClient;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>--mode codelab | step6 | rooms, and the Signaling options of rooms mode (item 6).</summary>
[TestFixture]
public sealed class ModeTests
{
    [TestCase(new string[0], SignalingMode.Codelab)]
    [TestCase(new[] { "--mode", "codelab" }, SignalingMode.Codelab)]
    [TestCase(new[] { "--mode", "step6" }, SignalingMode.Step6)]
    [TestCase(new[] { "--mode", "rooms", RecoveryArgs.Off }, SignalingMode.Rooms)]
    [TestCase(new[] { "--Mode", "Rooms" }, SignalingMode.Rooms)]
    public async Task ModeOptionSelectsTheHandlers(string[] args, SignalingMode expected)
    {
        await using var server = await TestServer.StartAsync(args);
        Assert.That(server.Get<CodelabSignaling>().Mode, Is.EqualTo(expected));
        server.AssertNoErrors();
    }

    [Test]
    public async Task Step6ReadyCarriesTheRoomGoesToTheRoomAndToEveryoneElseAndThereIsNoJoin()
    {
        await using var server = await TestServer.StartAsync(["--mode", "step6"]);
        await using var a = await ConnectAsync(server.BaseUri, 3);
        await using var b = await ConnectAsync(server.BaseUri, 3);
        await using var outsider = await ConnectAsync(server.BaseUri, 3);

        await a.EmitAsync("create or join", "s6");
        Assert.That(await a.TakeUntilAsync("created"), Is.EqualTo(new[]
        {
            Log("Received request to create or join room s6"),
            Log("Room s6 now has 0 client(s)"),
            Log($"Client ID {a.Id} created room s6"),
            Ev("created", "s6", a.Id),
        }));

        await b.EmitAsync("create or join", "s6");
        Assert.That(await b.TakeUntilAsync("ready"), Is.EqualTo(new[]
        {
            Log("Received request to create or join room s6"),
            Log("Room s6 now has 1 client(s)"),
            Log($"Client ID {b.Id} joined room s6"),
            Ev("joined", "s6", b.Id),
            Ev("ready", "s6"),
        }));
        // A is in the room and is one of "every other socket": ready twice, and no join.
        var first = await a.TakeUntilAsync("ready");
        var second = await a.TakeUntilAsync("ready");
        Assert.That(first.Concat(second), Is.EqualTo(new[] { Ev("ready", "s6"), Ev("ready", "s6") }));
        Assert.That(await outsider.TakeUntilAsync("ready"), Is.EqualTo(new[] { Ev("ready", "s6") }));
        Assert.That(await b.FlushAsync(), Is.Empty, "the joiner gets ready once");
        Assert.That(await a.FlushAsync(), Is.Empty);

        // bye from a client is only logged.
        await a.EmitAsync("bye", "s6");
        Assert.That(await a.FlushAsync(), Is.Empty);
        Assert.That(await b.FlushAsync(), Is.Empty);
        Assert.That(await outsider.FlushAsync(), Is.Empty);
        Assert.That(server.Logs.Lines, Has.Some.Contains($"socket {a.Id} said bye (s6)"));

        // A disconnecting socket makes the server broadcast bye to every other socket.
        await a.CloseAsync();
        Assert.That(await b.TakeUntilAsync("bye"), Is.EqualTo(new[] { Ev("bye") }));
        Assert.That(await outsider.TakeUntilAsync("bye"), Is.EqualTo(new[] { Ev("bye") }));
        server.AssertNoErrors();
    }

    [Test]
    public async Task CodelabModeSaysNothingWhenAPeerLeaves()
    {
        await using var server = await TestServer.StartAsync();
        await using var a = await ConnectAsync(server.BaseUri, 3);
        await using var b = await ConnectAsync(server.BaseUri, 3);
        await a.EmitAsync("create or join", "quiet");
        await a.TakeUntilAsync("created");
        await b.EmitAsync("create or join", "quiet");
        await b.TakeUntilAsync("ready");
        await a.TakeUntilAsync("ready");
        await a.CloseAsync();
        Assert.That(await b.FlushAsync(), Is.Empty);
        server.AssertNoErrors();
    }

    [Test]
    public async Task RoomsModeRelaysMessagesOnlyWithinTheSendersRooms()
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms", RecoveryArgs.Off]);
        await using var a = await ConnectAsync(server.BaseUri, 3);
        await using var b = await ConnectAsync(server.BaseUri, 3);
        await using var c = await ConnectAsync(server.BaseUri, 3);
        await using var loner = await ConnectAsync(server.BaseUri, 3);
        await a.EmitAsync("create or join", "r1");
        await a.TakeUntilAsync("created");
        await b.EmitAsync("create or join", "r1");
        Assert.That(await b.TakeUntilAsync("ready"), Is.EqualTo(new[]
        {
            Log("Received request to create or join room r1"),
            Log("Room r1 now has 1 client(s)"),
            Log($"Client ID {b.Id} joined room r1"),
            Ev("joined", "r1", b.Id),
            Ev("ready"),
        }));
        Assert.That(await a.TakeUntilAsync("ready"), Is.EqualTo(new[] { Ev("join", "r1"), Ev("ready") }));
        await c.EmitAsync("create or join", "r2");
        await c.TakeUntilAsync("created");

        await a.EmitAsync("message", "for r1");
        Assert.That(await a.TakeUntilAsync("log"), Is.EqualTo(new[] { Log("Client said: ", "for r1") }));
        Assert.That(await b.TakeUntilAsync("message"), Is.EqualTo(new[] { Ev("message", "for r1") }));
        Assert.That(await c.FlushAsync(), Is.Empty, "another room's member got r1's message");
        Assert.That(await loner.FlushAsync(), Is.Empty, "a socket in no room got r1's message");

        // A socket in no room of its own sends to nobody.
        await loner.EmitAsync("message", "anyone?");
        Assert.That(await loner.TakeUntilAsync("log"), Is.EqualTo(new[] { Log("Client said: ", "anyone?") }));
        Assert.That(await loner.FlushAsync(), Is.Empty);
        foreach (var other in new[] { a, b, c })
        {
            Assert.That(await other.FlushAsync(), Is.Empty);
        }
        server.AssertNoErrors();
    }

    [Test]
    public async Task RoomsModeTellsTheRemainingPeerByeWithTheRoom()
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms", RecoveryArgs.Off]);
        await using var a = await ConnectAsync(server.BaseUri, 3);
        await using var b = await ConnectAsync(server.BaseUri, 3);
        await using var c = await ConnectAsync(server.BaseUri, 3);
        await a.EmitAsync("create or join", "r1");
        await a.TakeUntilAsync("created");
        await b.EmitAsync("create or join", "r1");
        await b.TakeUntilAsync("ready");
        await a.TakeUntilAsync("ready");
        await c.EmitAsync("create or join", "r2");
        await c.TakeUntilAsync("created");

        await a.CloseAsync();
        Assert.That(await b.TakeUntilAsync("bye"), Is.EqualTo(new[] { Ev("bye", "r1") }));
        Assert.That(await c.FlushAsync(), Is.Empty, "bye reached a socket of another room");
        // A's place is free again.
        await c.EmitAsync("create or join", "r1");
        Assert.That(await c.TakeUntilAsync("ready"), Has.Member(Ev("joined", "r1", c.Id)));
        server.AssertNoErrors();
    }

    [Test]
    public async Task RoomsModeCapacityIsConfigurable()
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms", RecoveryArgs.Off, "--Signaling:RoomCapacity", "3"]);
        var clients = await ConnectManyAsync(server.BaseUri, 3, 4);
        try
        {
            await clients[0].EmitAsync("create or join", "big");
            await clients[0].TakeUntilAsync("created");
            await clients[1].EmitAsync("create or join", "big");
            await clients[1].TakeUntilAsync("ready");
            await clients[0].TakeUntilAsync("ready");
            await clients[2].EmitAsync("create or join", "big");
            Assert.That(await clients[2].TakeUntilAsync("ready"), Is.EqualTo(new[]
            {
                Log("Received request to create or join room big"),
                Log("Room big now has 2 client(s)"),
                Log($"Client ID {clients[2].Id} joined room big"),
                Ev("joined", "big", clients[2].Id),
                Ev("ready"),
            }));
            Assert.That(await clients[0].TakeUntilAsync("ready"), Is.EqualTo(new[] { Ev("join", "big"), Ev("ready") }));
            Assert.That(await clients[1].TakeUntilAsync("ready"), Is.EqualTo(new[] { Ev("join", "big"), Ev("ready") }));
            await clients[3].EmitAsync("create or join", "big");
            Assert.That(await clients[3].TakeUntilAsync("full"), Is.EqualTo(new[]
            {
                Log("Received request to create or join room big"),
                Log("Room big now has 3 client(s)"),
                Ev("full", "big"),
            }));
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

    [TestCase(new[] { "--mode", "rooms", RecoveryArgs.Off }, false)]
    [TestCase(new[] { "--mode", "rooms", RecoveryArgs.Off, "--Signaling:IpAddr", "true" }, true)]
    [TestCase(new[] { "--mode", "step6" }, true)]
    [TestCase(new[] { "--mode", "codelab", "--Signaling:IpAddr", "false" }, false)]
    public async Task IpAddrIsOffInRoomsModeUnlessEnabled(string[] args, bool answers)
    {
        var addresses = LocalIPv4();
        Assume.That(addresses, Is.Not.Empty, "the machine has no non-loopback IPv4 address to disclose");
        await using var server = await TestServer.StartAsync(args);
        await using var a = await ConnectAsync(server.BaseUri, 3);
        await a.EmitAsync("ipaddr");
        var events = await a.FlushAsync();
        Assert.That(events, Is.EqualTo(answers ? addresses.Select(ip => Ev("ipaddr", ip)).ToArray() : Array.Empty<string>()));
        server.AssertNoErrors();
    }

    private static List<string> LocalIPv4() =>
        [.. NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Where(u => u.Address.AddressFamily == AddressFamily.InterNetwork && u.Address.ToString() != "127.0.0.1")
            .Select(u => u.Address.ToString())];
}
