using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Redis;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// A mixed cluster on one Redis: our node and a Node node (socket.io 4.8.1 + @socket.io/redis-adapter 8.3.0,
/// classic). Every cluster call of the Node adapter's protocol, made from either side, sees both nodes' sockets.
/// Clients are real socket.io-client 4.8.1 clients (run by the fixture).
/// </summary>
[TestFixture]
internal sealed class RedisClassicMixedClusterTests
{
    private string _prefix = "";
    private TestServer _ours = null!;
    private NodeClusterNode _node = null!;
    private readonly List<JsonArray> _serverSide = [];
    private string _a = "";
    private string _b = "";

    [SetUp]
    public async Task StartAsync()
    {
        _prefix = RedisSetUp.UniquePrefix();
        _ours = await TestServer.StartAsync(["--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", _prefix, "--Redis:RequestsTimeout", "3000"]);
        ClusterTestHooks.Install(_ours, "dotnet", _serverSide);
        await ClusterTestHooks.Adapter(_ours).Requests.Subscribed.Within();
        _node = await NodeClusterNode.StartAsync(RedisSetUp.Redis.Address, _prefix, 3000);
        // a on ours, in r1; b on the Node node, in r1 and r2.
        _a = await _node.ConnectAsync("a", _ours.Url, ["r1"], new JsonObject { ["n"] = 1 });
        _b = await _node.ConnectAsync("b", null, ["r1", "r2"], new JsonObject { ["n"] = 2 });
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _node.DisposeAsync();
        await _ours.DisposeAsync();
    }

    private RedisRoomAdapter Ours => ClusterTestHooks.Adapter(_ours);

    [Test]
    public async Task EachSideCountsBothServers()
    {
        Assert.That((await _node.CallAsync("serverCount"))["count"]!.GetValue<int>(), Is.EqualTo(2), "Node's PUBSUB NUMSUB counts our node");
        Assert.That(await Ours.Requests.ServerCountAsync().Within(), Is.EqualTo(2));
    }

    [Test]
    public async Task FetchSocketsFromNodeReturnsOurSocketWithHandshakeRoomsAndData()
    {
        var reply = await _node.CallAsync("fetch", new JsonObject { ["rooms"] = new JsonArray("r1") });
        var sockets = reply["sockets"]!.AsArray().Select(s => s!.AsObject()).ToList();
        Assert.That(sockets.Select(s => s["id"]!.GetValue<string>()), Is.EquivalentTo(new[] { _a, _b }));
        var ours = sockets.Single(s => s["id"]!.GetValue<string>() == _a);
        Assert.That(ours["data"]!.ToJsonString(), Is.EqualTo("{\"n\":1}"));
        Assert.That(ours["rooms"]!.AsArray().Select(r => r!.GetValue<string>()), Is.EquivalentTo(new[] { _a, "r1" }));
        var handshake = ours["handshake"]!.AsObject();
        Assert.That(handshake["query"]!["EIO"]!.GetValue<string>(), Is.EqualTo("4"));
        Assert.That(handshake["url"]!.GetValue<string>(), Does.StartWith("/socket.io/"));
        Assert.That(handshake["auth"]!["rooms"]!.ToJsonString(), Is.EqualTo("[\"r1\"]"));
        Assert.That(handshake["headers"]!["host"]!.GetValue<string>(), Does.StartWith("127.0.0.1:"));
        Assert.That(handshake["issued"]!.GetValue<long>(), Is.GreaterThan(0));
        Assert.That(handshake["time"]!.GetValue<string>(), Does.Contain("GMT"));
        Assert.That(handshake["secure"]!.GetValue<bool>(), Is.False);

        // except r2 leaves b out.
        reply = await _node.CallAsync("fetch", new JsonObject { ["rooms"] = new JsonArray("r1"), ["except"] = new JsonArray("r2") });
        Assert.That(reply["sockets"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()), Is.EqualTo(new[] { _a }));
    }

    [Test]
    public async Task FetchSocketsFromOursReturnsTheNodeSocket()
    {
        var answer = await Ours.Requests.FetchSocketsAsync(new BroadcastTarget(new HashSet<string> { "r2" }, RoomSet.Empty)).Within();
        Assert.That(answer.Complete, Is.True);
        var b = answer.Value.Single();
        Assert.That(b.Id, Is.EqualTo(_b));
        Assert.That(b.Rooms, Is.EquivalentTo(new[] { _b, "r1", "r2" }));
        Assert.That(b.Data!.ToJsonString(), Is.EqualTo("{\"n\":2}"));
        Assert.That(b.Handshake["auth"]!["rooms"]!.ToJsonString(), Is.EqualTo("[\"r1\",\"r2\"]"));

        var all = await Ours.Requests.FetchSocketsAsync(BroadcastTarget.All).Within();
        Assert.That(all.Value.Select(s => s.Id), Is.EquivalentTo(new[] { _a, _b }));
    }

