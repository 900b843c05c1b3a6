using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Redis;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// The Node fixture node (Server.Tests/node/redis-cluster-node.js: socket.io 4.8.1 + @socket.io/redis-adapter
/// 8.3.0), driven one JSON command at a time; the events it prints meanwhile are kept for <see cref="WaitForEventAsync"/>.
/// </summary>
public sealed class NodeClusterNode : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly List<JsonObject> _events = [];
    private int _seq;

    private NodeClusterNode(ChildProcess process, JsonObject ready)
    {
        _process = process;
        Url = "http://127.0.0.1:" + ready["port"]!.GetValue<int>();
        Uid = ready["uid"]!.GetValue<string>();
    }

    /// <summary>The Node server's address (its clients connect here).</summary>
    public string Url { get; }

    /// <summary>The Node adapter's uid for the main namespace.</summary>
    public string Uid { get; }

    public static async Task<NodeClusterNode> StartAsync(string redisAddress, string prefix, int requestsTimeoutMs = 5000, string? sharded = null, bool onCluster = false)
    {
        if (!File.Exists(RepoPaths.Combine("node_modules", "@socket.io", "redis-adapter", "package.json")))
        {
            Assert.Fail("node packages missing: run npm ci (./test.sh does)");
        }
        string script = RepoPaths.Combine("Server.Tests", "node", "redis-cluster-node.js");
        List<string> args = [script, "--redis", redisAddress, "--key", prefix, "--requests-timeout", requestsTimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (sharded is not null)
        {
            args.AddRange(["--sharded", sharded]);
        }
        if (onCluster)
        {
            args.Add("--cluster");
        }
        var process = ChildProcess.Start("node", args);
        string ready = await process.WaitForLineAsync(l => l.Contains("\"ready\":true", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        return new NodeClusterNode(process, (JsonObject)JsonNode.Parse(ready)!);
    }

    /// <summary>Sends one command and returns its reply; a reply with an error fails the test.</summary>
    public async Task<JsonObject> CallAsync(string cmd, JsonObject? args = null, TimeSpan? timeout = null)
    {
        int seq = Interlocked.Increment(ref _seq);
        var command = args ?? [];
        command["seq"] = seq;
        command["cmd"] = cmd;
        await _process.SendLineAsync(command.ToJsonString());
        var deadline = timeout ?? TimeSpan.FromSeconds(20);
        using var cts = new CancellationTokenSource(deadline);
        while (true)
        {
            string? line = await _process.ReadLineAsync(deadline);
            if (line is null)
            {
                throw new InvalidOperationException("the Node node exited: " + string.Join("\n", _process.Errors));
            }
            if (!line.StartsWith('{') || JsonNode.Parse(line) is not JsonObject o)
            {
                continue;
            }
            if (o["seq"]?.GetValue<int>() == seq)
            {
                if (o["error"] is { } error && cmd is not ("sseAck" or "ack"))
                {
                    Assert.Fail($"Node command {cmd} failed: {error}");
                }
                return o;
            }
            lock (_events)
            {
                _events.Add(o);
            }
        }
    }

    /// <summary>The first printed event (kept or still to come) that matches; it is consumed.</summary>
    public async Task<JsonObject> WaitForEventAsync(Func<JsonObject, bool> match, TimeSpan? timeout = null)
    {
        lock (_events)
        {
            int i = _events.FindIndex(e => match(e));
            if (i >= 0)
            {
                var found = _events[i];
                _events.RemoveAt(i);
                return found;
            }
        }
        // Read line by line, keeping what does not match for a later wait (events of two clients may interleave).
        var deadline = timeout ?? TimeSpan.FromSeconds(20);
        var started = DateTime.UtcNow;
        while (true)
        {
            var left = deadline - (DateTime.UtcNow - started);
            string? line = await _process.ReadLineAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            if (line is null)
            {
                throw new InvalidOperationException("the Node node exited: " + string.Join("\n", _process.Errors));
            }
            if (!line.StartsWith('{') || JsonNode.Parse(line) is not JsonObject o || o["seq"] is not null)
            {
                continue;
            }
            if (match(o))
            {
                return o;
            }
            lock (_events)
            {
                _events.Add(o);
            }
        }
    }

    /// <summary>A client event printed by the fixture: client NAME received event EV.</summary>
    public static Func<JsonObject, bool> ClientEvent(string client, string eventName) =>
        e => e["event"]?.GetValue<string>() == "client" && e["client"]?.GetValue<string>() == client && e["name"]?.GetValue<string>() == eventName;

    public async Task<string> ConnectAsync(string name, string? url = null, string[]? rooms = null, JsonNode? data = null)
    {
        var args = new JsonObject { ["name"] = name, ["rooms"] = new JsonArray([.. (rooms ?? []).Select(r => (JsonNode)r)]) };
        if (url is not null)
        {
            args["url"] = url;
        }
        if (data is not null)
        {
            args["data"] = data;
        }
        return (await CallAsync("connect", args))["id"]!.GetValue<string>();
    }

    public async ValueTask DisposeAsync()
    {
        await _process.QuitAndDisposeAsync();
    }
}

/// <summary>What our test nodes do on connection, mirroring the Node fixture: rooms and data from the auth payload.</summary>
internal static class ClusterTestHooks
{
    public static RedisRoomAdapter Adapter(TestServer server, string nsp = "/") =>
        server.Get<RedisCluster>().AdapterOf(nsp) ?? throw new InvalidOperationException("no adapter for " + nsp);

    /// <summary>Welcome comes once the joins are in Redis, so the test's next step sees them.</summary>
    private static async Task WelcomeAsync(SocketIoSocket socket)
    {
        if (socket.Handshake.Auth is { } auth)
        {
            socket.Data = auth["data"]?.DeepClone();
            if (auth["rooms"] is JsonArray rooms)
            {
                foreach (var room in rooms)
                {
                    await socket.JoinAsync(room!.GetValue<string>());
                }
            }
        }
        socket.Emit("welcome", socket.Id);
    }

    /// <summary>Joins each socket to <c>auth.rooms</c>, sets <c>Data</c> to <c>auth.data</c>, answers 'ping-servers'.</summary>
    public static void Install(TestServer server, string name, List<JsonArray>? serverSide = null)
    {
        var io = server.Get<SocketIoServer>();
        io.OnConnection(socket => _ = WelcomeAsync(socket));
        _ = io.Sockets;
        Adapter(server).Local.ServerSideEmitHandler = (args, ack) =>
        {
            if (serverSide is not null)
            {
                lock (serverSide)
                {
                    serverSide.Add(args);
                }
            }
            if (args[0]?.GetValue<string>() != "ping-servers")
            {
                return true;
            }
            ack?.Invoke(new JsonObject { ["from"] = name, ["args"] = new JsonArray([.. args.Skip(1).Select(a => a?.DeepClone())]) });
            return true;
        };
    }
}
