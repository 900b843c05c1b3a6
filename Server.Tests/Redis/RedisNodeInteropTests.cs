using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// One cluster of a Node node (socket.io 4.8.1 + @socket.io/redis-adapter 8.3.0, Server.Tests/node/redis-node.js)
/// and ours, on the adapter's default prefix: room emits cross in both directions, binary included.
/// </summary>
[TestFixture]
public sealed class RedisNodeInteropTests
{
    [Test]
    public async Task EmitsToARoomCrossBetweenANodeNodeAndOurs()
    {
        string script = RepoPaths.Combine("Server.Tests", "node", "redis-node.js");
        if (!File.Exists(RepoPaths.Combine("node_modules", "@socket.io", "redis-adapter", "package.json")))
        {
            Assert.Fail("node packages missing: run npm ci (./test.sh does)");
        }
        await using var ours = await TestServer.StartAsync(["--redis", RedisSetUp.Redis.Address]);
        await using var node = ChildProcess.Start("node", [script, "--redis", RedisSetUp.Redis.Address, "--peer", ours.Url, "--room", "interop"]);
        await node.WaitForLineAsync(l => l.Contains("\"ready\":true", StringComparison.Ordinal), TimeSpan.FromSeconds(20));

        // Node node -> ours: io.to(room).emit on Node reaches the client connected to our server.
        await node.SendLineAsync("emit");
        var fromNode = await node.WaitForLineAsync(l => EventLine("peer-client", "from-node", l));
        Assert.That(JsonNode.Parse(fromNode)!["args"]!.ToJsonString(Relaxed), Is.EqualTo("[\"héllo\",1.5,{\"nested\":{\"binary\":\"010203\"}}]"));

        // Ours -> Node node: io.To(room).Emit here reaches the client connected to the Node server.
        ours.Get<SocketIoServer>().To("interop").Emit("from-dotnet", "ünïcode", 2.5, new byte[] { 4, 5, 6 }, new JsonObject { ["n"] = 7 });
        var fromUs = await node.WaitForLineAsync(l => EventLine("node-client", "from-dotnet", l));
        Assert.That(JsonNode.Parse(fromUs)!["args"]!.ToJsonString(Relaxed), Is.EqualTo("[\"ünïcode\",2.5,{\"binary\":\"040506\"},{\"n\":7}]"));

        // The codelab's relay (socket.broadcast on ours) reaches the Node node's sockets too.
        await node.SendLineAsync("relay");
        var relayed = await node.WaitForLineAsync(l => EventLine("node-client", "message", l));
        Assert.That(JsonNode.Parse(relayed)!["args"]!.ToJsonString(Relaxed), Is.EqualTo("[\"relayed\"]"));

        await node.SendLineAsync("quit");
        Assert.That(await node.WaitForExitAsync(), Is.Zero, string.Join("\n", node.Errors));
        ours.AssertNoErrors();
    }

    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static bool EventLine(string client, string eventName, string line) =>
        line.StartsWith('{') && JsonNode.Parse(line) is JsonObject o
        && o["client"]?.GetValue<string>() == client && o["event"]?.GetValue<string>() == eventName;
}