    [Test]
    public async Task AllRoomsFromEitherSide()
    {
        var fromNode = (await _node.CallAsync("allRooms"))["rooms"]!.AsArray().Select(r => r!.GetValue<string>());
        Assert.That(fromNode, Is.EquivalentTo(new[] { _a, _b, "r1", "r2" }));
        var fromOurs = await Ours.Requests.AllRoomsAsync().Within();
        Assert.That(fromOurs.Value.Distinct(), Is.EquivalentTo(new[] { _a, _b, "r1", "r2" }));
    }

    [Test]
    public async Task SocketsJoinAndLeaveFromNodeMoveOurSocket()
    {
        await _node.CallAsync("join", new JsonObject { ["rooms"] = new JsonArray("r1"), ["room"] = "r3" });
        await Eventually.UntilAsync(() => Ours.RoomsOf(_a).Contains("r3"), TimeSpan.FromSeconds(10), "socketsJoin from Node reaches our socket");
        // The local join comes first, the Redis write right after it.
        await Eventually.UntilAsync(async () => await RedisSetUp.Redis.Db.SetLengthAsync(_prefix + "#room#/#r3") == 1, TimeSpan.FromSeconds(10), "and our Redis room set");
        await _node.CallAsync("leave", new JsonObject { ["room"] = "r1" });
        await Eventually.UntilAsync(() => !Ours.RoomsOf(_a).Contains("r1"), TimeSpan.FromSeconds(10), "socketsLeave from Node reaches our socket");

        // The RemoteSocket handle of a fetch: join on one of our sockets.
        await _node.CallAsync("remoteJoin", new JsonObject { ["id"] = _a, ["room"] = "solo" });
        await Eventually.UntilAsync(() => Ours.RoomsOf(_a).Contains("solo"), TimeSpan.FromSeconds(10), "RemoteSocket.join from Node");
    }

    [Test]
    public async Task SocketsJoinAndLeaveFromOursMoveTheNodeSocket()
    {
        await Ours.Requests.AddSocketsAsync(new BroadcastTarget(new HashSet<string> { "r2" }, RoomSet.Empty), ["r4"]).Within();
        await Eventually.UntilAsync(async () => await RoomsOfNodeSocketAsync(_b) is { } rooms && rooms.Contains("r4"), TimeSpan.FromSeconds(10), "socketsJoin from ours reaches the Node socket");
        Assert.That(Ours.RoomsOf(_a), Does.Not.Contain("r4"), "a is not in r2");

        await Ours.Requests.AddSocketsAsync(BroadcastTarget.All, ["everyone"]).Within();
        Assert.That(Ours.RoomsOf(_a), Does.Contain("everyone"), "our own socket joins at once");
        await Ours.Requests.DelSocketsAsync(BroadcastTarget.All, ["r1"]).Within();
        await Eventually.UntilAsync(async () => await RoomsOfNodeSocketAsync(_b) is { } rooms && rooms.Contains("everyone") && !rooms.Contains("r1"), TimeSpan.FromSeconds(10), "socketsLeave from ours reaches the Node socket");
    }

    [Test]
    public async Task DisconnectSocketsFromEitherSide()
    {
        await _node.CallAsync("disconnect", new JsonObject { ["rooms"] = new JsonArray(_a), ["close"] = false });
        var gone = await _node.WaitForEventAsync(e => e["event"]?.GetValue<string>() == "disconnect" && e["client"]?.GetValue<string>() == "a");
        Assert.That(gone["reason"]!.GetValue<string>(), Is.EqualTo("io server disconnect"));

        Ours.Requests.DisconnectSockets(new BroadcastTarget(new HashSet<string> { "r2" }, RoomSet.Empty), true);
        gone = await _node.WaitForEventAsync(e => e["event"]?.GetValue<string>() == "disconnect" && e["client"]?.GetValue<string>() == "b");
        // With close the whole connection goes, each namespace told first (as Node's client._disconnect does).
        Assert.That(gone["reason"]!.GetValue<string>(), Is.EqualTo("io server disconnect"));
        await Eventually.UntilAsync(() => Ours.RoomsOf(_a).Count == 0, TimeSpan.FromSeconds(10), "a has left every room");
    }

    [Test]
    public async Task ServerSideEmitWithoutAckFromEitherSide()
    {
        await _node.CallAsync("sse", new JsonObject { ["name"] = "notify", ["args"] = new JsonArray("x", 1) });
        await Eventually.UntilAsync(() => { lock (_serverSide) { return _serverSide.Any(a => a.ToJsonString() == "[\"notify\",\"x\",1]"); } },
            TimeSpan.FromSeconds(10), "Node's serverSideEmit reaches our listener");

        Ours.Requests.ServerSideEmit(new JsonArray("notify", "y", 2));
        var received = await _node.WaitForEventAsync(e => e["event"]?.GetValue<string>() == "server-side");
        Assert.That(received["args"]!.ToJsonString(), Is.EqualTo("[\"y\",2]"));
    }

