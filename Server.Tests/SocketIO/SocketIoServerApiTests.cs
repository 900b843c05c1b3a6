using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>
/// The Socket.IO 4 server API over real Kestrel, driven by raw protocol 5 clients (EIO=4) whose every byte the test
/// sees: catch-all listeners, packet and namespace middleware, flags, acknowledgements (socket and broadcast,
/// bounded), dynamic namespaces, the utilities (fetchSockets…), the handshake.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class SocketIoServerApiTests
{
    private static TaskCompletionSource<T> Signal<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A server whose "/" sockets arrive in a queue as they connect.</summary>
    private static async Task<(TestServer Server, SocketIoServer Io, System.Threading.Channels.Channel<SocketIoSocket> Sockets)> StartAsync(
        Action<SocketIoServer>? setup = null, string[]? args = null)
    {
        var server = await TestServer.StartAsync(args);
        var io = server.Get<SocketIoServer>();
        var sockets = System.Threading.Channels.Channel.CreateUnbounded<SocketIoSocket>();
        setup?.Invoke(io);
        io.OnConnection(s => sockets.Writer.TryWrite(s));
        return (server, io, sockets);
    }

    // ---- catch-all ----

    [Test]
    public async Task OnAnySeesEveryEventEvenWithoutAHandlerInOrderAndOffAnyRemoves()
    {
        var (server, _, sockets) = await StartAsync();
        await using var _ = server;
        await using var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var socket = await sockets.Reader.ReadAsync().AsTask().Within();
        var seen = new ConcurrentQueue<string>();
        var got = Signal<bool>();
        var firstSeen = Signal<bool>();
        Action<SocketIoEvent> second = e =>
        {
            seen.Enqueue("second:" + e.Name + ":" + e.Arg(0)?.ToJsonString());
            firstSeen.TrySetResult(true);
        };
        socket.OnAny(e =>
        {
            seen.Enqueue("first:" + e.Name);
            if (e.Name == "last")
            {
                got.TrySetResult(true);
            }
        });
        socket.OnAny(second);
        socket.PrependAny(e => seen.Enqueue("prepended:" + e.Name));
        Assert.That(socket.ListenersAny(), Has.Count.EqualTo(3));

        await client.SendAsync("2[\"nobody-handles\",{\"a\":1}]");
        await firstSeen.Task.Within();
        socket.OffAny(second);
        await client.SendAsync("2[\"last\"]");
        await got.Task.Within();
        Assert.That(seen, Is.EqualTo(new[]
        {
            "prepended:nobody-handles", "first:nobody-handles", "second:nobody-handles:{\"a\":1}",
            "prepended:last", "first:last",
        }));
        socket.OffAny();
        Assert.That(socket.ListenersAny(), Is.Empty);
        server.AssertNoErrors();
    }

    [Test]
    public async Task OnAnyOutgoingSeesEmitsAndBroadcasts()
    {
        var (server, io, sockets) = await StartAsync();
        await using var _ = server;
        await using var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var socket = await sockets.Reader.ReadAsync().AsTask().Within();
        var outgoing = new ConcurrentQueue<string>();
        socket.OnAnyOutgoing((name, args) => outgoing.Enqueue(name + ":" + string.Join(",", args)));
        socket.PrependAnyOutgoing((name, _) => outgoing.Enqueue("first:" + name));

        socket.Emit("direct", 1);
        io.Emit("to-all", "x");
        io.To(socket.Id).Compress(false).Emit("flagged");
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2[\"direct\",1]"));
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2[\"to-all\",\"x\"]"));
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2[\"flagged\"]"));
        Assert.That(outgoing, Is.EqualTo(new[] { "first:direct", "direct:1", "first:to-all", "to-all:x", "first:flagged", "flagged:" }));
        socket.OffAnyOutgoing();
        socket.Emit("quiet");
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2[\"quiet\"]"));
        Assert.That(outgoing, Has.Count.EqualTo(6));
        Assert.That(socket.ListenersAnyOutgoing(), Is.Empty);
    }

    // ---- packet middleware ----

    [Test]
    public async Task PacketMiddlewareCanRewriteAnEventAndRefuseOneWithAnErrorEvent()
    {
        var (server, _, sockets) = await StartAsync();
        await using var _ = server;
        await using var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var socket = await sockets.Reader.ReadAsync().AsTask().Within();
        var wrapped = Signal<string>();
        var error = Signal<Exception>();
        bool refusedReachedAHandler = false;
        socket.Use((evt, next) =>
        {
            if (evt.Name == "forbidden")
            {
                next(new InvalidOperationException("unauthorized event"));
                return;
            }
            // As Node's test: event.unshift("wrap") makes the name the first argument.
            evt.Args = [JsonValue.Create(evt.Name), .. evt.Args.Select(a => a?.DeepClone())];
            evt.Name = "wrap";
            next(null);
        });
        socket.Use(async evt =>
        {
            await Task.Yield();
            Assert.That(evt.Name, Is.EqualTo("wrap"));
        });
        socket.On("wrap", e => wrapped.TrySetResult(string.Join(",", e.Args.Select(a => a!.ToJsonString()))));
        socket.On("forbidden", _ => refusedReachedAHandler = true);
        socket.OnError(ex => error.TrySetResult(ex));

        await client.SendAsync("2[\"forbidden\"]");
        Assert.That((await error.Task.Within()).Message, Is.EqualTo("unauthorized event"));
        await client.SendAsync("2[\"join\",\"woot\"]");
        Assert.That(await wrapped.Task.Within(), Is.EqualTo("\"join\",\"woot\""));
        Assert.That(refusedReachedAHandler, Is.False);
        Assert.That(socket.Connected, Is.True, "a refused event leaves the socket connected");
    }

    // ---- namespace middleware ----

    [Test]
    public async Task AsyncNamespaceMiddlewareRefusesWithMessageAndData()
    {
        var (server, io, _) = await StartAsync();
        await using var _ = server;
        io.Of("/guarded").Use(async socket =>
        {
            await Task.Delay(10);
            if (socket.Handshake.Auth?["token"]?.GetValue<string>() != "good")
            {
                throw new ConnectRejectedException("not authorized", new JsonObject { ["code"] = 401 });
            }
        });
        await using var refused = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, "/guarded", "{\"token\":\"bad\"}");
        Assert.That(refused.ConnectAnswer, Is.EqualTo("4/guarded,{\"message\":\"not authorized\",\"data\":{\"code\":401}}"));
        await using var accepted = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, "/guarded", "{\"token\":\"good\"}");
        Assert.That(accepted.ConnectAnswer, Does.StartWith("0/guarded,{\"sid\":"));
        server.AssertNoErrors();
    }

    [Test]
    public async Task NodeStyleMiddlewareNextWithAnErrorSendsItsMessageAndServerUseIsTheMainNamespace()
    {
        var (server, io, _) = await StartAsync();
        await using var _ = server;
        io.Use((socket, next) => next(socket.Handshake.Auth?["ok"] is null ? new Exception("Authentication error") : null));
        await using var refused = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        Assert.That(refused.ConnectAnswer, Is.EqualTo("4{\"message\":\"Authentication error\"}"));
        await using var accepted = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, auth: "{\"ok\":1}");
        Assert.That(accepted.ConnectAnswer, Does.StartWith("0{\"sid\":"));
    }

    [Test]
    public async Task EventsSentRightAfterAnAsyncConnectReachHandlersTheConnectionHandlerRegistered()
    {
        var (server, io, _) = await StartAsync();
        await using var _ = server;
        var got = new ConcurrentQueue<string>();
        var all = Signal<bool>();
        var nsp = io.Of("/slow");
        nsp.Use(async _ => await Task.Delay(20));
        nsp.OnConnection(s =>
        {
            s.Emit("welcome");
            s.On("e", e =>
            {
                got.Enqueue(e.Arg(0)!.ToJsonString());
                if (got.Count == 20)
                {
                    all.TrySetResult(true);
                }
            });
        });
        await using var client = await RawSocketIoClient.OpenAsync(server.BaseUri, 4);
        await client.SendAsync("0/slow,");
        Assert.That(await client.NextTextAsync(), Does.StartWith("0/slow,{\"sid\":"));
        for (int i = 0; i < 20; i++)
        {
            await client.SendAsync($"2/slow,[\"e\",{i}]");
        }
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2/slow,[\"welcome\"]"), "the connection handler's emit follows the CONNECT");
        await all.Task.Within();
        Assert.That(got, Is.EqualTo(Enumerable.Range(0, 20).Select(i => i.ToString())));
    }

    [Test]
    public async Task AMiddlewareThatNeverCompletesHoldsOnlyItsConnectionUntilTheConnectTimeout()
    {
        var (server, io, sockets) = await StartAsync(args: ["--SocketIo:ConnectTimeout", "500"]);
        await using var _ = server;
        io.Use(socket => socket.Handshake.Auth?["hang"] is null ? Task.CompletedTask : new TaskCompletionSource().Task);
        await using var stuck = await RawSocketIoClient.OpenAsync(server.BaseUri, 4);
        await stuck.SendAsync("0{\"hang\":true}");
        await using var other = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        Assert.That(other.ConnectAnswer, Does.StartWith("0{\"sid\":"));
        await stuck.ExpectClosedAsync(TimeSpan.FromSeconds(10));
        Assert.That(other.Closed, Is.False);
    }

    // ---- acknowledgements ----

    [Test]
    public async Task SocketEmitWithAckGivesTheFirstArgumentAndTimesOutWithTimeout()
    {
        var (server, io, sockets) = await StartAsync();
        await using var _ = server;
        await using var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var socket = await sockets.Reader.ReadAsync().AsTask().Within();

        var answered = socket.EmitWithAckAsync("q", 1);
        var packet = await client.NextTextAsync();
        Assert.That(packet, Does.Match("^2(\\d+)\\[\"q\",1\\]$"));
        string id = Regex.Match(packet, "^2(\\d+)").Groups[1].Value;
        await client.SendAsync($"3{id}[\"a\",\"b\"]");
        Assert.That((await answered.Within())!.ToJsonString(), Is.EqualTo("\"a\""));

        var silent = socket.Timeout(TimeSpan.FromMilliseconds(200)).EmitWithAckAsync("silence");
        Assert.That(await client.NextTextAsync(), Does.Contain("[\"silence\"]"));
        var ex = Assert.ThrowsAsync<AckTimeoutException>(async () => await silent.Within());
        Assert.That(ex!.Message, Is.EqualTo("operation has timed out"));
        Assert.That(socket.PendingAcks, Is.Zero);
        Assert.That(io.Metrics.PendingAcks, Is.Zero);
    }

    [Test]
    public async Task BroadcastWithAckCollectsEveryAnswerAndOnTimeoutCarriesThoseReceived()
    {
        var (server, io, sockets) = await StartAsync();
        await using var _ = server;
        var clients = await RawSocketIoClient.ConnectManyAsync(server.BaseUri, 4, 3);
        try
        {
            var socketsById = new Dictionary<string, SocketIoSocket>();
            for (int i = 0; i < 3; i++)
            {
                var s = await sockets.Reader.ReadAsync().AsTask().Within();
                socketsById[s.Id] = s;
            }
            socketsById[clients[0].Id].Join("answering");
            socketsById[clients[1].Id].Join("answering");
            var all = io.To("answering").Timeout(TimeSpan.FromSeconds(10)).EmitWithAckAsync("count", 5);
            foreach (var (client, n) in clients.Take(2).Select((c, n) => (c, n)))
            {
                var packet = await client.NextTextAsync();
                Assert.That(packet, Does.Match("^2\\d+\\[\"count\",5\\]$"));
                await client.SendAsync("3" + Regex.Match(packet, "^2(\\d+)").Groups[1].Value + $"[{n}]");
            }
            Assert.That((await all.Within()).Select(a => a!.ToJsonString()), Is.EquivalentTo(new[] { "0", "1" }));

            var partial = io.Timeout(TimeSpan.FromMilliseconds(500)).EmitWithAckAsync("everyone");
            var first = await clients[0].NextTextAsync();
            await clients[0].SendAsync("3" + Regex.Match(first, "^2(\\d+)").Groups[1].Value + "[\"me\"]");
            await clients[0].SendAsync("3" + Regex.Match(first, "^2(\\d+)").Groups[1].Value + "[\"twice\"]");
            var ex = Assert.ThrowsAsync<AckTimeoutException>(async () => await partial.Within());
            Assert.That(ex!.Responses.Select(a => a!.ToJsonString()), Is.EqualTo(new[] { "\"me\"" }));
            await Eventually.UntilAsync(() => io.Metrics.PendingAcks == 0 && socketsById.Values.All(s => s.PendingAcks == 0),
                TimeSpan.FromSeconds(10), "the sockets that never answered no longer wait");
            Assert.That(io.Metrics.Timers.Live, Is.Zero, "the broadcast's timer is gone");
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

    [Test]
    public async Task PendingAcksAreCappedAndAFloodOfAckIdsLeavesNothingBehind()
    {
        var (server, io, sockets) = await StartAsync(args: ["--SocketIo:MaxPendingAcks", "3", "--SocketIo:MaxEventsPerSecond", "0"]);
        await using var _ = server;
        await using var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var socket = await sockets.Reader.ReadAsync().AsTask().Within();
        var waiting = Enumerable.Range(0, 3).Select(i => socket.EmitWithAckAsync("q", i)).ToList();
        Assert.ThrowsAsync<InvalidOperationException>(async () => await socket.EmitWithAckAsync("one-too-many").Within());
        Assert.That(socket.PendingAcks, Is.EqualTo(3));
        Assert.That(io.Metrics.PendingAcks, Is.EqualTo(3));
        // a client that answers ids nobody asked for, and the same id many times
        for (int i = 0; i < 2000; i++)
        {
            await client.SendAsync($"3{1000 + i}[\"x\"]");
        }
        await client.SendAsync("30[\"zero\"]");
        await client.SendAsync("30[\"zero again\"]");
        Assert.That((await waiting[0].Within())!.ToJsonString(), Is.EqualTo("\"zero\""));
        Assert.That(socket.PendingAcks, Is.EqualTo(2));
        await client.CloseAsync();
        foreach (var pending in waiting.Skip(1))
        {
            Assert.ThrowsAsync<InvalidOperationException>(async () => await pending.Within(), "a socket that left fails what it waited for");
        }
        Assert.That(socket.PendingAcks, Is.Zero);
        Assert.That(io.Metrics.PendingAcks, Is.Zero);
        server.AssertNoErrors();
    }

    // ---- flags ----

    [Test]
    public async Task VolatileIsDroppedWhenNoPollIsWaitingAndSentWhenTheTransportIsWritable()
    {
        var (server, io, sockets) = await StartAsync();
        await using var _ = server;
        using var raw = new EngineIoRaw(server.BaseUri);
        var (sid, _) = await raw.HandshakeAsync(4);
        await raw.PostTextAsync(raw.Query(4, "polling", sid), "40");
        var (_, connected) = await raw.GetTextAsync(raw.Query(4, "polling", sid));
        Assert.That(connected, Does.StartWith("40{\"sid\":"));
        var socket = await sockets.Reader.ReadAsync().AsTask().Within();

        // no GET is waiting: the volatile packet is dropped, the plain one queued
        socket.Volatile.Emit("dropped");
        io.Volatile.Emit("dropped-too");
        socket.Emit("kept");
        var (_, body) = await raw.GetTextAsync(raw.Query(4, "polling", sid));
        Assert.That(body, Is.EqualTo("42[\"kept\"]"));

        // a GET is waiting: the volatile packet goes
        var poll = raw.GetTextAsync(raw.Query(4, "polling", sid));
        await Eventually.UntilAsync(() => ((SocketIoSignal.EngineIO.EngineIoSession)socket.Client.Session).HasPendingPoll, TimeSpan.FromSeconds(10), "the poll is waiting");
        socket.Volatile.Emit("sent");
        Assert.That((await poll).Body, Is.EqualTo("42[\"sent\"]"));
    }

    [Test]
    public async Task OverWebSocketAVolatileEmitRightAfterARegularOneIsDroppedAndALaterOneSent()
    {
        var (server, _, sockets) = await StartAsync();
        await using var _ = server;
        await using var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var socket = await sockets.Reader.ReadAsync().AsTask().Within();
        // As Node's "should not emit volatile event after regular event (ws)": in the same handler, the transport is
        // busy with the first.
        socket.On("go", _ =>
        {
            socket.Emit("ev", "regular");
            socket.Volatile.Emit("ev", "volatile");
        });
        await client.EmitAsync("go");
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2[\"ev\",\"regular\"]"));
        await Eventually.UntilAsync(() => socket.Client.Session.Writable, TimeSpan.FromSeconds(10), "the transport is writable again");
        socket.Volatile.Emit("ev", "later");
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2[\"ev\",\"later\"]"), "the dropped one never came");
    }

    [Test]
    public async Task SendAndWriteEmitMessage()
    {
        var (server, io, sockets) = await StartAsync();
        await using var _ = server;
        await using var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var socket = await sockets.Reader.ReadAsync().AsTask().Within();
        socket.Send("a", 1);
        io.Write("b");
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2[\"message\",\"a\",1]"));
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2[\"message\",\"b\"]"));
    }

    [Test]
    public async Task LocalAndCompressFlagsStillDeliverInOneProcess()
    {
        var (server, io, sockets) = await StartAsync();
        await using var _ = server;
        await using var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var socket = await sockets.Reader.ReadAsync().AsTask().Within();
        io.Local.Emit("local");
        socket.Compress(false).Emit("plain");
        socket.Local.Broadcast.Emit("not-to-self");
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2[\"local\"]"));
        Assert.That(await client.NextTextAsync(), Is.EqualTo("2[\"plain\"]"));
        await client.ExpectNothingAsync();
    }

    // ---- dynamic namespaces ----

    [Test]
    public async Task ARegexParentMakesChildrenWithItsMiddlewareAndHandlersAndItsBroadcastsReachThem()
    {
        var (server, io, _) = await StartAsync();
        await using var _ = server;
        var created = new ConcurrentQueue<string>();
        io.OnNewNamespace(n => created.Enqueue(n.Name));
        var connected = new ConcurrentQueue<string>();
        var parent = io.Of(new Regex("^/dynamic-\\d+$"));
        parent.Use(socket => socket.Handshake.Auth?["no"] is null ? Task.CompletedTask : throw new ConnectRejectedException("refused by the parent"));
        parent.OnConnection(s => connected.Enqueue(s.Namespace.Name));

        await using var a = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, "/dynamic-101");
        Assert.That(a.ConnectAnswer, Does.StartWith("0/dynamic-101,{\"sid\":"));
        await using var b = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, "/dynamic-202");
        await using var refused = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, "/dynamic-303", "{\"no\":1}");
        Assert.That(refused.ConnectAnswer, Is.EqualTo("4/dynamic-303,{\"message\":\"refused by the parent\"}"));
        await using var unknown = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, "/static-1");
        Assert.That(unknown.ConnectAnswer, Is.EqualTo("4/static-1,{\"message\":\"Invalid namespace\"}"));

        await Eventually.UntilAsync(() => connected.Count == 2, TimeSpan.FromSeconds(10), "both children ran the parent's handler");
        Assert.That(connected, Is.EquivalentTo(new[] { "/dynamic-101", "/dynamic-202" }));
        Assert.That(created, Is.SupersetOf(new[] { "/dynamic-101", "/dynamic-202" }));
        Assert.That(io.TryGetNamespace("/dynamic-101", out var child), Is.True);
        Assert.That(parent.Name, Does.StartWith("/_"));

        parent.Emit("hello", "all");
        Assert.That(await a.NextTextAsync(), Is.EqualTo("2/dynamic-101,[\"hello\",\"all\"]"));
        Assert.That(await b.NextTextAsync(), Is.EqualTo("2/dynamic-202,[\"hello\",\"all\"]"));
        Assert.ThrowsAsync<NotSupportedException>(async () => await parent.FetchSocketsAsync());
        Assert.That((await child!.FetchSocketsAsync().Within()).Select(s => s.Id), Is.EqualTo(new[] { a.Id }));
    }

    [Test]
    public async Task APredicateParentSeesTheHandshakeAndEmptyChildrenAreCleanedUpWhenAsked()
    {
        var (server, io, _) = await StartAsync(args: ["--SocketIo:CleanupEmptyChildNamespaces", "true"]);
        await using var _ = server;
        io.Of(async (name, handshake) =>
        {
            await Task.Yield();
            return name.StartsWith("/team-", StringComparison.Ordinal) && handshake.Auth?["member"]?.GetValue<bool>() == true;
        });
        await using var outsider = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, "/team-x", "{\"member\":false}");
        Assert.That(outsider.ConnectAnswer, Is.EqualTo("4/team-x,{\"message\":\"Invalid namespace\"}"));
        var member = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, "/team-x", "{\"member\":true}");
        Assert.That(member.ConnectAnswer, Does.StartWith("0/team-x,"));
        Assert.That(io.TryGetNamespace("/team-x", out var _), Is.True);
        await member.SendAsync("1/team-x,");
        await Eventually.UntilAsync(() => !io.TryGetNamespace("/team-x", out var _), TimeSpan.FromSeconds(10), "the empty child is removed");
        await member.DisposeAsync();
    }

    // ---- utilities ----

    [Test]
    public async Task FetchSocketsCarriesDataRoomsAndHandshakeAndItsHandlesAct()
    {
        var (server, io, sockets) = await StartAsync();
        await using var _ = server;
        await using var c1 = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        await using var c2 = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var first = await sockets.Reader.ReadAsync().AsTask().Within();
        var second = await sockets.Reader.ReadAsync().AsTask().Within();
        var (s1, s2) = first.Id == c1.Id ? (first, second) : (second, first);
        s1.Data = new { name = "alice", level = 3 };
        s1.Join("blue");

        var all = await io.FetchSocketsAsync().Within();
        Assert.That(all.Select(s => s.Id), Is.EquivalentTo(new[] { s1.Id, s2.Id }));
        var blue = await io.In("blue").FetchSocketsAsync().Within();
        Assert.That(blue, Has.Count.EqualTo(1));
        var remote = blue[0];
        Assert.That(remote.Id, Is.EqualTo(s1.Id));
        Assert.That(remote.Rooms, Is.EquivalentTo(new[] { s1.Id, "blue" }));
        Assert.That(remote.Data, Is.SameAs(s1.Data));
        Assert.That(remote.Handshake.Auth, Is.Not.Null);
        Assert.That(remote.Local, Is.SameAs(s1));

        remote.Emit("via-handle", 1);
        Assert.That(await c1.NextTextAsync(), Is.EqualTo("2[\"via-handle\",1]"));
        remote.Join("red", "green");
        Assert.That(s1.Rooms, Is.EquivalentTo(new[] { s1.Id, "blue", "red", "green" }));
        remote.Leave("red");
        Assert.That(s1.Rooms, Is.EquivalentTo(new[] { s1.Id, "blue", "green" }));

        io.SocketsJoin("everyone");
        Assert.That(s2.Rooms, Does.Contain("everyone"));
        io.In("blue").SocketsLeave("everyone");
        Assert.That(s1.Rooms, Does.Not.Contain("everyone"));
        Assert.That(s2.Rooms, Does.Contain("everyone"));

        io.Except("blue").DisconnectSockets();
        Assert.That(await c2.NextTextAsync(), Is.EqualTo("1"));
        Assert.That(s2.Connected, Is.False);
        remote.Disconnect(close: true);
        await c1.ExpectClosedAsync();
        Assert.That(s1.Connected, Is.False);
        server.AssertNoErrors();
    }

    [Test]
    public async Task ServerSideEmitWithOneServerSendsNothingAndItsAckHasNoAnswers()
    {
        var (server, io, _) = await StartAsync();
        await using var _ = server;
        bool handled = false;
        io.Sockets.On("ping-servers", _ => handled = true);
        io.ServerSideEmit("ping-servers", 1);
        Assert.That(await io.ServerSideEmitWithAckAsync("ping-servers").Within(), Is.Empty);
        Assert.That(handled, Is.False, "a server does not receive its own server-side events, as Node");
        Assert.Throws<ArgumentException>(() => io.ServerSideEmit("connect"));
    }

    [Test]
    public async Task CloseAsyncDisconnectsEveryClient()
    {
        var (server, io, sockets) = await StartAsync();
        await using var _ = server;
        await using var client = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var socket = await sockets.Reader.ReadAsync().AsTask().Within();
        var reason = Signal<DisconnectReason>();
        socket.OnDisconnect(r => reason.TrySetResult(r));
        await io.CloseAsync().Within(TimeSpan.FromSeconds(20));
        Assert.That(await reason.Task.Within(), Is.EqualTo(DisconnectReason.ServerShuttingDown));
        await client.ExpectClosedAsync();
    }

    // ---- handshake ----

    [Test]
    public async Task HandshakeHasNodesFields()
    {
        var (server, _, sockets) = await StartAsync();
        await using var _ = server;
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using var client = await RawSocketIoClient.OpenAsync(server.BaseUri, 4, "token=abc");
        await client.SendAsync("0{\"user\":\"u\"}");
        await client.NextTextAsync();
        var socket = await sockets.Reader.ReadAsync().AsTask().Within();
        var h = socket.Handshake;
        Assert.That(h.Query["token"], Is.EqualTo("abc"));
        Assert.That(h.Auth!["user"]!.GetValue<string>(), Is.EqualTo("u"));
        Assert.That(h.Issued, Is.InRange(before - 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        Assert.That(h.Time.ToUnixTimeMilliseconds(), Is.EqualTo(h.Issued));
        Assert.That(h.Xdomain, Is.False, "no Origin header");
        Assert.That(h.Secure, Is.False);
        Assert.That(h.Url, Does.StartWith("/socket.io/?EIO=4&transport=websocket"));
        Assert.That(h.Headers.ContainsKey("host"), Is.True);
        Assert.That(h.Address, Is.Not.Null);
    }
}
