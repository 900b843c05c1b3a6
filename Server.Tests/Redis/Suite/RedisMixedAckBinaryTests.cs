using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis.Suite;

/// <summary>
/// Acknowledged broadcasts with binary content between our node and a Node 4.8.1 node (official adapter), both
/// ways: binary arguments (top level and nested) reach the other node's clients as binary, and binary answers
/// come back as binary.
/// </summary>
[TestFixture(SuiteMode.Classic)]
[TestFixture(SuiteMode.Sharded)]
[TestFixture(SuiteMode.Streams)]
internal sealed class RedisMixedAckBinaryTests(SuiteMode mode)
{
    private SuiteNodeProcess _node = null!;
    private OurSuiteServer _ours = null!;
    private NodeSuiteServer _nodeServer = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        string prefix = RedisSetUp.UniquePrefix();
        _ours = await OurSuiteServer.StartAsync(RedisSetUp.Redis.Address, prefix, mode);
        _node = await SuiteNodeProcess.StartAsync(RedisSetUp.Redis.Address, prefix, mode, server: true);
        _nodeServer = new NodeSuiteServer(_node);
        await Eventually.UntilAsync(async () => await _ours.ServerCountAsync() == 2, TimeSpan.FromSeconds(15), "both servers subscribed");
        await _node.CallAsync("connect", new JsonObject { ["name"] = "a", ["url"] = _ours.Url });
        await _node.CallAsync("connect", new JsonObject { ["name"] = "b", ["url"] = _nodeServer.Url });
        await _node.CallAsync("reply", new JsonObject { ["client"] = "a", ["name"] = "test", ["value"] = new JsonObject { ["binary"] = "01" } });
        await _node.CallAsync("reply", new JsonObject { ["client"] = "b", ["name"] = "test", ["value"] = new JsonObject { ["binary"] = "02" } });
        await Eventually.UntilAsync(async () => (await _ours.FetchSocketsAsync()).Count == 2, TimeSpan.FromSeconds(15), "both sockets seen");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _nodeServer.DisposeAsync();
        await _node.DisposeAsync();
        await _ours.DisposeAsync();
    }

    private async Task<string> ArgsOfAsync(string client)
    {
        var got = await _node.WaitForEventAsync(e => e["event"]?.GetValue<string>() == "client" && e["client"]?.GetValue<string>() == client
            && e["name"]?.GetValue<string>() == "test", $"client {client} receives 'test'");
        return got["args"]!.ToJsonString();
    }

    private static IEnumerable<string> Hex(IEnumerable<JsonNode?> answers) =>
        answers.Select(a => SocketIoBinary.TryGet(a, out var bytes) ? Convert.ToHexStringLower(bytes.Span) : "not binary: " + a?.ToJsonString());

    [Test]
    public async Task FromNodeOurClientGetsBinaryAndAnswersBinary()
    {
        _node.ClearEvents();
        var answer = await _nodeServer.EmitWithAckAsync("test", TimeSpan.FromSeconds(5),
            args: [new JsonObject { ["nested"] = new JsonObject { ["binary"] = "0a0b" } }, new byte[] { 12 }]);
        Assert.That(answer.Error, Is.Null);
        Assert.That(Hex(answer.Responses), Is.EquivalentTo(new[] { "01", "02" }), "our client's binary answer reaches Node as a Buffer");
        Assert.That(await ArgsOfAsync("a"), Is.EqualTo("[{\"nested\":{\"binary\":\"0a0b\"}},{\"binary\":\"0c\"}]"), "nested and top-level binary reach our client as binary");
    }

    [Test]
    public async Task FromOursTheNodeClientGetsBinaryAndAnswersBinary()
    {
        _node.ClearEvents();
        var nested = new JsonObject { ["nested"] = SocketIoBinary.ToNode(new byte[] { 10, 11 }) };
        var answer = await _ours.EmitWithAckAsync("test", TimeSpan.FromSeconds(5), args: [nested, new byte[] { 12 }]);
        Assert.That(answer.Error, Is.Null);
        Assert.That(Hex(answer.Responses), Is.EquivalentTo(new[] { "01", "02" }), "the Node client's Buffer answer reaches us as binary");
        Assert.That(await ArgsOfAsync("b"), Is.EqualTo("[{\"nested\":{\"binary\":\"0a0b\"}},{\"binary\":\"0c\"}]"));
    }
}