    [Test]
    public async Task ServerSideEmitWithAckFromEitherSide()
    {
        var reply = await _node.CallAsync("sseAck", new JsonObject { ["name"] = "ping-servers", ["args"] = new JsonArray("hello") });
        Assert.That(reply["error"], Is.Null, reply.ToJsonString());
        Assert.That(reply["responses"]!.ToJsonString(), Is.EqualTo("[{\"from\":\"dotnet\",\"args\":[\"hello\"]}]"));

        var answer = await Ours.Requests.ServerSideEmitWithAckAsync(new JsonArray("ping-servers", "hi")).Within();
        Assert.That(answer.Complete, Is.True);
        Assert.That(answer.Value.Single()!.ToJsonString(), Is.EqualTo("{\"from\":\"node\",\"args\":[\"hi\"]}"));
    }

    [Test]
    public async Task BroadcastWithAckFromNodeGathersOurClientToo()
    {
        var reply = await _node.CallAsync("ack", new JsonObject { ["rooms"] = new JsonArray("r1"), ["name"] = "ask", ["arg"] = "q", ["timeout"] = 5000 });
        Assert.That(reply["error"], Is.Null, reply.ToJsonString());
        Assert.That(reply["responses"]!.AsArray().Select(r => r!.ToJsonString()),
            Is.EquivalentTo(new[] { "{\"client\":\"a\",\"arg\":\"q\"}", "{\"client\":\"b\",\"arg\":\"q\"}" }));
    }

    [Test]
    public async Task BroadcastWithAckFromOursGathersTheNodeClientToo()
    {
        // Every answer within the timeout, or AckTimeoutException: the Node node's client "b" must answer too.
        var answers = await _ours.Get<SocketIoSignal.SocketIO.SocketIoServer>().To("r1").Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("ask", "q2").Within();
        Assert.That(answers.Select(r => r!.ToJsonString()),
            Is.EquivalentTo(new[] { "{\"client\":\"a\",\"arg\":\"q2\"}", "{\"client\":\"b\",\"arg\":\"q2\"}" }));
    }

    [Test]
    public async Task ThePublicServerApiGoesClusterWide()
    {
        var io = _ours.Get<SocketIoSignal.SocketIO.SocketIoServer>();
        Ours.Local.ServerSideEmitHandler = null;
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        io.Sockets.On("notify", e => received.TrySetResult(new JsonArray([.. e.Args.Select(a => a?.DeepClone())]).ToJsonString()));
        io.Sockets.On("ping-servers", e => e.Ack(new JsonObject { ["from"] = "api" }));

        await _node.CallAsync("sse", new JsonObject { ["name"] = "notify", ["args"] = new JsonArray("x", 1) });
        Assert.That(await received.Task.Within(), Is.EqualTo("[\"x\",1]"), "Node's serverSideEmit reaches a namespace listener");
        var reply = await _node.CallAsync("sseAck", new JsonObject { ["name"] = "ping-servers", ["args"] = new JsonArray() });
        Assert.That(reply["responses"]!.ToJsonString(), Is.EqualTo("[{\"from\":\"api\"}]"), reply.ToJsonString());

        var answers = await io.Sockets.ServerSideEmitWithAckAsync("ping-servers", "hi").Within();
        Assert.That(answers.Single()!["from"]!.GetValue<string>(), Is.EqualTo("node"));

        var fetched = await io.Sockets.In("r1").FetchSocketsAsync().Within();
        Assert.That(fetched.Select(s => s.Id), Is.EquivalentTo(new[] { _a, _b }), "FetchSocketsAsync includes the Node node's socket");
        var b = fetched.Single(s => s.Id == _b);
        Assert.That(b.Rooms, Is.EquivalentTo(new[] { _b, "r1", "r2" }));
        Assert.That(b.Handshake.Query["EIO"], Is.EqualTo("4"));
        Assert.That(b.Handshake.Auth!["rooms"]!.ToJsonString(), Is.EqualTo("[\"r1\",\"r2\"]"));

        io.Sockets.In("r2").SocketsJoin("api-room");
        await Eventually.UntilAsync(async () => await RoomsOfNodeSocketAsync(_b) is { } rooms && rooms.Contains("api-room"), TimeSpan.FromSeconds(10), "SocketsJoin reaches the Node socket");
        io.Sockets.In("r1").DisconnectSockets();
        await _node.WaitForEventAsync(e => e["event"]?.GetValue<string>() == "disconnect" && e["client"]?.GetValue<string>() == "b");
        await _node.WaitForEventAsync(e => e["event"]?.GetValue<string>() == "disconnect" && e["client"]?.GetValue<string>() == "a");
    }

    private async Task<List<string>?> RoomsOfNodeSocketAsync(string id)
    {
        var reply = await _node.CallAsync("fetch", new JsonObject());
        return reply["sockets"]!.AsArray().FirstOrDefault(s => s!["id"]!.GetValue<string>() == id)?["rooms"]!.AsArray().Select(r => r!.GetValue<string>()).ToList();
    }
}
