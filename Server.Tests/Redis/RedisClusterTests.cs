using System.Diagnostics.Metrics;
using System.Net;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Redis;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis;

/// <summary>Several real servers (Kestrel, in this process) with <c>--redis</c>: one set of rooms.</summary>
[TestFixture]
public sealed class RedisClusterTests
{
    private static Task<TestServer> StartNodeAsync(string prefix, params string[] extra) =>
        TestServer.StartAsync(["--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", prefix, .. extra]);

    [Test]
    public async Task TheCodelabRoomSpansTwoNodes()
    {
        string prefix = RedisSetUp.UniquePrefix();
        await using var node1 = await StartNodeAsync(prefix);
        await using var node2 = await StartNodeAsync(prefix);
        await using var a = await RawSocketIoClient.ConnectAsync(node1.BaseUri, 4);
        await using var b = await RawSocketIoClient.ConnectAsync(node2.BaseUri, 4);
        await using var c = await RawSocketIoClient.ConnectAsync(node1.BaseUri, 4);

        await a.EmitAsync("create or join", "foo");
        Assert.That((await a.WaitForAsync("created")).Args.ToJsonString(), Is.EqualTo($"[\"foo\",\"{a.Id}\"]"));
        await b.EmitAsync("create or join", "foo");
        Assert.That((await b.WaitForAsync("joined")).Args.ToJsonString(), Is.EqualTo($"[\"foo\",\"{b.Id}\"]"));
        Assert.That((await a.WaitForAsync("join")).Args.ToJsonString(), Is.EqualTo("[\"foo\"]"), "io.to(room) from node 2 reaches node 1");
        await a.WaitForAsync("ready");
        await b.WaitForAsync("ready");
        await c.EmitAsync("create or join", "foo");
        await c.WaitForAsync("full");

        // The codelab's global relay: every other socket, on every node.
        await b.EmitAsync("message", "offer");
        Assert.That((await a.WaitForAsync("message")).Args.ToJsonString(), Is.EqualTo("[\"offer\"]"));
        Assert.That((await c.WaitForAsync("message")).Args.ToJsonString(), Is.EqualTo("[\"offer\"]"));
        await a.EmitAsync("message", "answer");
        Assert.That((await b.WaitForAsync("message")).Args.ToJsonString(), Is.EqualTo("[\"answer\"]"));
        Assert.That(b.PendingEventNames(), Does.Not.Contain("message"), "the sender does not get its own message back");
        Assert.That(await RedisSetUp.Redis.Db.SetLengthAsync(prefix + "#room#/#foo").Within(), Is.EqualTo(2));
        node1.AssertNoErrors();
        node2.AssertNoErrors();
    }

