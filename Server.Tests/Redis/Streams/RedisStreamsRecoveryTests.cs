using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.SocketIOTests.Recovery;
using static SocketIoSignal.Tests.Redis.Streams.StreamsNodes;

namespace SocketIoSignal.Tests.Redis.Streams;

/// <summary>
/// Connection state recovery across nodes in streams mode, behind a load balancer without stickiness (a round-robin
/// TCP proxy) with the real socket.io-client 4.8.1 (WebSocket only): the client's network is cut mid-call, events go
/// to it meanwhile from both nodes, and when it is back it lands on the other node and gets its id, rooms, data and
/// every missed event, in order, once, <c>recovered</c> true. Between two of our nodes, and between ours and a Node
/// node with the official streams adapter, in both directions.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
internal sealed class RedisStreamsRecoveryTests
{
    private static JsonArray Args(params JsonNode?[] values) => new(values);

    private static void AssertEvents(TestProcessOutput events, int[] expected)
    {
        Assert.That(events.Values, Is.EqualTo(expected), "every event, in order, exactly once");
        Assert.That(events.Offsets, Has.All.Matches<string>(o => System.Text.RegularExpressions.Regex.IsMatch(o, "^[0-9]+-[0-9]+$")), "each with its stream entry id as the offset");
        Assert.That(events.Offsets.Distinct().Count(), Is.EqualTo(expected.Length), "an offset of its own each");
    }

    private readonly record struct TestProcessOutput(int[] Values, string[] Offsets);

    private static TestProcessOutput Read(ChildProcess client)
    {
        var (values, offsets) = Events(client);
        return new TestProcessOutput(values, offsets);
    }

    [Test]
    public async Task AClientCutMidCallRecoversOnOurOtherNode()
    {
        string prefix = RedisSetUp.UniquePrefix();
        await using var a = await StartOursAsync(prefix);
        await using var b = await StartOursAsync(prefix);
        await using var proxy = new CuttableProxy(a.Server.Port, b.Server.Port);
        await using var client = StartClient(proxy.Url);
        var first = await NextAsync(client, "connect");
        Assert.That(first["recovered"]!.GetValue<bool>(), Is.False);
        string id = first["id"]!.GetValue<string>();
        var onA = await a.NextSocketAsync();
        Assert.That(onA.Id, Is.EqualTo(id), "the first connection went to node A");

        await a.Namespace.To("call").EmitAsync("e", 0);
        await NextAsync(client, "event", "\"args\":[0,");
        await b.Namespace.To("call").EmitAsync("e", 1);
        await NextAsync(client, "event", "\"args\":[1,");

        proxy.Cut();
        await Eventually.UntilAsync(async () => await SessionCountAsync(prefix) == 1, Long, "node A kept the session in Redis");
        await b.Namespace.To("call").EmitAsync("e", 2);
        await a.Namespace.EmitAsync("e", 3);
        await b.Namespace.To(id).EmitAsync("e", 4);
        await b.Namespace.To("elsewhere").EmitAsync("e", -1);
        await a.Namespace.Except("call").EmitAsync("e", -2);
        proxy.Restore();

        var again = await NextAsync(client, "connect");
        Assert.That((again["id"]!.GetValue<string>(), again["recovered"]!.GetValue<bool>()), Is.EqualTo((id, true)), "same id, recovered");
        var onB = await b.NextSocketAsync();
        Assert.That((onB.Id, onB.Recovered, onB.Data?.ToString()), Is.EqualTo((id, true, "kept")), "node B has the socket back, with its data");
        Assert.That(onB.Rooms, Does.Contain("call"));
        Assert.That(await SessionCountAsync(prefix), Is.Zero, "a session is taken once");

        await a.Namespace.To("call").EmitAsync("e", 5);
        await NextAsync(client, "event", "\"args\":[5,");
        await b.Namespace.To("call").EmitAsync("done");
        await client.WaitForExitAsync(Long);
        AssertEvents(Read(client), [0, 1, 2, 3, 4, 5]);
    }

