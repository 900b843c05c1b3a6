using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis.Suite;

/// <summary>
/// The cases of @socket.io/redis-adapter 8.3.0's own tests (test/index.ts, run there for the classic and the
/// sharded adapter, and test/specifics.ts), each under its title, on a cluster of three servers on one Redis:
/// all ours, or ours + a Node 4.8.1 node with the official adapter + ours (servers[1] is the Node node). As in the
/// reference, each test has one socket.io-client 4.8.1 client per server (clientSockets[i] on servers[i], whose
/// socket is serverSockets[i]); the servers are started once per fixture, the clients once per test. Where the
/// reference sleeps, the tests wait for the state itself; "should not happen" is checked after a later emit from
/// the same server has reached every client (Redis keeps one publisher's messages in order).
/// docs/redis-adapter-suite.md maps every case.
/// </summary>
[TestFixture(SuiteMode.Classic, SuiteTrio.AllOurs)]
[TestFixture(SuiteMode.Classic, SuiteTrio.Mixed)]
[TestFixture(SuiteMode.Sharded, SuiteTrio.AllOurs)]
[TestFixture(SuiteMode.Sharded, SuiteTrio.Mixed)]
[TestFixture(SuiteMode.Streams, SuiteTrio.AllOurs)]
[TestFixture(SuiteMode.Streams, SuiteTrio.Mixed)]
[NonParallelizable]
internal sealed class RedisAdapterSuiteTests(SuiteMode mode, SuiteTrio trio)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private string _prefix = "";
    private SuiteNodeProcess _node = null!;
    private ISuiteServer[] _servers = [];
    private string[] _sids = [];
    private bool _custom;
    private int _barriers;

    private ISuiteServer[] Servers => _servers;

    /// <summary>servers[0] is ours in both trios.</summary>
    private OurSuiteServer First => (OurSuiteServer)_servers[0];

    [OneTimeSetUp]
    public async Task StartClusterAsync()
    {
        _prefix = RedisSetUp.UniquePrefix();
        string redis = RedisSetUp.Redis.Address;
        var first = await OurSuiteServer.StartAsync(redis, _prefix, mode);
        _node = await SuiteNodeProcess.StartAsync(redis, _prefix, mode, server: trio == SuiteTrio.Mixed);
        ISuiteServer second = trio == SuiteTrio.Mixed ? new NodeSuiteServer(_node) : await OurSuiteServer.StartAsync(redis, _prefix, mode);
        var third = await OurSuiteServer.StartAsync(redis, _prefix, mode);
        _servers = [first, second, third];
        await Eventually.UntilAsync(async () => await first.ServerCountAsync() == 3, Wait, "every server subscribed");
    }

    [OneTimeTearDown]
    public async Task StopClusterAsync()
    {
        await _node.DisposeAsync();
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    [SetUp]
    public async Task ConnectClientsAsync()
    {
        _node.ClearEvents();
        foreach (var server in _servers.OfType<OurSuiteServer>())
        {
            server.ClearReceived();
        }
        _sids = new string[3];
        for (int i = 0; i < 3; i++)
        {
            _sids[i] = (await _node.CallAsync("connect", new JsonObject { ["name"] = Client(i), ["url"] = _servers[i].Url }))["id"]!.GetValue<string>();
        }
        await Eventually.UntilAsync(async () => (await First.FetchSocketsAsync()).Count == 3, Wait, "every server sees the three sockets");
    }

    [TearDown]
    public async Task CloseClientsAsync()
    {
        await _node.CallAsync("closeClients");
        foreach (var server in _servers)
        {
            await Eventually.UntilAsync(async () => await server.LocalCountAsync() == 0 && (!_custom || await server.LocalCountAsync("/custom") == 0),
                Wait, "the clients are gone from every server");
        }
    }

    private static string Client(int i) => "c" + i;

    // ---- what the clients received ----

    private IReadOnlyList<JsonObject> Received(string client, string eventName) =>
        _node.Events(e => e["event"]?.GetValue<string>() == "client" && e["client"]?.GetValue<string>() == client && e["name"]?.GetValue<string>() == eventName);

    private Task<JsonObject> ClientGotAsync(string client, string eventName) =>
        _node.WaitForEventAsync(e => e["event"]?.GetValue<string>() == "client" && e["client"]?.GetValue<string>() == client && e["name"]?.GetValue<string>() == eventName,
            $"client {client} receives '{eventName}'", Wait);

    /// <summary>
    /// A later emit to everyone from <paramref name="from"/> reaches every client: whatever that server published
    /// before has been delivered, so a client without the earlier event will not get it.
    /// </summary>
    private async Task BarrierAsync(int from)
    {
        string name = "barrier" + Interlocked.Increment(ref _barriers);
        await _servers[from].EmitAsync(name, []);
        for (int i = 0; i < 3; i++)
        {
            await ClientGotAsync(Client(i), name);
        }
    }

    private async Task ShouldNotHappenAsync(int from, params int[] clients)
    {
        await BarrierAsync(from);
        foreach (int i in clients)
        {
            Assert.That(Received(Client(i), "test"), Is.Empty, $"client {i} should not receive the event");
        }
    }

    private Task ReplyAsync(int client, string eventName, JsonNode? value) =>
        _node.CallAsync("reply", new JsonObject { ["client"] = Client(client), ["name"] = eventName, ["value"] = value });

    /// <summary>In sharded mode (dynamic subscriptions) a room's own channel must have its members' servers before a broadcast to it (the reference waits 50 ms).</summary>
    private async Task RoomChannelReadyAsync(string room, int servers)
    {
        if (mode != SuiteMode.Sharded)
        {
            return;
        }
        var redis = RedisSetUp.Redis.Db;
        string channel = _prefix + "#/#" + room + "#";
        await Eventually.UntilAsync(async () =>
        {
            var result = (RedisResult[])(await redis.ExecuteAsync("PUBSUB", "SHARDNUMSUB", channel))!;
            return (long)result[1] >= servers;
        }, Wait, $"{servers} server(s) subscribed to {channel}");
    }

    private async Task RoomsEventuallyAsync(int socket, string room, bool member)
    {
        await Eventually.UntilAsync(async () => (await _servers[socket].RoomsAsync(_sids[socket])).Contains(room) == member, Wait,
            $"serverSockets[{socket}].rooms.has('{room}') is {member}");
    }

    private async Task<bool> HasRoomAsync(int socket, string room) => (await _servers[socket].RoomsAsync(_sids[socket])).Contains(room);

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonValue.Create(p.Key).ToJsonString() + ":" + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };

    // ==== index.ts: broadcast ====

    [TestCase(TestName = "broadcasts to all clients")]
    public async Task BroadcastsToAllClients()
    {
        await Servers[0].EmitAsync("test", [1, "2", new byte[] { 3, 4 }]);
        for (int i = 0; i < 3; i++)
        {
            var got = await ClientGotAsync(Client(i), "test");
            Assert.That(got["args"]!.ToJsonString(), Is.EqualTo("[1,\"2\",{\"binary\":\"0304\"}]"), "1, '2' and a Buffer");
        }
    }

    [TestCase(TestName = "broadcasts to all clients in a namespace")]
    public async Task BroadcastsToAllClientsInANamespace()
    {
        _custom = true;
        foreach (var server in Servers)
        {
            await server.OfAsync("/custom");
        }
        await Eventually.UntilAsync(async () => await Servers[0].ServerCountAsync("/custom") == 3, Wait, "every server serves /custom");
        for (int i = 0; i < 3; i++)
        {
            await _node.CallAsync("connect", new JsonObject { ["name"] = "n" + i, ["base"] = Client(i), ["nsp"] = "/custom" });
        }
        for (int i = 0; i < 3; i++)
        {
            int server = i;
            await Eventually.UntilAsync(async () => await Servers[server].LocalCountAsync("/custom") == 1, Wait, $"the /custom socket is connected to servers[{server}]");
        }

        await Servers[0].EmitAsync("test", [], nsp: "/custom");
        for (int i = 0; i < 3; i++)
        {
            await ClientGotAsync("n" + i, "test");
        }
        await ShouldNotHappenAsync(0, 0, 1, 2);
    }

    [TestCase(TestName = "broadcasts to all clients in a room")]
    public async Task BroadcastsToAllClientsInARoom()
    {
        await Servers[1].JoinAsync(_sids[1], "room1");
        await RoomChannelReadyAsync("room1", 1);

        await Servers[0].EmitAsync("test", [], rooms: ["room1"]);
        await ClientGotAsync(Client(1), "test");
        await ShouldNotHappenAsync(0, 0, 2);
    }

    [TestCase(TestName = "broadcasts to all clients except in room")]
    public async Task BroadcastsToAllClientsExceptInRoom()
    {
        await Servers[1].JoinAsync(_sids[1], "room1");

        await Servers[0].EmitAsync("test", [], except: ["room1"]);
        await ClientGotAsync(Client(0), "test");
        await ClientGotAsync(Client(2), "test");
        await ShouldNotHappenAsync(0, 1);
    }

    [TestCase(TestName = "broadcasts to all clients once")]
    public async Task BroadcastsToAllClientsOnce()
    {
        await Servers[0].JoinAsync(_sids[0], "room1", "room2");
        await Servers[1].JoinAsync(_sids[1], "room1", "room2", "room3");
        await Servers[2].JoinAsync(_sids[2], "room1");

        await Servers[0].EmitAsync("test", [], rooms: ["room1", "room2"], except: ["room3"]);
        await ClientGotAsync(Client(0), "test");
        await ClientGotAsync(Client(2), "test");
        await ShouldNotHappenAsync(0, 1);
        Assert.That(Received(Client(0), "test"), Has.Count.EqualTo(1), "once");
        Assert.That(Received(Client(2), "test"), Has.Count.EqualTo(1), "once");
    }

    [TestCase(TestName = "broadcasts to local clients only")]
    public async Task BroadcastsToLocalClientsOnly()
    {
        await Servers[0].EmitAsync("test", [], local: true);
        await ClientGotAsync(Client(0), "test");
        await ShouldNotHappenAsync(0, 1, 2);
    }

    [TestCase(TestName = "broadcasts to a single client")]
    public async Task BroadcastsToASingleClient()
    {
        await Servers[0].EmitAsync("test", [], rooms: [_sids[1]]);
        await ClientGotAsync(Client(1), "test");
        await ShouldNotHappenAsync(0, 0, 2);
    }

    [TestCase(TestName = "broadcasts with multiple acknowledgements")]
    public async Task BroadcastsWithMultipleAcknowledgements()
    {
        for (int i = 0; i < 3; i++)
        {
            await ReplyAsync(i, "test", i + 1);
        }

        var answer = await Servers[0].EmitWithAckAsync("test", TimeSpan.FromSeconds(3));
        Assert.That(answer.Error, Is.Null);
        Assert.That(answer.Responses.Select(r => r!.GetValue<int>()), Is.EquivalentTo(new[] { 1, 2, 3 }));
        // As the reference's ackRequests.size: nothing left waiting once the broadcast's time is over.
        await Eventually.UntilAsync(() => First.Adapter("/").Requests.PendingCount == 0, Wait, "no request left pending");
    }

    [TestCase(TestName = "broadcasts with multiple acknowledgements (binary content)")]
    public async Task BroadcastsWithMultipleAcknowledgementsBinaryContent()
    {
        for (int i = 0; i < 3; i++)
        {
            await ReplyAsync(i, "test", new JsonObject { ["binary"] = "0" + (i + 1) });
        }

        var answer = await Servers[0].EmitWithAckAsync("test", TimeSpan.FromSeconds(3));
        Assert.That(answer.Error, Is.Null);
        Assert.That(answer.Responses, Has.Count.EqualTo(3));
        Assert.That(answer.Responses.All(SuiteValues.IsBinary), Is.True, "every answer is binary: " + string.Join(", ", answer.Responses.Select(r => r?.ToJsonString())));
        Assert.That(answer.Responses.Select(r => { SocketIoSignal.SocketIO.Protocol.SocketIoBinary.TryGet(r, out var b); return Convert.ToHexString(b.Span); }),
            Is.EquivalentTo(new[] { "01", "02", "03" }));
    }

    [TestCase(TestName = "broadcasts with multiple acknowledgements (no client)")]
    public async Task BroadcastsWithMultipleAcknowledgementsNoClient()
    {
        var answer = await Servers[0].EmitWithAckAsync("test", TimeSpan.FromSeconds(3), rooms: ["abc"]);
        Assert.That(answer.Error, Is.Null);
        Assert.That(answer.Responses, Is.Empty);
    }

    [TestCase(TestName = "broadcasts with multiple acknowledgements (timeout)")]
    public async Task BroadcastsWithMultipleAcknowledgementsTimeout()
    {
        await ReplyAsync(0, "test", 1);
        await ReplyAsync(1, "test", 2);

        var answer = await Servers[0].EmitWithAckAsync("test", TimeSpan.FromSeconds(1));
        Assert.That(answer.Error, Is.Not.Null, "an error at the timeout");
        Assert.That(answer.Responses.Select(r => r!.GetValue<int>()), Is.EquivalentTo(new[] { 1, 2 }), "with the answers that came");
        await ClientGotAsync(Client(2), "test");
    }

    // ==== index.ts: socketsJoin ====

    [TestCase(TestName = "makes all socket instances join the specified room")]
    public async Task MakesAllSocketInstancesJoinTheSpecifiedRoom()
    {
        await Servers[0].SocketsJoinAsync("room1");
        for (int i = 0; i < 3; i++)
        {
            await RoomsEventuallyAsync(i, "room1", true);
        }
    }

    [TestCase(TestName = "makes the matching socket instances join the specified room")]
    public async Task MakesTheMatchingSocketInstancesJoinTheSpecifiedRoom()
    {
        await Servers[0].JoinAsync(_sids[0], "room1");
        await Servers[2].JoinAsync(_sids[2], "room1");

        await Servers[0].SocketsJoinAsync("room2", rooms: ["room1"]);
        await RoomsEventuallyAsync(0, "room2", true);
        await RoomsEventuallyAsync(2, "room2", true);
        Assert.That(await HasRoomAsync(1, "room2"), Is.False);
    }

    [TestCase(TestName = "makes the given socket instance join the specified room")]
    public async Task MakesTheGivenSocketInstanceJoinTheSpecifiedRoom()
    {
        await Servers[0].SocketsJoinAsync("room3", rooms: [_sids[1]]);
        await RoomsEventuallyAsync(1, "room3", true);
        Assert.That(await HasRoomAsync(0, "room3"), Is.False);
        Assert.That(await HasRoomAsync(2, "room3"), Is.False);
    }

    // ==== index.ts: socketsLeave ====

    [TestCase(TestName = "makes all socket instances leave the specified room")]
    public async Task MakesAllSocketInstancesLeaveTheSpecifiedRoom()
    {
        await Servers[0].JoinAsync(_sids[0], "room1");
        await Servers[2].JoinAsync(_sids[2], "room1");

        await Servers[0].SocketsLeaveAsync("room1");
        for (int i = 0; i < 3; i++)
        {
            await RoomsEventuallyAsync(i, "room1", false);
        }
    }

    [TestCase(TestName = "makes the matching socket instances leave the specified room")]
    public async Task MakesTheMatchingSocketInstancesLeaveTheSpecifiedRoom()
    {
        await Servers[0].JoinAsync(_sids[0], "room1", "room2");
        await Servers[1].JoinAsync(_sids[1], "room1", "room2");
        await Servers[2].JoinAsync(_sids[2], "room2");

        await Servers[0].SocketsLeaveAsync("room2", rooms: ["room1"]);
        await RoomsEventuallyAsync(0, "room2", false);
        await RoomsEventuallyAsync(1, "room2", false);
        Assert.That(await HasRoomAsync(2, "room2"), Is.True);
    }

    [TestCase(TestName = "makes the given socket instance leave the specified room")]
    public async Task MakesTheGivenSocketInstanceLeaveTheSpecifiedRoom()
    {
        for (int i = 0; i < 3; i++)
        {
            await Servers[i].JoinAsync(_sids[i], "room3");
        }

        await Servers[0].SocketsLeaveAsync("room3", rooms: [_sids[1]]);
        await RoomsEventuallyAsync(1, "room3", false);
        Assert.That(await HasRoomAsync(0, "room3"), Is.True);
        Assert.That(await HasRoomAsync(2, "room3"), Is.True);
    }

    // ==== index.ts: disconnectSockets ====

    [TestCase(TestName = "makes all socket instances disconnect")]
    public async Task MakesAllSocketInstancesDisconnect()
    {
        await Servers[0].DisconnectSocketsAsync();
        for (int i = 0; i < 3; i++)
        {
            string client = Client(i);
            var gone = await _node.WaitForEventAsync(e => e["event"]?.GetValue<string>() == "disconnect" && e["client"]?.GetValue<string>() == client,
                $"client {i} is disconnected", Wait);
            Assert.That(gone["reason"]!.GetValue<string>(), Is.EqualTo("io server disconnect"));
        }
    }

    // ==== index.ts: fetchSockets ====

    [TestCase(TestName = "returns all socket instances")]
    public async Task ReturnsAllSocketInstances()
    {
        var sockets = await Servers[0].FetchSocketsAsync();
        Assert.That(sockets.Select(s => s.Id), Is.EquivalentTo(_sids));
        Assert.That(First.Adapter("/").Requests.PendingCount, Is.Zero, "clean up");
    }

    [TestCase(TestName = "returns a single socket instance")]
    public async Task ReturnsASingleSocketInstance()
    {
        await Servers[1].SetDataAsync(_sids[1], "test");

        var sockets = await Servers[0].FetchSocketsAsync(rooms: [_sids[1]]);
        var remote = sockets.Single();
        var handshake = await Servers[1].HandshakeAsync(_sids[1]);
        // time is the text of the same instant as issued; the server that wrote it formats it in its own zone.
        Assert.That(remote.Handshake["time"]!.GetValue<string>(), Does.Contain("GMT"));
        remote.Handshake.Remove("time");
        handshake.Remove("time");
        Assert.That(Canonical(remote.Handshake), Is.EqualTo(Canonical(handshake)));
        Assert.That(remote.Data!.GetValue<string>(), Is.EqualTo("test"));
        Assert.That(remote.Rooms, Has.Count.EqualTo(1));
    }

    [TestCase(TestName = "returns only local socket instances")]
    public async Task ReturnsOnlyLocalSocketInstances()
    {
        var sockets = await Servers[0].FetchSocketsAsync(local: true);
        Assert.That(sockets.Select(s => s.Id), Is.EqualTo(new[] { _sids[0] }));
    }

    // ==== index.ts: serverSideEmit ====

    [TestCase(TestName = "sends an event to other server instances")]
    public async Task SendsAnEventToOtherServerInstances()
    {
        for (int i = 0; i < 3; i++)
        {
            await Servers[i].ListenAsync("hello", answer: false);
        }

        await Servers[0].ServerSideEmitAsync("hello", "world", 1, "2");
        foreach (int i in new[] { 1, 2 })
        {
            var server = Servers[i];
            await Eventually.UntilAsync(() => server.ServerSideReceived("hello").Count > 0, Wait, $"servers[{i}] receives 'hello'");
            Assert.That(server.ServerSideReceived("hello").Single().ToJsonString(), Is.EqualTo("[\"world\",1,\"2\"]"));
        }
        Assert.That(Servers[0].ServerSideReceived("hello"), Is.Empty, "not to the sender itself");
    }

    [TestCase(TestName = "sends an event and receives a response from the other server instances")]
    public async Task SendsAnEventAndReceivesAResponseFromTheOtherServerInstances()
    {
        await Servers[0].ListenAsync("hello", answer: false);
        await Servers[1].ListenAsync("hello", answer: true, 2);
        await Servers[2].ListenAsync("hello", answer: true, "3");

        var answer = await Servers[0].ServerSideEmitWithAckAsync("hello");
        Assert.That(answer.Error, Is.Null);
        Assert.That(answer.Responses.Select(r => r!.ToJsonString()), Is.EquivalentTo(new[] { "2", "\"3\"" }));
        Assert.That(Servers[0].ServerSideReceived("hello"), Is.Empty, "not to the sender itself");
    }

    [TestCase(TestName = "sends an event but timeout if one server does not respond")]
    public async Task SendsAnEventButTimeoutIfOneServerDoesNotRespond()
    {
        await Servers[0].ListenAsync("hello", answer: false);
        await Servers[1].ListenAsync("hello", answer: true, 2);
        await Servers[2].ListenAsync("hello", answer: false);

        var answer = await Servers[0].ServerSideEmitWithAckAsync("hello");
        Assert.That(answer.Error, Is.Not.Null, "a timeout (the requests timeout, 1 s here)");
        Assert.That(answer.Responses.Select(r => r!.ToJsonString()), Is.EqualTo(new[] { "2" }));
    }

    // ==== specifics.ts ====

    [TestCase(TestName = "broadcasts to a numeric room")]
    public async Task BroadcastsToANumericRoom()
    {
        await Servers[0].JoinAsync(_sids[0], JsonValue.Create(123));
        await RoomChannelReadyAsync("123", 1);

        await Servers[1].EmitAsync("test", [], rooms: ["123"], numeric: true);
        await ClientGotAsync(Client(0), "test");
        await ShouldNotHappenAsync(1, 1, 2);
    }

    [TestCase(TestName = "ignores messages from unknown channels")]
    public Task IgnoresMessagesFromUnknownChannels() => IgnoresAForeignMessageAsync(RedisChannel.Pattern("f?o"), "foo", "bar");

    [TestCase(TestName = "ignores messages from unknown channels (2)")]
    public Task IgnoresMessagesFromUnknownChannels2() => IgnoresAForeignMessageAsync(RedisChannel.Literal("woot"), "woot", "toow");

    /// <summary>
    /// servers[0]'s own subscriber connection also subscribes to a channel of no adapter's; servers[2]'s connection
    /// publishes there. The message reaches that connection and the adapter goes on as before.
    /// </summary>
    private async Task IgnoresAForeignMessageAsync(RedisChannel subscription, string channel, string message)
    {
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscriber = First.Cluster.Connection.GetSubscriber();
        await subscriber.SubscribeAsync(subscription, (_, value) => received.TrySetResult(value.ToString())).Within();
        try
        {
            var publisher = ((OurSuiteServer)Servers[2]).Cluster.Connection.GetSubscriber();
            await publisher.PublishAsync(RedisChannel.Literal(channel), message).Within();
            Assert.That(await received.Task.Within(), Is.EqualTo(message));

            await Servers[0].EmitAsync("test", []);
            for (int i = 0; i < 3; i++)
            {
                await ClientGotAsync(Client(i), "test");
            }
        }
        finally
        {
            await subscriber.UnsubscribeAsync(subscription).Within();
        }
    }

    [TestCase(TestName = "returns all rooms across several nodes")]
    public async Task ReturnsAllRoomsAcrossSeveralNodes()
    {
        await Servers[0].JoinAsync(_sids[0], "woot1");

        var rooms = await First.Adapter("/").Requests.AllRoomsAsync().Within();
        Assert.That(rooms.Complete, Is.True);
        Assert.That(rooms.Value.ToHashSet(), Is.EquivalentTo(new[] { _sids[0], _sids[1], _sids[2], "woot1" }));
        Assert.That(First.Adapter("/").Requests.PendingCount, Is.Zero);
    }
}
