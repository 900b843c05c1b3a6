using System.Text.Json.Nodes;
using System.Threading.Channels;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Codelab;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis.Streams;

/// <summary>
/// Streams mode test nodes: ours (in-process, <c>--Redis:Mode streams</c>, recovery on) and Node's
/// (Server.Tests/node/redis-streams-node.js: socket.io 4.8.1 + @socket.io/redis-streams-adapter 0.3.1), on one
/// Redis with a stream, channels and session keys of the test's own. Both do the same in <c>/rec</c>: a fresh socket
/// joins <c>call</c> and gets data (<c>kept</c> here, <c>kept-node</c> there); a recovered one keeps its own.
/// </summary>
internal static class StreamsNodes
{
    public const string Nsp = "/rec";

    public static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    public static string Stream(string prefix) => prefix + "-stream";

    public static string SessionPrefix(string prefix) => prefix + ":session:";

    public static async Task<OurStreamsNode> StartOursAsync(string prefix, params string[] more)
    {
        var server = await TestServer.StartAsync([
            "--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", prefix, "--Redis:Mode", "streams",
            "--Redis:Streams:StreamName", Stream(prefix), "--Redis:Streams:ChannelPrefix", prefix,
            "--Redis:Streams:SessionKeyPrefix", SessionPrefix(prefix), "--Redis:Streams:BlockTime", "1000",
            "--SocketIo:ConnectionStateRecovery:MaxDisconnectionDuration=30000",
            "--EngineIo:PingInterval=500", "--EngineIo:PingTimeout=1500", .. more]);
        var node = new OurStreamsNode(server);
        await server.Get<SocketIoSignal.Redis.RedisCluster>().StreamsHub!.Reading.Within();
        await ClusterTestHooks.Adapter(server, Nsp).Requests.Subscribed.Within();
        return node;
    }

    public static async Task<NodeStreamsNode> StartNodeAsync(string prefix)
    {
        NodeScripts.RequireNodeModules();
        if (!File.Exists(RepoPaths.Combine("node_modules", "@socket.io", "redis-streams-adapter", "package.json")))
        {
            Assert.Fail("node packages missing: run npm ci (./test.sh does)");
        }
        var process = ChildProcess.Start("node", [Path.Combine(NodeScripts.Folder, "redis-streams-node.js"),
            "--redis", RedisSetUp.Redis.Address, "--stream", Stream(prefix), "--channel", prefix, "--session-prefix", SessionPrefix(prefix)]);
        string ready = await process.WaitForLineAsync(l => l.Contains("\"ready\":true", StringComparison.Ordinal), Long);
        return new NodeStreamsNode(process, JsonNode.Parse(ready)!.AsObject());
    }

    /// <summary>socket.io-client 4.8.1, WebSocket only, reconnecting on its own (Server.Tests/node/recovery-client.js).</summary>
    public static ChildProcess StartClient(string url) =>
        ChildProcess.Start("node", [Path.Combine(NodeScripts.Folder, "recovery-client.js"), "--url", url, "--nsp", Nsp, "--transport", "websocket"]);

    /// <summary>The client's next report of <paramref name="type"/> whose line contains <paramref name="contains"/>.</summary>
    public static async Task<JsonObject> NextAsync(ChildProcess client, string type, string? contains = null)
    {
        try
        {
            string line = await client.WaitForLineAsync(l => l.Contains($"\"t\":\"{type}\"", StringComparison.Ordinal)
                && (contains is null || l.Contains(contains, StringComparison.Ordinal)), Long);
            return JsonNode.Parse(line)!.AsObject();
        }
        catch (TimeoutException)
        {
            TestContext.Out.WriteLine($"waiting for {type} {contains}; the client wrote:\n" + string.Join("\n", client.Output));
            throw;
        }
    }

    /// <summary>The first arguments of every event <c>e</c> the client received, and their offsets (last argument).</summary>
    public static (int[] Values, string[] Offsets) Events(ChildProcess client)
    {
        var events = client.Output.Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(o => o["t"]!.GetValue<string>() == "event" && o["name"]!.GetValue<string>() == "e")
            .Select(o => o["args"]!.AsArray()).ToList();
        return ([.. events.Select(a => a[0]!.GetValue<int>())], [.. events.Select(a => a[^1]!.GetValue<string>())]);
    }

    /// <summary>Session keys kept in Redis under the test's prefix.</summary>
    public static async Task<int> SessionCountAsync(string prefix)
    {
        int count = 0;
        await foreach (var _ in RedisSetUp.Redis.Connection.GetServers()[0].KeysAsync(pattern: SessionPrefix(prefix) + "*"))
        {
            count++;
        }
        return count;
    }
}

/// <summary>Our node in streams mode, and the sockets of <c>/rec</c> as they connect.</summary>
internal sealed class OurStreamsNode : IAsyncDisposable
{
    private readonly Channel<SocketIoSocket> _next = Channel.CreateUnbounded<SocketIoSocket>();

    public OurStreamsNode(TestServer server)
    {
        Server = server;
        Namespace = server.Get<SocketIoServer>().Of(StreamsNodes.Nsp);
        Namespace.OnConnection(s =>
        {
            if (!s.Recovered)
            {
                s.Join("call");
                s.Data = "kept";
            }
            _next.Writer.TryWrite(s);
        });
    }

    public TestServer Server { get; }

    public SocketIoNamespace Namespace { get; }

    public Task<SocketIoSocket> NextSocketAsync() => _next.Reader.ReadAsync().AsTask().WaitAsync(StreamsNodes.Long);

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>The Node node, driven one JSON command a line.</summary>
internal sealed class NodeStreamsNode(ChildProcess process, JsonObject ready) : IAsyncDisposable
{
    private int _seq;

    public int Port { get; } = ready["port"]!.GetValue<int>();

    public ChildProcess Process { get; } = process;

    public async Task<JsonObject> CallAsync(string cmd, JsonObject? args = null)
    {
        int seq = Interlocked.Increment(ref _seq);
        var command = args ?? [];
        command["seq"] = seq;
        command["cmd"] = cmd;
        await Process.SendLineAsync(command.ToJsonString());
        // Waits without reading past other lines, so the connection events stay to be found in Output.
        JsonObject? reply = null;
        await Eventually.UntilAsync(() =>
        {
            reply = Process.Output.Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject())
                .FirstOrDefault(o => o["seq"]?.GetValue<int>() == seq);
            return reply is not null;
        }, StreamsNodes.Long, "the Node node answers " + cmd);
        Assert.That(reply!["error"], Is.Null, $"Node command {cmd} failed: {reply["error"]}");
        return reply;
    }

    public Task EmitAsync(string name, JsonArray args, params string[] rooms) =>
        CallAsync("emit", new JsonObject { ["name"] = name, ["args"] = args, ["rooms"] = new JsonArray([.. rooms.Select(r => (JsonNode)r)]) });

    /// <summary>The <paramref name="n"/>th (from 1) connection the Node node reported in <c>/rec</c>.</summary>
    public async Task<JsonObject> ConnectionAsync(int n)
    {
        JsonObject? found = null;
        await Eventually.UntilAsync(() =>
        {
            found = Process.Output.Where(l => l.Contains("\"event\":\"connection\"", StringComparison.Ordinal))
                .Select(l => JsonNode.Parse(l)!.AsObject()).Skip(n - 1).FirstOrDefault();
            return found is not null;
        }, StreamsNodes.Long, $"connection {n} on the Node node");
        return found!;
    }

    public async ValueTask DisposeAsync()
    {
        await Process.QuitAndDisposeAsync();
    }
}