    [Test]
    public async Task TenSimultaneousJoinsOverThreeNodesGiveExactlyTwoMembers()
    {
        string prefix = RedisSetUp.UniquePrefix();
        await using var node1 = await StartNodeAsync(prefix);
        await using var node2 = await StartNodeAsync(prefix);
        await using var node3 = await StartNodeAsync(prefix);
        TestServer[] nodes = [node1, node2, node3];
        var clients = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => RawSocketIoClient.ConnectAsync(nodes[i % 3].BaseUri, 4))).Within();
        try
        {
            await Task.WhenAll(clients.Select(c => c.EmitAsync("create or join", "race"))).Within();
            var outcomes = await Task.WhenAll(clients.Select(async c => (await c.WaitForAnyAsync(["created", "joined", "full"])).Name)).Within();

            Assert.That(outcomes.Count(o => o == "created"), Is.EqualTo(1), string.Join(",", outcomes));
            Assert.That(outcomes.Count(o => o == "joined"), Is.EqualTo(1), string.Join(",", outcomes));
            Assert.That(outcomes.Count(o => o == "full"), Is.EqualTo(8), string.Join(",", outcomes));
            Assert.That(await RedisSetUp.Redis.Db.SetLengthAsync(prefix + "#room#/#race").Within(), Is.EqualTo(2));
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
    public async Task ServerSideEmitsToARoomReachSocketsOnOtherNodes()
    {
        string prefix = RedisSetUp.UniquePrefix();
        // Recovery off: its offsets (a trailing argument of each kept event) are not what this test looks at.
        string[] rooms = ["--mode", "rooms", "--SocketIo:ConnectionStateRecovery:MaxDisconnectionDuration", "0"];
        await using var node1 = await StartNodeAsync(prefix, rooms);
        await using var node2 = await StartNodeAsync(prefix, rooms);
        await using var a = await RawSocketIoClient.ConnectAsync(node1.BaseUri, 4);
        await using var b = await RawSocketIoClient.ConnectAsync(node2.BaseUri, 4);
        await using var outsider = await RawSocketIoClient.ConnectAsync(node2.BaseUri, 4);
        await a.EmitAsync("create or join", "r");
        await a.WaitForAsync("created");
        await b.EmitAsync("create or join", "r");
        await b.WaitForAsync("joined");

        // io.To(room).Emit on node 1 reaches b on node 2 (and a here), not the outsider.
        var io1 = node1.Get<SocketIoServer>();
        io1.To("r").Emit("news", "to the room");
        Assert.That((await b.WaitForAsync("news")).Args.ToJsonString(), Is.EqualTo("[\"to the room\"]"));
        await a.WaitForAsync("news");

        // socket.To(room) (the rooms mode's message relay): the other member only.
        await a.EmitAsync("message", "room only");
        Assert.That((await b.WaitForAsync("message")).Args.ToJsonString(), Is.EqualTo("[\"room only\"]"));

        // A broadcast to everyone after it: once the outsider has that, it would have had the others.
        io1.Emit("sentinel");
        await outsider.WaitForAsync("sentinel");
        Assert.That(outsider.PendingEventNames(), Does.Not.Contain("news").And.Not.Contain("message"));

        // Room sizes are cluster-wide on either node.
        Assert.That(await node1.Get<SocketIoServer>().Sockets.Adapter.RoomSizeAsync("r").Within(), Is.EqualTo(2));
        Assert.That(await node2.Get<SocketIoServer>().To("r").SocketIdsAsync().Within(), Is.EquivalentTo(new[] { a.Id, b.Id }));
    }

    [Test]
    public async Task AMemberThatDisconnectsLeavesTheRoomOnEveryNode()
    {
        string prefix = RedisSetUp.UniquePrefix();
        await using var node1 = await StartNodeAsync(prefix);
        await using var node2 = await StartNodeAsync(prefix);
        await using var a = await RawSocketIoClient.ConnectAsync(node1.BaseUri, 4);
        await using var b = await RawSocketIoClient.ConnectAsync(node2.BaseUri, 4);
        await a.EmitAsync("create or join", "r");
        await a.WaitForAsync("created");
        await b.EmitAsync("create or join", "r");
        await b.WaitForAsync("joined");

        await a.DisposeAsync();
        await Eventually.UntilAsync(async () => await node2.Get<SocketIoServer>().Sockets.Adapter.RoomSizeAsync("r") == 1,
            TimeSpan.FromSeconds(5), "a's membership removed");
        await using var c = await RawSocketIoClient.ConnectAsync(node2.BaseUri, 4);
        await c.EmitAsync("create or join", "r");
        await c.WaitForAsync("joined");
    }

    [Test]
    public async Task HealthzSaysWhetherTheNodeCanServe()
    {
        await using var inMemory = await TestServer.StartAsync();
        using var http = new HttpClient();
        var ok = await http.GetAsync(new Uri(inMemory.BaseUri, "/healthz")).Within();
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK), "in memory: nothing to wait for");

        await using var clustered = await StartNodeAsync(RedisSetUp.UniquePrefix());
        var ready = await http.GetAsync(new Uri(clustered.BaseUri, "/healthz")).Within();
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await ready.Content.ReadAsStringAsync(), Is.EqualTo("ok"));

        int closedPort = FreePort.Find();
        await using var orphan = await TestServer.StartAsync(["--redis", $"127.0.0.1:{closedPort}", "--Redis:ConnectTimeout", "500"]);
        var unready = await http.GetAsync(new Uri(orphan.BaseUri, "/healthz")).Within();
        Assert.That(unready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        // It still serves its own sockets meanwhile.
        await using var client = await RawSocketIoClient.ConnectAsync(orphan.BaseUri, 4);
        Assert.That(client.Id, Is.Not.Empty);
    }

    [Test]
    public async Task MetricsAreTaggedWithTheNodeId()
    {
        string prefix = RedisSetUp.UniquePrefix();
        await using var node1 = await StartNodeAsync(prefix);
        string nodeId = node1.Get<RedisCluster>().NodeId;
        var tagged = new HashSet<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name.StartsWith("SocketIoSignal.", StringComparison.Ordinal)
                && instrument.Meter.Tags?.Any(t => t.Key == "node" && Equals(t.Value, nodeId)) == true)
            {
                lock (tagged)
                {
                    tagged.Add(instrument.Meter.Name);
                }
            }
        };
        listener.Start();

        Assert.That(tagged, Is.SupersetOf(new[] { "SocketIoSignal.EngineIO", "SocketIoSignal.SocketIO", "SocketIoSignal.Redis" }));
    }
}
