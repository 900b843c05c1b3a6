using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Redis;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// Sharded mode on a real Redis Cluster (three masters, <see cref="RedisClusterProcess"/>): three of our nodes,
/// shared by the tests (each test has rooms of its own). The capacity scripts run on whichever master holds the
/// room, a room's channel reaches only the nodes with members there, and a Node node (socket.io 4.8.1,
/// createShardedAdapter over node-redis' createCluster) is one of the cluster.
/// </summary>
[TestFixture]
internal sealed class RedisShardedOnClusterTests
{
    private RedisClusterProcess _cluster = null!;
    private string _prefix = "";
    private TestServer[] _nodes = [];

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _cluster = await RedisSetUp.ClusterAsync().Within(TimeSpan.FromSeconds(60));
        _prefix = RedisSetUp.UniquePrefix();
        _nodes = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => TestServer.StartAsync(
            ["--redis", _cluster.Configuration, "--Redis:KeyPrefix", _prefix, "--Redis:Mode", "sharded", "--Redis:RequestsTimeout", "3000"]))).Within(TimeSpan.FromSeconds(60));
        foreach (var node in _nodes)
        {
            await Eventually.UntilAsync(() => node.Get<RedisCluster>().IsReadyAsync(TimeSpan.FromSeconds(2)), TimeSpan.FromSeconds(20), "the node is ready on the cluster");
        }
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private string RoomKey(string room) => _prefix + "#room#/#" + room;

    private async Task<int> ShardSubscribersAsync(string channel)
    {
        int total = 0;
        foreach (var master in _cluster.Masters)
        {
            var items = (RedisResult[])(await master.ExecuteAsync("PUBSUB", "SHARDNUMSUB", channel))!;
            total += (int)(long)items[1];
        }
        return total;
    }

    [Test]
    public async Task ConcurrentJoinsAcrossNodesLeaveExactlyTwoInEveryRoomOnEveryMaster()
    {
        // Rooms whose keys live on different masters: the capacity check runs on each.
        string[] rooms = [.. Enumerable.Range(0, 6).Select(i => "race-" + i)];
        var masters = rooms.Select(r => _cluster.Db.IdentifyEndpoint(RoomKey(r))?.ToString()).Distinct().Count();
        Assert.That(masters, Is.GreaterThanOrEqualTo(2), "the rooms spread over the masters");

        var clients = await Task.WhenAll(rooms.SelectMany(_ => Enumerable.Range(0, 6)).Select((_, i) => RawSocketIoClient.ConnectAsync(_nodes[i % 3].BaseUri, 4))).Within();
        try
        {
            await Task.WhenAll(clients.Select((c, i) => c.EmitAsync("create or join", rooms[i / 6]))).Within();
            var outcomes = await Task.WhenAll(clients.Select(async c => (await c.WaitForAnyAsync(["created", "joined", "full"])).Name)).Within(TimeSpan.FromSeconds(30));
            for (int r = 0; r < rooms.Length; r++)
            {
                var mine = outcomes.Skip(r * 6).Take(6).ToList();
                Assert.That(mine.Count(o => o == "created"), Is.EqualTo(1), rooms[r] + ": " + string.Join(",", mine));
                Assert.That(mine.Count(o => o == "joined"), Is.EqualTo(1), rooms[r] + ": " + string.Join(",", mine));
                Assert.That(mine.Count(o => o == "full"), Is.EqualTo(4), rooms[r] + ": " + string.Join(",", mine));
                Assert.That(await _cluster.Db.SetLengthAsync(RoomKey(rooms[r])).Within(), Is.EqualTo(2), rooms[r]);
            }
        }
        finally
        {
            foreach (var c in clients)
            {
                await c.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task TheCodelabFlowAndRoomBroadcastsReachOnlyTheNodesWithMembers()
    {
        await using var a = await RawSocketIoClient.ConnectAsync(_nodes[0].BaseUri, 4);
        await using var b = await RawSocketIoClient.ConnectAsync(_nodes[1].BaseUri, 4);
        await using var c = await RawSocketIoClient.ConnectAsync(_nodes[2].BaseUri, 4);
        await a.EmitAsync("create or join", "flow");
        Assert.That((await a.WaitForAsync("created")).Args.ToJsonString(), Is.EqualTo($"[\"flow\",\"{a.Id}\"]"));
        await b.EmitAsync("create or join", "flow");
        Assert.That((await b.WaitForAsync("joined")).Args.ToJsonString(), Is.EqualTo($"[\"flow\",\"{b.Id}\"]"));
        Assert.That((await a.WaitForAsync("join")).Args.ToJsonString(), Is.EqualTo("[\"flow\"]"), "io.to(room) from node 2 reaches node 1");
        await a.WaitForAsync("ready");
        await b.WaitForAsync("ready");
        await c.EmitAsync("create or join", "flow");
        await c.WaitForAsync("full");
        await b.EmitAsync("message", "offer");
        Assert.That((await a.WaitForAsync("message")).Args.ToJsonString(), Is.EqualTo("[\"offer\"]"));
        await a.EmitAsync("message", "answer");
        Assert.That((await b.WaitForAsync("message")).Args.ToJsonString(), Is.EqualTo("[\"answer\"]"));

        // The room's channel has the two nodes with members, not the third.
        await Eventually.UntilAsync(async () => await ShardSubscribersAsync(_prefix + "#/#flow#") == 2, TimeSpan.FromSeconds(10), "two nodes subscribed to the room");
        var third = _nodes[2].Get<RedisCluster>();
        var first = _nodes[0].Get<RedisCluster>();
        long thirdBefore = third.ReceivedCount;
        long firstBefore = first.ReceivedCount;
        for (int i = 0; i < 20; i++)
        {
            await _nodes[1].Get<SocketIoServer>().To("flow").EmitAsync("tick", i);
        }
        for (int i = 0; i < 20; i++)
        {
            await a.WaitForAsync("tick");
        }
        Assert.That(first.ReceivedCount - firstBefore, Is.GreaterThanOrEqualTo(20), "the node with a member received the room's broadcasts");
        Assert.That(third.ReceivedCount, Is.EqualTo(thirdBefore), "the node without members received none of them");
        foreach (var node in _nodes)
        {
            node.AssertNoErrors();
        }
    }

    [Test]
    public async Task ANodeNodeWithCreateClusterIsOneOfTheCluster()
    {
        await using var node = await NodeClusterNode.StartAsync(_cluster.Configuration, _prefix, 3000, "dynamic", onCluster: true);
        // The Node adapter subscribes in the background after it starts: wait for its own subscription too.
        await Eventually.UntilAsync(async () => (await node.CallAsync("serverCount"))["count"]!.GetValue<int>() == 4, TimeSpan.FromSeconds(15),
            "Node's SHARDNUMSUB over the masters counts our three nodes and itself");
        Assert.That(await ClusterTestHooks.Adapter(_nodes[0]).Requests.ServerCountAsync().Within(), Is.EqualTo(4), "ours counts the Node node");

        foreach (var ours in _nodes)
        {
            ClusterTestHooks.Install(ours, "dotnet");
        }
        string a = await node.ConnectAsync("a", _nodes[0].Url, ["mixed"], new JsonObject { ["n"] = 1 });
        await node.ConnectAsync("b", null, ["mixed"], new JsonObject { ["n"] = 2 });
        Assert.That(a, Is.Not.Empty);

        await node.CallAsync("emit", new JsonObject { ["rooms"] = new JsonArray("mixed"), ["name"] = "from-node", ["args"] = new JsonArray("x") });
        Assert.That((await node.WaitForEventAsync(NodeClusterNode.ClientEvent("a", "from-node")))["args"]!.ToJsonString(), Is.EqualTo("[\"x\"]"));
        await _nodes[2].Get<SocketIoServer>().To("mixed").EmitAsync("from-dotnet", "y");
        Assert.That((await node.WaitForEventAsync(NodeClusterNode.ClientEvent("b", "from-dotnet")))["args"]!.ToJsonString(), Is.EqualTo("[\"y\"]"));
        Assert.That((await node.WaitForEventAsync(NodeClusterNode.ClientEvent("a", "from-dotnet")))["args"]!.ToJsonString(), Is.EqualTo("[\"y\"]"));

        var fetched = await node.CallAsync("fetch", new JsonObject { ["rooms"] = new JsonArray("mixed") });
        Assert.That(fetched["sockets"]!.AsArray().Count, Is.EqualTo(2), "fetchSockets from Node finds the socket on our node too");
    }
}
