using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Redis;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// Three of our nodes on one Redis speaking the Node adapter's request protocol to each other: one client on each
/// (rooms and data from its auth), every cluster call made from each node. And a node that stops answering: the
/// requests end at the requests timeout with what the others answered.
/// </summary>
[TestFixture]
internal sealed class RedisClassicOwnClusterTests
{
    private readonly List<TestServer> _nodes = [];
    private readonly List<RawSocketIoClient> _clients = [];
    private string _prefix = "";

    [SetUp]
    public async Task StartAsync()
    {
        _prefix = RedisSetUp.UniquePrefix();
        for (int i = 0; i < 3; i++)
        {
            var node = await TestServer.StartAsync(["--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", _prefix, "--Redis:RequestsTimeout", "2000"]);
            _nodes.Add(node);
            ClusterTestHooks.Install(node, "n" + i);
            await ClusterTestHooks.Adapter(node).Requests.Subscribed.Within();
        }
        for (int i = 0; i < 3; i++)
        {
            string rooms = i == 2 ? "[\"r1\",\"r2\"]" : "[\"r1\"]";
            var client = await RawSocketIoClient.ConnectAsync(_nodes[i].BaseUri, 4, auth: $"{{\"rooms\":{rooms},\"data\":{{\"n\":{i}}}}}");
            _clients.Add(client);
            await client.WaitForAsync("welcome");
        }
    }

