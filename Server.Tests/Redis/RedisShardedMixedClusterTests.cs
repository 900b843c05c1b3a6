using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Redis;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// Sharded mode (<c>--Redis:Mode sharded</c>) beside a Node node with <c>createShardedAdapter</c> (socket.io 4.8.1,
/// @socket.io/redis-adapter 8.3.0) on one Redis 7: the cluster-adapter messages over SPUBLISH/SSUBSCRIBE, every
/// call from either side; in dynamic mode a node subscribes to a room's channel only while it has members there.
/// </summary>
[TestFixture("dynamic")]
[TestFixture("static")]
[TestFixture("dynamic-private")]
internal sealed class RedisShardedMixedClusterTests(string subscriptionMode)
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
        _ours = await TestServer.StartAsync(["--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", _prefix, "--Redis:RequestsTimeout", "3000",
            "--Redis:Mode", "sharded", "--Redis:SubscriptionMode", subscriptionMode]);
        ClusterTestHooks.Install(_ours, "dotnet", _serverSide);
        await ClusterTestHooks.Adapter(_ours).Requests.Subscribed.Within();
        _node = await NodeClusterNode.StartAsync(RedisSetUp.Redis.Address, _prefix, 3000, subscriptionMode);
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

    private static BroadcastTarget In(params string[] rooms) => new(new HashSet<string>(rooms), RoomSet.Empty);

    [Test]
    public async Task EachSideCountsBothServers()
    {
        Assert.That((await _node.CallAsync("serverCount"))["count"]!.GetValue<int>(), Is.EqualTo(2), "Node's SHARDNUMSUB counts our node");
        Assert.That(await Ours.Requests.ServerCountAsync().Within(), Is.EqualTo(2));
    }

    [Test]
    public async Task RoomBroadcastsCrossBothWays()
    {
        await _node.CallAsync("emit", new JsonObject { ["rooms"] = new JsonArray("r1"), ["name"] = "from-node", ["args"] = new JsonArray("x", 1) });
        var got = await _node.WaitForEventAsync(NodeClusterNode.ClientEvent("a", "from-node"));
        Assert.That(got["args"]!.ToJsonString(), Is.EqualTo("[\"x\",1]"));

        await _ours.Get<SocketIoSignal.SocketIO.SocketIoServer>().To("r2").EmitAsync("from-dotnet", "y", new byte[] { 1, 2 });
        got = await _node.WaitForEventAsync(NodeClusterNode.ClientEvent("b", "from-dotnet"));
        Assert.That(got["args"]!.ToJsonString(), Is.EqualTo("[\"y\",{\"binary\":\"0102\"}]"));

        await _ours.Get<SocketIoSignal.SocketIO.SocketIoServer>().Sockets.EmitAsync("to-all", 3);
        await _node.WaitForEventAsync(NodeClusterNode.ClientEvent("b", "to-all"));
        await _node.WaitForEventAsync(NodeClusterNode.ClientEvent("a", "to-all"));
    }

    [Test]
    public async Task FetchSocketsFromEitherSide()
    {
        var reply = await _node.CallAsync("fetch", new JsonObject { ["rooms"] = new JsonArray("r1") });
        var sockets = reply["sockets"]!.AsArray().Select(s => s!.AsObject()).ToList();
        Assert.That(sockets.Select(s => s["id"]!.GetValue<string>()), Is.EquivalentTo(new[] { _a, _b }));
        Assert.That(sockets.Single(s => s["id"]!.GetValue<string>() == _a)["data"]!.ToJsonString(), Is.EqualTo("{\"n\":1}"));

        var answer = await Ours.Requests.FetchSocketsAsync(In("r2")).Within();
        Assert.That(answer.Complete, Is.True);
        Assert.That(answer.Value.Single().Id, Is.EqualTo(_b));
        Assert.That(answer.Value.Single().Rooms, Is.EquivalentTo(new[] { _b, "r1", "r2" }));
    }

    [Test]
    public async Task JoinLeaveAndDisconnectFromEitherSide()
    {
        await _node.CallAsync("join", new JsonObject { ["rooms"] = new JsonArray("r1"), ["room"] = "r3" });
        await Eventually.UntilAsync(() => Ours.RoomsOf(_a).Contains("r3"), TimeSpan.FromSeconds(10), "socketsJoin from Node");
        await Ours.Requests.AddSocketsAsync(In("r2"), ["r4"]).Within();
        await Eventually.UntilAsync(async () => (await _node.CallAsync("fetch", new JsonObject { ["rooms"] = new JsonArray("r4") }))["sockets"]!.AsArray().Count == 1,
            TimeSpan.FromSeconds(10), "socketsJoin from ours");
        await Ours.Requests.DelSocketsAsync(BroadcastTarget.All, ["r1"]).Within();
        await Eventually.UntilAsync(async () => (await _node.CallAsync("fetch", new JsonObject { ["rooms"] = new JsonArray("r1") }))["sockets"]!.AsArray().Count == 0,
            TimeSpan.FromSeconds(10), "socketsLeave from ours, on both nodes");

        Ours.Requests.DisconnectSockets(In("r2"), false);
        var gone = await _node.WaitForEventAsync(e => e["event"]?.GetValue<string>() == "disconnect" && e["client"]?.GetValue<string>() == "b");
        Assert.That(gone["reason"]!.GetValue<string>(), Is.EqualTo("io server disconnect"));
        await _node.CallAsync("disconnect", new JsonObject { ["close"] = true });
        await _node.WaitForEventAsync(e => e["event"]?.GetValue<string>() == "disconnect" && e["client"]?.GetValue<string>() == "a");
    }

    [Test]
    public async Task ServerSideEmitAndAcknowledgedBroadcastsFromEitherSide()
    {
        await _node.CallAsync("sse", new JsonObject { ["name"] = "notify", ["args"] = new JsonArray("x") });
        await Eventually.UntilAsync(() => { lock (_serverSide) { return _serverSide.Any(a => a.ToJsonString() == "[\"notify\",\"x\"]"); } },
            TimeSpan.FromSeconds(10), "Node's serverSideEmit reaches our listener");
        var reply = await _node.CallAsync("sseAck", new JsonObject { ["name"] = "ping-servers", ["args"] = new JsonArray("hello") });
        Assert.That(reply["responses"]!.ToJsonString(), Is.EqualTo("[{\"from\":\"dotnet\",\"args\":[\"hello\"]}]"), reply.ToJsonString());
        var answer = await Ours.Requests.ServerSideEmitWithAckAsync(new JsonArray("ping-servers", "hi")).Within();
        Assert.That(answer.Complete, Is.True);
        Assert.That(answer.Value.Single()!.ToJsonString(), Is.EqualTo("{\"from\":\"node\",\"args\":[\"hi\"]}"));

        reply = await _node.CallAsync("ack", new JsonObject { ["rooms"] = new JsonArray("r1"), ["name"] = "ask", ["arg"] = "q", ["timeout"] = 5000 });
        Assert.That(reply["error"], Is.Null, reply.ToJsonString());
        Assert.That(reply["responses"]!.AsArray().Select(r => r!["client"]!.GetValue<string>()), Is.EquivalentTo(new[] { "a", "b" }));
        // Through the server API: every answer within the timeout (the Node node's client "b" too), or AckTimeoutException.
        var acks = await _ours.Get<SocketIoSignal.SocketIO.SocketIoServer>().To("r1").Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("ask", "q2").Within();
        Assert.That(acks.Select(r => r!["client"]!.GetValue<string>()), Is.EquivalentTo(new[] { "a", "b" }));
    }

    [Test]
    public async Task ARoomChannelIsSubscribedOnlyWhileTheNodeHasMembersThere()
    {
        var server = RedisSetUp.Redis.Connection.GetServer(RedisSetUp.Redis.Address);
        async Task<int> SubscribersAsync(string room)
        {
            var items = (RedisResult[])(await server.ExecuteAsync("PUBSUB", "SHARDNUMSUB", _prefix + "#/#" + room + "#"))!;
            return (int)(long)items[1];
        }
        int expected = subscriptionMode == "static" ? 0 : 2;
        await Eventually.UntilAsync(async () => await SubscribersAsync("r1") == expected, TimeSpan.FromSeconds(10), $"r1's channel has {expected} subscribers (both nodes have members)");
        Assert.That(await SubscribersAsync("r2").Within(), Is.EqualTo(subscriptionMode == "static" ? 0 : 1), "only the Node node has a member in r2");

        await Ours.Requests.DelSocketsAsync(In(_a), ["r1"]).Within();
        await Eventually.UntilAsync(async () => await SubscribersAsync("r1") == expected / 2, TimeSpan.FromSeconds(10), "our node unsubscribed from r1 once its last member left");
        int privateChannel = await SubscribersAsync(_a).Within();
        Assert.That(privateChannel, Is.EqualTo(subscriptionMode == "dynamic-private" ? 1 : 0), "a socket's own room has a channel in dynamic-private mode only");
    }
}
