using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>
/// The server API over real Kestrel, driven by raw Engine.IO WebSocket clients of protocol 4 (EIO=3) and
/// protocol 5 (EIO=4).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class SocketIoApiTests
{
    private const string Nsp = "/test";

    /// <summary>Server sockets of /test as they connect.</summary>
    private sealed class Connections
    {
        public ConcurrentQueue<SocketIoSocket> All { get; } = new();

        private readonly Channel<SocketIoSocket> _next = Channel.CreateUnbounded<SocketIoSocket>();

        public void Add(SocketIoSocket socket)
        {
            All.Enqueue(socket);
            _next.Writer.TryWrite(socket);
        }

        public Task<SocketIoSocket> NextAsync() => _next.Reader.ReadAsync().AsTask().Within();
    }

    private static async Task<(TestServer Server, Connections Sockets)> StartAsync(Action<SocketIoNamespace>? setup = null, string[]? args = null,
        Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null)
    {
        var server = await TestServer.StartAsync(args, configure);
        var sockets = new Connections();
        var nsp = server.Get<SocketIoServer>().Of(Nsp);
        setup?.Invoke(nsp);
        nsp.OnConnection(sockets.Add);
        return (server, sockets);
    }

    /// <summary>A server with /test, one client connected to /test, and the server's socket for it; disposed together.</summary>
    private sealed record OneClient(TestServer Server, Connections Sockets, RawSocketIoClient Client, string Answer, SocketIoSocket Socket) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    private static async Task<OneClient> ConnectOneAsync(int eio, Action<SocketIoNamespace>? setup = null)
    {
        var (server, sockets) = await StartAsync(setup);
        RawSocketIoClient? client = null;
        try
        {
            client = await RawSocketIoClient.ConnectAsync(server.BaseUri, eio, Nsp);
            return new OneClient(server, sockets, client, client.ConnectAnswer, await sockets.NextAsync());
        }
        catch
        {
            if (client is not null)
            {
                await client.DisposeAsync();
            }
            await server.DisposeAsync();
            throw;
        }
    }

    // ---- CONNECT, ids, rooms ----

    [Test]
    public async Task ProtocolFourIsConnectedToMainUnaskedWithTheEngineSid()
    {
        await using var server = await TestServer.StartAsync();
        var connected = new TaskCompletionSource<SocketIoSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Get<SocketIoServer>().OnConnection(s => connected.TrySetResult(s));
        await using var client = await RawSocketIoClient.OpenAsync(server.BaseUri, 3);
        Assert.That(await client.NextTextAsync(), Is.EqualTo("0"));
        var socket = await connected.Task.Within();
        Assert.That(socket.Id, Is.EqualTo(client.Sid));
        Assert.That(socket.Protocol, Is.EqualTo(4));
        Assert.That(socket.Rooms, Is.EquivalentTo(new[] { client.Sid }));
        Assert.That(socket.Handshake.Auth, Is.Not.Null.And.Empty);
        // a duplicate CONNECT for "/" (some 4 clients send one) is ignored
        await client.SendAsync("0");
        await client.ExpectNothingAsync();
        server.AssertNoErrors();
    }

    [Test]
    public async Task ProtocolFiveWaitsForConnectAndGivesAFreshId()
    {
        await using var server = await TestServer.StartAsync();
        var connected = new TaskCompletionSource<SocketIoSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Get<SocketIoServer>().OnConnection(s => connected.TrySetResult(s));
        await using var client = await RawSocketIoClient.OpenAsync(server.BaseUri, 4);
        await client.ExpectNothingAsync();
        // The connect timeout's timer lives only until the CONNECT: no timer per connected client.
        var io = server.Get<SocketIoServer>();
        Assert.That(io.Metrics.Timers.Live, Is.EqualTo(1));
        await client.SendAsync("0");
        var answer = await client.NextTextAsync();
        Assert.That(answer, Does.Match("^0\\{\"sid\":\"[A-Za-z0-9_-]+\"\\}$"));
        var socket = await connected.Task.Within();
        Assert.That(io.Metrics.Timers.Live, Is.EqualTo(0));
        Assert.That(socket.Id, Is.EqualTo(RawSocketIoClient.IdOf(answer[1..], "sid")));
        Assert.That(socket.Id, Is.Not.EqualTo(client.Sid));
        Assert.That(socket.Protocol, Is.EqualTo(5));
        Assert.That(socket.Rooms, Is.EquivalentTo(new[] { socket.Id }));
        Assert.That(socket.Handshake.Auth, Is.Not.Null.And.Empty);
        server.AssertNoErrors();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task CustomNamespaceIds(int eio)
    {
        await using var one = await ConnectOneAsync(eio);
        var (server, _, client, answer, socket) = one;
        if (eio == 3)
        {
            Assert.That(answer, Is.EqualTo("0/test,"));
            Assert.That(socket.Id, Is.EqualTo("/test#" + client.Sid));
        }
        else
        {
            Assert.That(answer, Does.StartWith("0/test,{\"sid\":"));
            Assert.That(socket.Id, Is.EqualTo(RawSocketIoClient.IdOf(answer[7..], "sid")));
            Assert.That(socket.Id, Does.Not.Contain(client.Sid));
        }
        Assert.That(socket.Rooms, Is.EquivalentTo(new[] { socket.Id }));
        Assert.That(await socket.Namespace.Adapter.RoomSizeAsync(socket.Id), Is.EqualTo(1));
        server.AssertNoErrors();
    }

    [Test]
    public async Task ProtocolFiveIdsAreFreshPerNamespaceAndConnection()
    {
        var (server, sockets) = await StartAsync();
        await using var _ = server;
        var ids = new HashSet<string>();
        for (int i = 0; i < 5; i++)
        {
            var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
            var answer = client.ConnectAnswer;
            await using var __ = client;
            Assert.That(ids.Add(RawSocketIoClient.IdOf(answer[7..], "sid")), Is.True);
        }
    }

    [TestCase(3, "4/nope,\"Invalid namespace\"")]
    [TestCase(4, "4/nope,{\"message\":\"Invalid namespace\"}")]
    public async Task UnknownNamespaceIsRefusedAndTheConnectionStays(int eio, string expected)
    {
        var (server, sockets) = await StartAsync();
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, eio, "/nope");
        var answer = client.ConnectAnswer;
        await using var __ = client;
        Assert.That(answer, Is.EqualTo(expected));
        await client.SendAsync("0/test,");
        Assert.That(await client.NextTextAsync(), Does.StartWith("0/test,"));
        Assert.That(server.Get<SocketIoServer>().TryGetNamespace("/nope", out var _), Is.False, "no namespace is created by a client");
    }

    [TestCase(3, "4/test,\"not allowed\"")]
    [TestCase(4, "4/test,{\"message\":\"not allowed\",\"data\":{\"code\":7}}")]
    public async Task MiddlewareRejectionBecomesConnectError(int eio, string expected)
    {
        var seen = new ConcurrentQueue<string>();
        var (server, sockets) = await StartAsync(nsp => nsp
            .Use(s => seen.Enqueue("first"))
            .Use(s =>
            {
                seen.Enqueue("second");
                if (s.Handshake.Query.GetValueOrDefault("token") != "good")
                {
                    throw new ConnectRejectedException("not allowed", new JsonObject { ["code"] = 7 });
                }
            }));
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, eio, Nsp);
        var answer = client.ConnectAnswer;
        await using var __ = client;
        Assert.That(answer, Is.EqualTo(expected));
        Assert.That(sockets.All, Is.Empty);
        Assert.That(seen, Is.EqualTo(new[] { "first", "second" }));

        var allowed = await RawSocketIoClient.ConnectAsync(server.BaseUri, eio, Nsp, query: "token=good");
        var ok = allowed.ConnectAnswer;
        await using var ___ = allowed;
        Assert.That(ok, Does.StartWith("0/test,"));
        server.AssertNoErrors();
    }

    [Test]
    public async Task MiddlewareFailureIsAnInternalError()
    {
        var (server, _) = await StartAsync(nsp => nsp.Use(_ => throw new InvalidOperationException("boom")));
        await using var s = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        var answer = client.ConnectAnswer;
        await using var c = client;
        Assert.That(answer, Is.EqualTo("4/test,{\"message\":\"Internal error\"}"));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task HandshakeCarriesQueryAuthHeadersAddressAndTime(int eio)
    {
        var (server, sockets) = await StartAsync();
        await using var _ = server;
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await using var client = await RawSocketIoClient.OpenAsync(server.BaseUri, eio, "token=abc&lang=fr", new Dictionary<string, string> { ["X-Custom"] = "hello" });
        if (eio == 3)
        {
            Assert.That(await client.NextTextAsync(), Is.EqualTo("0"));
            await client.SendAsync("0/test?room=r1&lang=de,");
        }
        else
        {
            await client.SendAsync("0/test,{\"token\":\"t0k\",\"n\":[1]}");
        }
        Assert.That(await client.NextTextAsync(), Does.StartWith("0/test,"));
        var hs = (await sockets.NextAsync()).Handshake;
        Assert.That(hs.Query["token"], Is.EqualTo("abc"));
        Assert.That(hs.Query["EIO"], Is.EqualTo(eio.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(hs.Headers["x-custom"], Is.EqualTo("hello"));
        Assert.That(hs.Address, Is.EqualTo(IPAddress.Loopback).Or.EqualTo(IPAddress.Loopback.MapToIPv6()));
        Assert.That(hs.Time, Is.InRange(before, DateTimeOffset.UtcNow.AddSeconds(1)));
        if (eio == 3)
        {
            Assert.That(hs.Query["room"], Is.EqualTo("r1"));
            Assert.That(hs.Query["lang"], Is.EqualTo("de"), "the namespace query wins");
            // as Node: a protocol 4 CONNECT's query is its auth
            Assert.That(hs.Auth!.ToJsonString(), Is.EqualTo("""{"room":"r1","lang":"de"}"""));
        }
        else
        {
            Assert.That(hs.Query["lang"], Is.EqualTo("fr"));
            Assert.That(hs.Auth!.ToJsonString(), Is.EqualTo("{\"token\":\"t0k\",\"n\":[1]}"));
        }
    }

    // ---- events and acks ----

    [TestCase(3)]
    [TestCase(4)]
    public async Task EventsBothWaysAndTheClientsAck(int eio)
    {
        var received = new ConcurrentQueue<string>();
        var (server, sockets) = await StartAsync(nsp => nsp.OnConnection(s =>
        {
            s.On("hello", e =>
            {
                received.Enqueue(e.Name + ":" + string.Join(",", e.Args.Select(a => a?.ToJsonString() ?? "null")) + ":" + e.HasAck);
                e.Ack("got", e.Args.Count);
                e.Ack("twice is ignored");
            });
            s.On("42", e => received.Enqueue("numeric name"));
        }));
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, eio, Nsp);
        await using var __ = client;
        var socket = await sockets.NextAsync();

        Assert.That(socket.Emit("welcome", "you", 1, new { Ok = true }), Is.True);
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2/test,[\"welcome\",\"you\",1,{\"ok\":true}]"));

        await client.SendAsync("2/test,[\"hello\",1,{\"a\":null}]");
        await client.SendAsync("2/test,12[\"hello\",\"x\"]");
        Assert.That(await client.NextTextAsync(), Is.EqualTo("3/test,12[\"got\",1]"));
        await client.SendAsync("2/test,[42]");
        await client.ExpectNothingAsync();
        Assert.That(received, Is.EqualTo(new[] { "hello:1,{\"a\":null}:False", "hello:\"x\":True", "numeric name" }));
        server.AssertNoErrors();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task EmitWithAckGetsTheClientsAnswer(int eio)
    {
        await using var one = await ConnectOneAsync(eio);
        var (server, _, client, _, socket) = one;

        var first = socket.EmitWithAckAsync("question", TimeSpan.FromSeconds(5), "why");
        var second = socket.EmitWithAckAsync("question", TimeSpan.FromSeconds(5), 2);
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2/test,0[\"question\",\"why\"]"));
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2/test,1[\"question\",2]"));
        await client.SendAsync("3/test,1[\"second\"]");
        await client.SendAsync("3/test,0[\"first\",{\"n\":1}]");
        Assert.That((await first.Within()).Select(a => a!.ToJsonString()), Is.EqualTo(new[] { "\"first\"", "{\"n\":1}" }));
        Assert.That((await second.Within()).Select(a => a!.ToJsonString()), Is.EqualTo(new[] { "\"second\"" }));

        // an ack nobody waits for is ignored
        await client.SendAsync("3/test,99[]");
        await client.ExpectNothingAsync();
        Assert.That(socket.Connected, Is.True);
        server.AssertNoErrors();
    }

    [Test]
    public async Task EmitWithAckTimesOut()
    {
        await using var one = await ConnectOneAsync(4);
        var (_, _, client, _, socket) = one;
        var pending = socket.EmitWithAckAsync("silence", TimeSpan.FromMilliseconds(200));
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2/test,0[\"silence\"]"));
        Assert.ThrowsAsync<AckTimeoutException>(async () => await pending.Within());
        // a late answer does no harm
        await client.SendAsync("3/test,0[]");
        await client.ExpectNothingAsync();
    }

    [Test]
    public async Task EmitWithAckFailsWhenTheSocketDisconnects()
    {
        await using var one = await ConnectOneAsync(4);
        var (_, _, client, _, socket) = one;
        var pending = socket.EmitWithAckAsync("q", TimeSpan.FromSeconds(10));
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2/test,0[\"q\"]"));
        await client.SendAsync("1/test,");
        Assert.ThrowsAsync<InvalidOperationException>(async () => await pending.Within());
        Assert.ThrowsAsync<InvalidOperationException>(async () => await socket.EmitWithAckAsync("q", TimeSpan.FromSeconds(1)).Within());
    }

    [Test]
    public async Task ReservedNamesCannotBeEmitted()
    {
        await using var one = await ConnectOneAsync(4);
        var (_, _, client, _, socket) = one;
        Assert.Throws<ArgumentException>(() => socket.Emit("disconnect"));
        Assert.Throws<ArgumentException>(() => socket.Namespace.Emit("connect"));
        Assert.Throws<ArgumentException>(() => socket.Broadcast.Emit("newListener"));
        Assert.ThrowsAsync<ArgumentException>(() => socket.EmitWithAckAsync("disconnecting", TimeSpan.FromSeconds(1)));
        await client.ExpectNothingAsync();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task BinaryBothWays(int eio)
    {
        var got = new TaskCompletionSource<SocketIoEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var (server, sockets) = await StartAsync(nsp => nsp.OnConnection(s => s.On("upload", e =>
        {
            got.TrySetResult(e);
            e.Ack(new byte[] { 9, 8 }, "done");
        })));
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, eio, Nsp);
        await using var __ = client;
        var socket = await sockets.NextAsync();

        await client.SendAsync("52-/test,5[\"upload\",{\"_placeholder\":true,\"num\":0},{\"meta\":{\"_placeholder\":true,\"num\":1}}]");
        await client.SendBinaryAsync([1, 2, 3]);
        await client.SendBinaryAsync([255, 0]);
        var evt = await got.Task.Within();
        Assert.That(SocketIoBinary.TryGet(evt.Arg(0), out var first), Is.True);
        Assert.That(first.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(SocketIoBinary.TryGet(evt.Arg(1)!["meta"], out var second), Is.True);
        Assert.That(second.ToArray(), Is.EqualTo(new byte[] { 255, 0 }));

        Assert.That(await client.NextTextAsync(), Is.EqualTo("61-/test,5[{\"_placeholder\":true,\"num\":0},\"done\"]"));
        Assert.That(await client.NextBinaryAsync(), Is.EqualTo(new byte[] { 9, 8 }));

        socket.Emit("download", "name", new byte[] { 7 }, new JsonObject { ["b"] = SocketIoBinary.ToNode(new byte[] { 6, 6 }) });
        Assert.That(await client.NextTextAsync(), Is.EqualTo("52-/test,[\"download\",\"name\",{\"_placeholder\":true,\"num\":0},{\"b\":{\"_placeholder\":true,\"num\":1}}]"));
        Assert.That(await client.NextBinaryAsync(), Is.EqualTo(new byte[] { 7 }));
        Assert.That(await client.NextBinaryAsync(), Is.EqualTo(new byte[] { 6, 6 }));

        // binary ack from the client
        var ack = socket.EmitWithAckAsync("want-bytes", TimeSpan.FromSeconds(5));
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2/test,0[\"want-bytes\"]"));
        await client.SendAsync("61-/test,0[{\"_placeholder\":true,\"num\":0}]");
        await client.SendBinaryAsync([4, 2]);
        var args = await ack.Within();
        Assert.That(SocketIoBinary.TryGet(args[0], out var acked), Is.True);
        Assert.That(acked.ToArray(), Is.EqualTo(new byte[] { 4, 2 }));
        server.AssertNoErrors();
    }

    [Test]
    public async Task HandlersRunInArrivalOrderEvenWhenAsync()
    {
        var order = new ConcurrentQueue<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (server, _) = await StartAsync(nsp => nsp.OnConnection(s => s.On("n", async e =>
        {
            int n = e.Arg(0)!.GetValue<int>();
            await Task.Delay(n % 2 == 0 ? 30 : 1);
            order.Enqueue(n);
            if (n == 5)
            {
                done.TrySetResult();
            }
        })));
        await using var s = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var c = client;
        for (int i = 0; i <= 5; i++)
        {
            await client.SendAsync($"2/test,[\"n\",{i}]");
        }
        await done.Task.Within();
        Assert.That(order, Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5 }));
    }

    [Test]
    public async Task AFailingHandlerIsLoggedAndTheSocketLives()
    {
        var (server, sockets) = await StartAsync(nsp => nsp.OnConnection(s =>
        {
            s.On("bad", _ => throw new InvalidOperationException("handler bug"));
            s.On("ping-me", e => e.Ack("pong"));
        }));
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var __ = client;
        await client.SendAsync("2/test,[\"bad\"]");
        await client.SendAsync("2/test,1[\"ping-me\"]");
        Assert.That(await client.NextTextAsync(), Is.EqualTo("3/test,1[\"pong\"]"));
        Assert.That(server.Logs.Errors, Has.Exactly(1).Contains("a handler failed for socket").And.Contains("event bad"));
    }

    // ---- rooms and broadcasts ----

    [TestCase(3)]
    [TestCase(4)]
    public async Task BroadcastToAndExceptSemantics(int eio)
    {
        var (server, sockets) = await StartAsync();
        await using var _ = server;
        var clients = new List<RawSocketIoClient>();
        var socks = new List<SocketIoSocket>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, eio, Nsp);
                clients.Add(client);
                socks.Add(await sockets.NextAsync());
            }
            var (a, b, c) = (socks[0], socks[1], socks[2]);
            await a.JoinAsync("r");
            b.Join("r");
            c.Join("muted");
            Assert.That(a.Rooms, Is.EquivalentTo(new[] { a.Id, "r" }));
            var io = server.Get<SocketIoServer>().Of(Nsp);

            async Task ExpectReceivers(string label, params int[] receivers)
            {
                // a marker to everyone after the broadcast: each receiver sees the broadcast first, the others the marker
                io.Emit("marker", label);
                for (int i = 0; i < 3; i++)
                {
                    var text = await clients[i].NextTextAsync();
                    if (receivers.Contains(i))
                    {
                        Assert.That(text, Is.EqualTo($"2/test,[\"{label}\"]"), $"client {i}");
                        text = await clients[i].NextTextAsync();
                    }
                    Assert.That(text, Is.EqualTo($"2/test,[\"marker\",\"{label}\"]"), $"client {i} for {label}");
                }
            }

            a.To("r").Emit("socket-to-room");
            await ExpectReceivers("socket-to-room", 1);
            io.To("r").Emit("io-to-room");
            await ExpectReceivers("io-to-room", 0, 1);
            a.Broadcast.Emit("broadcast");
            await ExpectReceivers("broadcast", 1, 2);
            io.Except("muted").Emit("except");
            await ExpectReceivers("except", 0, 1);
            io.To("r").To("muted").Emit("union");
            await ExpectReceivers("union", 0, 1, 2);
            io.To("r").Except(b.Id).Emit("room-less-one");
            await ExpectReceivers("room-less-one", 0);
            server.Get<SocketIoServer>().Of(Nsp).To(c.Id).Emit("direct");
            await ExpectReceivers("direct", 2);
            await io.EmitAsync("all-async");
            await ExpectReceivers("all-async", 0, 1, 2);
            Assert.That(await io.To("r").SocketIdsAsync().Within(), Is.EquivalentTo(new[] { a.Id, b.Id }));

            b.Leave("r");
            io.To("r").Emit("after-leave");
            await ExpectReceivers("after-leave", 0);
            server.AssertNoErrors();
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task BroadcastsStayInTheirNamespace()
    {
        var (server, sockets) = await StartAsync();
        await using var _ = server;
        server.Get<SocketIoServer>().Of("/other");
        var inTest = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var __ = inTest;
        var inOther = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, "/other");
        await using var ___ = inOther;
        server.Get<SocketIoServer>().Of("/other").Emit("hi");
        Assert.That(await inOther.NextTextAsync(), Is.EqualTo("2/other,[\"hi\"]"));
        await inTest.ExpectNothingAsync();
    }

    [Test]
    public async Task OneConnectionInTwoNamespaces()
    {
        var (server, sockets) = await StartAsync();
        await using var _ = server;
        var other = server.Get<SocketIoServer>().Of("/other");
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var __ = client;
        await client.SendAsync("0/other,");
        Assert.That(await client.NextTextAsync(), Does.StartWith("0/other,{\"sid\":"));
        other.Emit("o");
        server.Get<SocketIoServer>().Of(Nsp).Emit("t");
        var texts = new[] { await client.NextTextAsync(), await client.NextTextAsync() };
        Assert.That(texts, Is.EquivalentTo(new[] { "2/other,[\"o\"]", "2/test,[\"t\"]" }));
        // leaving one namespace keeps the other
        await client.SendAsync("1/other,");
        // The server handles the DISCONNECT when it reads it: wait for that, not for a fixed time.
        await Eventually.UntilAsync(() => other.Sockets.Count == 0, TaskTimeouts.Default, "the /other socket left");
        server.Get<SocketIoServer>().Of(Nsp).Emit("still");
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2/test,[\"still\"]"));
    }

    // ---- disconnects ----

    private static void Track(SocketIoNamespace nsp, ConcurrentQueue<string> log) =>
        nsp.OnConnection(s =>
        {
            s.Join("room-x");
            s.OnDisconnecting(r => log.Enqueue($"disconnecting:{r.ToWire()}:{string.Join(",", s.Rooms.Select(x => x == s.Id ? "<id>" : x).Order(StringComparer.Ordinal))}"));
            s.OnDisconnect(r => log.Enqueue($"disconnect:{r.ToWire()}:{s.Rooms.Count}:{s.Connected}"));
        });

    [TestCase(3)]
    [TestCase(4)]
    public async Task ClientNamespaceDisconnect(int eio)
    {
        var log = new ConcurrentQueue<string>();
        await using var one = await ConnectOneAsync(eio, nsp => Track(nsp, log));
        var (_, _, client, _, socket) = one;
        await client.SendAsync("1/test,");
        await Eventually.UntilAsync(() => log.Count == 2, TaskTimeouts.Default, "disconnecting and disconnect handled");
        Assert.That(log, Is.EqualTo(new[] { "disconnecting:client namespace disconnect:<id>,room-x", "disconnect:client namespace disconnect:0:False" }));
        Assert.That(socket.Namespace.Sockets, Is.Empty);
        Assert.That(socket.Namespace.Adapter.LocalRoomCount, Is.Zero);
        // the connection stays; the namespace can be joined again
        await client.SendAsync("0/test,");
        Assert.That(await client.NextTextAsync(), Does.StartWith("0/test,"));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task ServerNamespaceDisconnect(int eio)
    {
        var log = new ConcurrentQueue<string>();
        await using var one = await ConnectOneAsync(eio, nsp => Track(nsp, log));
        var (server, _, client, _, socket) = one;
        socket.Disconnect();
        Assert.That(await client.NextTextAsync(), Is.EqualTo("1/test,"));
        Assert.That(log, Is.EqualTo(new[] { "disconnecting:server namespace disconnect:<id>,room-x", "disconnect:server namespace disconnect:0:False" }));
        Assert.That(socket.Emit("late"), Is.False, "a disconnected socket sends nothing");
        await client.ExpectNothingAsync();
        socket.Disconnect();
        // an event to the namespace it left closes the connection
        await client.SendAsync("2/test,[\"x\"]");
        await client.ExpectClosedAsync();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task ServerDisconnectWithCloseEndsTheConnection(int eio)
    {
        var log = new ConcurrentQueue<string>();
        await using var one = await ConnectOneAsync(eio, nsp => Track(nsp, log));
        var (server, _, client, _, socket) = one;
        socket.Disconnect(close: true);
        // What was queued before the close is delivered: a DISCONNECT for every namespace the client is in
        // ("/" too for protocol 4, whose clients are always in it), then the connection closes.
        var frames = await client.ExpectClosedAsync();
        var expected = eio == 3 ? new[] { "1", "1" + Nsp + "," } : new[] { "1" + Nsp + "," };
        Assert.That(frames.Select(f => f.Text).Order(StringComparer.Ordinal), Is.EqualTo(expected));
        await Eventually.UntilAsync(() => log.Count == 2, TaskTimeouts.Default, "disconnecting and disconnect handled");
        Assert.That(log.First(), Does.StartWith("disconnecting:server namespace disconnect:<id>,room-x"));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task TransportClose(int eio)
    {
        var log = new ConcurrentQueue<string>();
        var (server, sockets) = await StartAsync(nsp => Track(nsp, log));
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, eio, Nsp);
        var socket = await sockets.NextAsync();
        await client.CloseAsync();
        await client.DisposeAsync();
        await Eventually.UntilAsync(() => log.Count == 2, TaskTimeouts.Default, "disconnecting and disconnect handled");
        Assert.That(log, Is.EqualTo(new[] { "disconnecting:transport close:<id>,room-x", "disconnect:transport close:0:False" }));
        Assert.That(socket.Connected, Is.False);
        Assert.That(server.Get<SocketIoServer>().Metrics.ConnectedSockets, Is.Zero);
    }

    [Test]
    public async Task EngineCloseIsTransportClose()
    {
        var log = new ConcurrentQueue<string>();
        var (server, sockets) = await StartAsync(nsp => Track(nsp, log));
        await using var _ = server;
        var second = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var ___ = second;
        await sockets.NextAsync();
        await second.SendRawAsync("1");
        await Eventually.UntilAsync(() => log.Count == 2, TaskTimeouts.Default, "disconnecting and disconnect handled");
        Assert.That(log.Last(), Does.StartWith("disconnect:transport close"));
    }

    // ---- timeouts ----

    [Test]
    public async Task ConnectTimeoutClosesAProtocolFiveClientThatNeverConnects()
    {
        var fake = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (server, _) = await StartAsync(args: ["--EngineIo:PingInterval", "600000", "--EngineIo:PingTimeout", "600000"],
            configure: b => b.Services.AddSingleton<TimeProvider>(fake));
        await using var _ = server;
        await using var idle = await RawSocketIoClient.OpenAsync(server.BaseUri, 4);
        var connected = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var __ = connected;
        await using var v4 = await RawSocketIoClient.OpenAsync(server.BaseUri, 3);
        Assert.That(await v4.NextTextAsync(), Is.EqualTo("0"));

        fake.Advance(TimeSpan.FromSeconds(44));
        await idle.ExpectNothingAsync(TimeSpan.FromMilliseconds(100));
        fake.Advance(TimeSpan.FromSeconds(1.5));
        await idle.ExpectClosedAsync();

        // those that connected stay
        server.Get<SocketIoServer>().Of(Nsp).Emit("alive");
        Assert.That(await connected.NextTextAsync(), Is.EqualTo("2/test,[\"alive\"]"));
        await v4.ExpectNothingAsync(TimeSpan.FromMilliseconds(50));
    }

    [Test]
    public async Task ConnectTimeoutIsConfigurable()
    {
        var (server, _) = await StartAsync(args: ["--SocketIo:ConnectTimeout", "300"]);
        await using var _ = server;
        await using var idle = await RawSocketIoClient.OpenAsync(server.BaseUri, 4);
        await idle.ExpectClosedAsync(TimeSpan.FromSeconds(5));
    }

    [Test]
    public async Task AttachmentsNeverSentCloseAfterTheTimeout()
    {
        var fake = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var called = 0;
        var (server, _) = await StartAsync(nsp => nsp.OnConnection(s => s.On("bin", _ => Interlocked.Increment(ref called))),
            args: ["--EngineIo:PingInterval", "600000", "--EngineIo:PingTimeout", "600000"],
            configure: b => b.Services.AddSingleton<TimeProvider>(fake));
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var __ = client;
        await client.SendAsync("52-/test,[\"bin\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
        await client.SendBinaryAsync([1]);
        await client.ExpectNothingAsync(TimeSpan.FromMilliseconds(100));
        fake.Advance(TimeSpan.FromSeconds(9));
        await client.ExpectNothingAsync(TimeSpan.FromMilliseconds(100));
        fake.Advance(TimeSpan.FromSeconds(1.5));
        await client.ExpectClosedAsync();
        Assert.That(called, Is.Zero);
    }

    // ---- invalid input closes the connection ----

    [TestCase(3, "2[\"error\"]")]
    [TestCase(4, "2[\"error\"]")]
    [TestCase(4, "2/test,[\"error\",\"x\"]")]
    [TestCase(3, "2/test,[\"disconnect\"]")]
    [TestCase(4, "2/test,[\"connect\"]")]
    [TestCase(4, "2[{\"toString\":\"foo\"}]")]
    [TestCase(4, "2[null]")]
    [TestCase(4, "2[]")]
    [TestCase(3, "4abc")]
    [TestCase(4, "4abc")]
    [TestCase(4, "2{}")]
    [TestCase(4, "2abc[\"message-with-ack\",1]")]
    [TestCase(4, "2/test,[\"a\",\"\\ud800\"]")]
    [TestCase(4, "2/test,[\"a\"]garbage")]
    [TestCase(3, "550-[\"a\"]")]
    [TestCase(4, "5511-[\"a\"]")]
    [TestCase(4, "7")]
    [TestCase(4, "0/test,")]
    [TestCase(4, "2/elsewhere,[\"a\"]")]
    [TestCase(3, "2/elsewhere,[\"a\"]")]
    public async Task InvalidPacketsCloseTheConnection(int eio, string packet)
    {
        var dispatched = 0;
        var (server, _) = await StartAsync(nsp => nsp.OnConnection(s =>
        {
            foreach (var name in new[] { "error", "connect", "disconnect", "a", "message-with-ack" })
            {
                s.On(name, _ => Interlocked.Increment(ref dispatched));
            }
        }));
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, eio, Nsp);
        await using var __ = client;
        await client.SendAsync(packet);
        await client.ExpectClosedAsync();
        Assert.That(dispatched, Is.Zero);
        server.AssertNoErrors();
    }

    [TestCase("2[\"a\"," + "{\"_placeholder\":true,\"num\":\"splice\"}]")]
    [TestCase("2[\"a\"," + "{\"_placeholder\":true,\"num\":-1}]")]
    [TestCase("2[\"a\"," + "{\"_placeholder\":true,\"num\":1}]")]
    [TestCase("2[\"a\"," + "{\"_placeholder\":true,\"num\":1.5}]")]
    public async Task BadPlaceholdersCloseTheConnection(string body)
    {
        var (server, _) = await StartAsync();
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var __ = client;
        await client.SendAsync("51-/test," + body[1..]);
        await client.SendBinaryAsync([1]);
        await client.ExpectClosedAsync();
    }

    [Test]
    public async Task HundredThousandDigitsClose()
    {
        var (server, _) = await StartAsync();
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var __ = client;
        await client.SendAsync("5" + new string('9', 100_000) + "-[\"a\"]");
        await client.ExpectClosedAsync();
        var second = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var ___ = second;
        await second.SendAsync("2/test," + new string('9', 100) + "[\"a\"]");
        await second.ExpectClosedAsync();
        var third = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var ____ = third;
        await third.SendAsync("2/test,[\"a\"," + new string('[', 100_000) + new string(']', 100_000) + "]");
        await third.ExpectClosedAsync();
        server.AssertNoErrors();
    }

    [Test]
    public async Task EventBeforeConnectClosesProtocolFive()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await RawSocketIoClient.OpenAsync(server.BaseUri, 4);
        await client.SendAsync("2[\"message\",\"hi\"]");
        await client.ExpectClosedAsync();
    }

    [Test]
    public async Task UnexpectedBinaryCloses()
    {
        var (server, _) = await StartAsync();
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var __ = client;
        await client.SendBinaryAsync([1, 2]);
        await client.ExpectClosedAsync();
    }

    [Test]
    public async Task TextWhileAttachmentsAreDueCloses()
    {
        var (server, _) = await StartAsync();
        await using var _ = server;
        var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, Nsp);
        await using var __ = client;
        await client.SendAsync("51-/test,[\"a\",{\"_placeholder\":true,\"num\":0}]");
        await client.SendAsync("2/test,[\"a\"]");
        await client.ExpectClosedAsync();
    }

    [Test]
    public async Task SecondConnectToTheSameNamespaceCloses()
    {
        var (server, _) = await StartAsync();
        await using var _ = server;
        var v4 = await RawSocketIoClient.ConnectAsync(server.BaseUri, 3, Nsp);
        await using var __ = v4;
        await v4.SendAsync("0/test,");
        await v4.ExpectClosedAsync();
        await using var v5 = await RawSocketIoClient.OpenAsync(server.BaseUri, 4);
        await v5.SendAsync("0");
        Assert.That(await v5.NextTextAsync(), Does.StartWith("0{"));
        await v5.SendAsync("0");
        await v5.ExpectClosedAsync();
    }
}