    [Test]
    public async Task FromOurNodeToANodeNode()
    {
        string prefix = RedisSetUp.UniquePrefix();
        await using var ours = await StartOursAsync(prefix);
        await using var node = await StartNodeAsync(prefix);
        await using var proxy = new CuttableProxy(ours.Server.Port, node.Port);
        await using var client = StartClient(proxy.Url);
        string id = (await NextAsync(client, "connect"))["id"]!.GetValue<string>();
        Assert.That((await ours.NextSocketAsync()).Id, Is.EqualTo(id), "first on our node");

        // Broadcasts both ways, binary included (base64 MessagePack in the stream).
        await node.EmitAsync("e", Args(0), "call");
        await NextAsync(client, "event", "\"args\":[0,");
        await node.EmitAsync("e", Args(1, new JsonObject { ["binary"] = "0102" }), "call");
        var binary = await NextAsync(client, "event", "\"args\":[1,");
        Assert.That(binary["args"]![1]!.ToJsonString(), Is.EqualTo("{\"type\":\"Buffer\",\"data\":[1,2]}"), "Node's Buffer arrived as binary");
        await ours.Namespace.To("call").EmitAsync("e", 2);
        await NextAsync(client, "event", "\"args\":[2,");

        proxy.Cut();
        await Eventually.UntilAsync(async () => await SessionCountAsync(prefix) == 1, Long, "our node kept the session in Redis");
        await node.EmitAsync("e", Args(3), "call");
        await ours.Namespace.To(id).EmitAsync("e", 4, new byte[] { 9 });
        await node.EmitAsync("e", Args(-1), "elsewhere");
        proxy.Restore();

        var again = await NextAsync(client, "connect");
        Assert.That((again["id"]!.GetValue<string>(), again["recovered"]!.GetValue<bool>()), Is.EqualTo((id, true)));
        var onNode = await node.ConnectionAsync(1);
        Assert.That(onNode["id"]!.GetValue<string>(), Is.EqualTo(id), "the Node node took the session");
        Assert.That(onNode["recovered"]!.GetValue<bool>(), Is.True);
        Assert.That(onNode["data"]!.GetValue<string>(), Is.EqualTo("kept"), "our data, read by Node");
        Assert.That(onNode["rooms"]!.AsArray().Select(r => r!.GetValue<string>()), Is.EquivalentTo(new[] { id, "call" }));

        await node.EmitAsync("e", Args(5), "call");
        await NextAsync(client, "event", "\"args\":[5,");
        await node.EmitAsync("done", Args(), "call");
        await client.WaitForExitAsync(Long);
        AssertEvents(Read(client), [0, 1, 2, 3, 4, 5]);
    }

    [Test]
    public async Task FromANodeNodeToOurNode()
    {
        string prefix = RedisSetUp.UniquePrefix();
        await using var ours = await StartOursAsync(prefix);
        await using var node = await StartNodeAsync(prefix);
        await using var proxy = new CuttableProxy(node.Port, ours.Server.Port);
        await using var client = StartClient(proxy.Url);
        string id = (await NextAsync(client, "connect"))["id"]!.GetValue<string>();
        Assert.That((await node.ConnectionAsync(1))["id"]!.GetValue<string>(), Is.EqualTo(id), "first on the Node node");

        await ours.Namespace.To("call").EmitAsync("e", 0, new byte[] { 1, 2 });
        await NextAsync(client, "event", "\"args\":[0,");
        await node.EmitAsync("e", Args(1), "call");
        await NextAsync(client, "event", "\"args\":[1,");

        proxy.Cut();
        await Eventually.UntilAsync(async () => await SessionCountAsync(prefix) == 1, Long, "the Node node kept the session in Redis");
        await ours.Namespace.To("call").EmitAsync("e", 2);
        await node.EmitAsync("e", Args(3), id);
        await ours.Namespace.Except("call").EmitAsync("e", -1);
        proxy.Restore();

        var again = await NextAsync(client, "connect");
        Assert.That((again["id"]!.GetValue<string>(), again["recovered"]!.GetValue<bool>()), Is.EqualTo((id, true)));
        var onOurs = await ours.NextSocketAsync();
        Assert.That((onOurs.Id, onOurs.Recovered, onOurs.Data?.ToString()), Is.EqualTo((id, true, "kept-node")), "Node's session, read by our node");
        Assert.That(onOurs.Rooms, Does.Contain("call"));

        await node.EmitAsync("e", Args(4), "call");
        await NextAsync(client, "event", "\"args\":[4,");
        await ours.Namespace.To("call").EmitAsync("done");
        await client.WaitForExitAsync(Long);
        AssertEvents(Read(client), [0, 1, 2, 3, 4]);
        Assert.That((await node.CallAsync("serverCount"))["count"]!.GetValue<int>(), Is.EqualTo(2), "Node's NUMSUB counts our node");
    }
}