    [TearDown]
    public async Task StopAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        _clients.Clear();
        _nodes.Clear();
    }

    private RedisRoomAdapter Adapter(int i) => ClusterTestHooks.Adapter(_nodes[i]);

    private static BroadcastTarget In(params string[] rooms) => new(new HashSet<string>(rooms), RoomSet.Empty);

    [Test]
    public async Task EveryCallFromEveryNodeSeesTheWholeCluster()
    {
        var ids = _clients.Select(c => c.Id).ToArray();
        for (int i = 0; i < 3; i++)
        {
            Assert.That(await Adapter(i).Requests.ServerCountAsync().Within(), Is.EqualTo(3));

            var fetched = await Adapter(i).Requests.FetchSocketsAsync(In("r1")).Within();
            Assert.That(fetched.Complete, Is.True);
            Assert.That(fetched.Value.Select(s => s.Id), Is.EquivalentTo(ids), $"fetch from node {i}");
            Assert.That(fetched.Value.Select(s => s.Data!["n"]!.GetValue<int>()), Is.EquivalentTo(new[] { 0, 1, 2 }));
            var only2 = await Adapter(i).Requests.FetchSocketsAsync(In("r2")).Within();
            Assert.That(only2.Value.Select(s => s.Id), Is.EqualTo(new[] { ids[2] }));
            Assert.That(only2.Value[0].Rooms, Is.EquivalentTo(new[] { ids[2], "r1", "r2" }));

            var rooms = await Adapter(i).Requests.AllRoomsAsync().Within();
            Assert.That(rooms.Value.Distinct(), Is.EquivalentTo(ids.Concat(["r1", "r2"])), $"allRooms from node {i}");

            var sockets = await Adapter(i).Requests.SocketIdsAsync(new HashSet<string> { "r1" }).Within();
            Assert.That(sockets.Value, Is.EquivalentTo(ids), $"SOCKETS from node {i}");
        }
    }

    [Test]
    public async Task SocketsJoinLeaveAndDisconnectGoClusterWide()
    {
        await Adapter(1).Requests.AddSocketsAsync(In("r1"), ["x"]).Within();
        await Eventually.UntilAsync(() => Enumerable.Range(0, 3).All(i => Adapter(i).RoomsOf(_clients[i].Id).Contains("x")), TimeSpan.FromSeconds(10), "everyone joined x");
        // The local joins come first, the Redis writes right after them.
        await Eventually.UntilAsync(async () => await RedisSetUp.Redis.Db.SetLengthAsync(_prefix + "#room#/#x") == 3, TimeSpan.FromSeconds(10), "the three in x's Redis set");

        await Adapter(0).Requests.DelSocketsAsync(In("r2"), ["x"]).Within();
        await Eventually.UntilAsync(() => !Adapter(2).RoomsOf(_clients[2].Id).Contains("x"), TimeSpan.FromSeconds(10), "the r2 member left x");
        Assert.That(Adapter(1).RoomsOf(_clients[1].Id), Does.Contain("x"));

        Adapter(2).Requests.DisconnectSockets(In("x"), false);
        await NamespaceDisconnectAsync(_clients[0]);
        await NamespaceDisconnectAsync(_clients[1]);
        await Eventually.UntilAsync(async () => await RedisSetUp.Redis.Db.SetLengthAsync(_prefix + "#room#/#x") == 0, TimeSpan.FromSeconds(10), "the members of x were disconnected on their nodes");
        Assert.That(Adapter(2).RoomsOf(_clients[2].Id), Does.Contain("r2"), "the r2 member, out of x, stays");
    }

    private static async Task NamespaceDisconnectAsync(RawSocketIoClient client)
    {
        while ((await client.NextAsync(TimeSpan.FromSeconds(10))).Type != 1)
        {
        }
    }

    [Test]
    public async Task ServerSideEmitWithAckGetsOneAnswerPerOtherNode()
    {
        var answer = await Adapter(0).Requests.ServerSideEmitWithAckAsync(new JsonArray("ping-servers", 7)).Within();
        Assert.That(answer.Complete, Is.True);
        Assert.That(answer.Value.Select(a => a!["from"]!.GetValue<string>()), Is.EquivalentTo(new[] { "n1", "n2" }));
    }

    [Test]
    public async Task BroadcastWithAckGathersEveryClient()
    {
        // Through the server API of node 1: a broadcast that gets no answer from some client ends in AckTimeoutException.
        var io = _nodes[1].Get<SocketIoServer>();
        var pending = io.To("r1").Timeout(TimeSpan.FromSeconds(10)).EmitWithAckAsync("ask", "q");
        foreach (var client in _clients)
        {
            var ask = await client.WaitForAsync("ask");
            await client.SendAsync($"3{ask.AckId}[\"answer-{client.Id}\"]");
        }
        var answers = await pending.Within();
        Assert.That(answers.Select(a => a!.GetValue<string>()), Is.EquivalentTo(_clients.Select(c => "answer-" + c.Id)));
    }

    [Test]
    public async Task ANodeThatStopsAnsweringMakesRequestsTimeOutWithPartialResults()
    {
        // A subscriber of the request channel that never answers: counted by PUBSUB NUMSUB like a hung node.
        await using var silent = await ConnectionMultiplexer.ConnectAsync(RedisSetUp.Redis.Address).Within();
        await silent.GetSubscriber().SubscribeAsync(RedisChannel.Literal(_prefix + "-request#/#")).Within();
        var started = DateTime.UtcNow;

        var fetched = await Adapter(0).Requests.FetchSocketsAsync(In("r1")).Within();
        Assert.That(fetched.Complete, Is.False);
        Assert.That(fetched.Expected, Is.EqualTo(4));
        Assert.That(fetched.Value.Select(s => s.Id), Is.EquivalentTo(_clients.Select(c => c.Id)), "what the live nodes answered");
        Assert.That(DateTime.UtcNow - started, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9)), "it waited for the requests timeout");

        var emitted = await Adapter(0).Requests.ServerSideEmitWithAckAsync(new JsonArray("ping-servers")).Within();
        Assert.That(emitted.Complete, Is.False);
        Assert.That(emitted.Value, Has.Count.EqualTo(2));

        var rooms = await Adapter(1).Requests.AllRoomsAsync().Within();
        Assert.That(rooms.Complete, Is.False);
        Assert.That(rooms.Value, Does.Contain("r2"));
        Assert.That(_nodes[0].Get<RedisCluster>().Counters.TimedOutTotal, Is.EqualTo(2));
        Assert.That(Adapter(0).Requests.PendingCount, Is.Zero, "nothing left waiting");
    }
}
