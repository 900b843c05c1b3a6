using System.Globalization;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Redis;
using SocketIoSignal.Redis.Classic;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis.Suite;

/// <summary>
/// The Redis adapter's wire protocol a suite fixture runs: <c>createAdapter</c> or <c>createShardedAdapter</c> of
/// @socket.io/redis-adapter, or <c>createAdapter</c> of @socket.io/redis-streams-adapter.
/// </summary>
public enum SuiteMode
{
    Classic,
    Sharded,
    Streams,
}

/// <summary>Which three servers form the cluster: all ours, or ours, a Node 4.8.1 node, ours.</summary>
public enum SuiteTrio
{
    AllOurs,
    Mixed,
}

/// <summary>A socket as a fetch returns it, from whichever side.</summary>
internal sealed record SuiteSocket(string Id, IReadOnlyCollection<string> Rooms, JsonNode? Data, JsonObject Handshake);

/// <summary>An acknowledged call's outcome: the answers and, when it timed out, the error.</summary>
internal sealed record SuiteAnswers(string? Error, IReadOnlyList<JsonNode?> Responses);

/// <summary>One server of the trio, as the reference tests use <c>servers[i]</c> and its sockets.</summary>
internal interface ISuiteServer : IAsyncDisposable
{
    string Url { get; }

    Task OfAsync(string nsp);

    Task<int> LocalCountAsync(string nsp = "/");

    Task<int> ServerCountAsync(string nsp = "/");

    /// <summary><c>servers[i].of(nsp)[.local].to(rooms).except(except).emit(name, ...args)</c>; <paramref name="numeric"/>: rooms as numbers where the server has them.</summary>
    Task EmitAsync(string name, object?[] args, string[]? rooms = null, string[]? except = null, bool local = false, string nsp = "/", bool numeric = false);

    Task<SuiteAnswers> EmitWithAckAsync(string name, TimeSpan timeout, string[]? rooms = null, object?[]? args = null);

    Task SocketsJoinAsync(string room, string[]? rooms = null);

    Task SocketsLeaveAsync(string room, string[]? rooms = null);

    Task DisconnectSocketsAsync(string[]? rooms = null);

    Task<IReadOnlyList<SuiteSocket>> FetchSocketsAsync(string[]? rooms = null, bool local = false);

    /// <summary>The local socket <paramref name="sid"/> joins (<c>serverSockets[i].join</c>); a number joins as a number where the server has numeric rooms.</summary>
    Task JoinAsync(string sid, params JsonNode[] rooms);

    Task<IReadOnlyCollection<string>> RoomsAsync(string sid);

    Task SetDataAsync(string sid, JsonNode data);

    Task<JsonObject> HandshakeAsync(string sid);

    /// <summary>The server-side listener for <paramref name="name"/> (replacing the last): answers <paramref name="reply"/> when <paramref name="answer"/>.</summary>
    Task ListenAsync(string name, bool answer, JsonNode? reply = null);

    /// <summary>Server-side events received so far, each as its arguments.</summary>
    IReadOnlyList<JsonArray> ServerSideReceived(string name);

    Task ServerSideEmitAsync(string name, params object?[] args);

    Task<SuiteAnswers> ServerSideEmitWithAckAsync(string name, params object?[] args);
}

/// <summary>
/// The fixture's Node process (Server.Tests/Redis/Suite/suite-node.js): the suite's clients, and in a mixed trio
/// also the Node server. A pump reads its output continuously, so client events are kept as they come.
/// </summary>
internal sealed class SuiteNodeProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly List<JsonObject> _events = [];
    private readonly Dictionary<int, TaskCompletionSource<JsonObject>> _calls = [];
    private readonly Task _pump;
    private int _seq;

    private SuiteNodeProcess(ChildProcess process, JsonObject ready)
    {
        _process = process;
        Port = ready["port"]!.GetValue<int>();
        _pump = PumpAsync();
    }

    public int Port { get; }

    public static async Task<SuiteNodeProcess> StartAsync(string redis, string prefix, SuiteMode mode, bool server)
    {
        if (!File.Exists(RepoPaths.Combine("node_modules", "@socket.io", "redis-adapter", "package.json")))
        {
            Assert.Fail("node packages missing: run npm ci (./test.sh does)");
        }
        List<string> args = [RepoPaths.Combine("Server.Tests", "Redis", "Suite", "suite-node.js"), "--redis", redis, "--key", prefix,
            "--mode", mode.ToString().ToLowerInvariant(), "--requests-timeout", "1000"];
        if (server)
        {
            args.Add("--server");
        }
        var process = ChildProcess.Start("node", args);
        string ready = await process.WaitForLineAsync(l => l.Contains("\"ready\":true", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        return new SuiteNodeProcess(process, (JsonObject)JsonNode.Parse(ready)!);
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            string? line;
            try
            {
                line = await _process.ReadLineAsync(TimeSpan.FromHours(1));
            }
            catch (TimeoutException)
            {
                continue;
            }
            if (line is null)
            {
                lock (_calls)
                {
                    foreach (var call in _calls.Values)
                    {
                        call.TrySetException(new InvalidOperationException("the Node process exited: " + string.Join("\n", _process.Errors)));
                    }
                    _calls.Clear();
                }
                return;
            }
            if (!line.StartsWith('{') || JsonNode.Parse(line) is not JsonObject o)
            {
                continue;
            }
            if (o["seq"] is JsonValue seq)
            {
                TaskCompletionSource<JsonObject>? call;
                lock (_calls)
                {
                    _calls.Remove(seq.GetValue<int>(), out call);
                }
                call?.TrySetResult(o);
                continue;
            }
            lock (_events)
            {
                _events.Add(o);
            }
        }
    }

    public async Task<JsonObject> CallAsync(string cmd, JsonObject? args = null)
    {
        int seq = Interlocked.Increment(ref _seq);
        var command = args ?? [];
        command["seq"] = seq;
        command["cmd"] = cmd;
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_calls)
        {
            _calls[seq] = reply;
        }
        await _process.SendLineAsync(command.ToJsonString());
        var result = await reply.Task.Within(TimeSpan.FromSeconds(20));
        if (result["error"] is { } error)
        {
            Assert.Fail($"Node command {cmd} failed: {error}");
        }
        return result;
    }

    public IReadOnlyList<JsonObject> Events(Func<JsonObject, bool> match)
    {
        lock (_events)
        {
            return [.. _events.Where(match)];
        }
    }

    public void ClearEvents()
    {
        lock (_events)
        {
            _events.Clear();
        }
    }

    public async Task<JsonObject> WaitForEventAsync(Func<JsonObject, bool> match, string because, TimeSpan? timeout = null)
    {
        await Eventually.UntilAsync(() => Events(match).Count > 0, timeout ?? TimeSpan.FromSeconds(10), because);
        return Events(match)[0];
    }

    public async ValueTask DisposeAsync()
    {
        await _process.QuitAndDisposeAsync();
        await _pump.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}

/// <summary>The Node server of a mixed trio, through its process's commands.</summary>
internal sealed class NodeSuiteServer(SuiteNodeProcess node) : ISuiteServer
{
    public string Url => "http://127.0.0.1:" + node.Port.ToString(CultureInfo.InvariantCulture);

    private static JsonArray Array(IEnumerable<string>? items) => new([.. (items ?? []).Select(i => (JsonNode)i)]);

    private static JsonArray Args(object?[] args) => new([.. args.Select(SuiteValues.ToJson)]);

    public Task OfAsync(string nsp) => node.CallAsync("of", new JsonObject { ["nsp"] = nsp });

    public async Task<int> LocalCountAsync(string nsp = "/") => (await node.CallAsync("localCount", new JsonObject { ["nsp"] = nsp }))["count"]!.GetValue<int>();

    public async Task<int> ServerCountAsync(string nsp = "/") => (await node.CallAsync("serverCount", new JsonObject { ["nsp"] = nsp }))["count"]!.GetValue<int>();

    public Task EmitAsync(string name, object?[] args, string[]? rooms = null, string[]? except = null, bool local = false, string nsp = "/", bool numeric = false) =>
        node.CallAsync("emit", new JsonObject { ["name"] = name, ["args"] = Args(args), ["rooms"] = Array(rooms), ["except"] = Array(except), ["local"] = local, ["nsp"] = nsp, ["numeric"] = numeric });

    public async Task<SuiteAnswers> EmitWithAckAsync(string name, TimeSpan timeout, string[]? rooms = null, object?[]? args = null)
    {
        var reply = await node.CallAsync("emitAck", new JsonObject { ["name"] = name, ["timeout"] = timeout.TotalMilliseconds, ["rooms"] = Array(rooms), ["args"] = Args(args ?? []) });
        return new SuiteAnswers(reply["error"]?.GetValue<string>(), [.. reply["responses"]!.AsArray().Select(SuiteValues.FromNodeJson)]);
    }

    public Task SocketsJoinAsync(string room, string[]? rooms = null) => node.CallAsync("socketsJoin", new JsonObject { ["room"] = room, ["rooms"] = Array(rooms) });

    public Task SocketsLeaveAsync(string room, string[]? rooms = null) => node.CallAsync("socketsLeave", new JsonObject { ["room"] = room, ["rooms"] = Array(rooms) });

    public Task DisconnectSocketsAsync(string[]? rooms = null) => node.CallAsync("disconnectSockets", new JsonObject { ["rooms"] = Array(rooms) });

    public async Task<IReadOnlyList<SuiteSocket>> FetchSocketsAsync(string[]? rooms = null, bool local = false)
    {
        var reply = await node.CallAsync("fetch", new JsonObject { ["rooms"] = Array(rooms), ["local"] = local });
        return [.. reply["sockets"]!.AsArray().Select(s => new SuiteSocket(s!["id"]!.GetValue<string>(),
            [.. s["rooms"]!.AsArray().Select(r => ClassicRequests.RoomOf(r!)!)], s["data"]?.DeepClone(), s["handshake"]!.AsObject().DeepClone().AsObject()))];
    }

    public Task JoinAsync(string sid, params JsonNode[] rooms) =>
        node.CallAsync("join", new JsonObject { ["sid"] = sid, ["rooms"] = new JsonArray([.. rooms.Select(r => r.DeepClone())]) });

    public async Task<IReadOnlyCollection<string>> RoomsAsync(string sid) =>
        [.. (await node.CallAsync("rooms", new JsonObject { ["sid"] = sid }))["rooms"]!.AsArray().Select(r => ClassicRequests.RoomOf(r!)!)];

    public Task SetDataAsync(string sid, JsonNode data) => node.CallAsync("setData", new JsonObject { ["sid"] = sid, ["data"] = data.DeepClone() });

    public async Task<JsonObject> HandshakeAsync(string sid) => (await node.CallAsync("handshake", new JsonObject { ["sid"] = sid }))["handshake"]!.AsObject().DeepClone().AsObject();

    public Task ListenAsync(string name, bool answer, JsonNode? reply = null) =>
        node.CallAsync("listen", new JsonObject { ["name"] = name, ["answer"] = answer, ["reply"] = reply?.DeepClone() });

    public IReadOnlyList<JsonArray> ServerSideReceived(string name) =>
        [.. node.Events(e => e["event"]?.GetValue<string>() == "server-side" && e["name"]?.GetValue<string>() == name).Select(e => e["args"]!.AsArray())];

    public Task ServerSideEmitAsync(string name, params object?[] args) => node.CallAsync("sse", new JsonObject { ["name"] = name, ["args"] = Args(args) });

    public async Task<SuiteAnswers> ServerSideEmitWithAckAsync(string name, params object?[] args)
    {
        var reply = await node.CallAsync("sseAck", new JsonObject { ["name"] = name, ["args"] = Args(args) });
        return new SuiteAnswers(reply["error"]?.GetValue<string>(), [.. reply["responses"]!.AsArray().Select(SuiteValues.FromNodeJson)]);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>One of our servers, in this process, through the public server API.</summary>
internal sealed class OurSuiteServer : ISuiteServer
{
    private readonly TestServer _server;
    private readonly Dictionary<string, (bool Answer, JsonNode? Reply)> _listeners = [];
    private readonly List<(string Name, JsonArray Args)> _received = [];

    private OurSuiteServer(TestServer server) => _server = server;

    public static async Task<OurSuiteServer> StartAsync(string redis, string prefix, SuiteMode mode)
    {
        List<string> args = ["--redis", redis, "--Redis:KeyPrefix", prefix, "--Redis:RequestsTimeout", "1000",
            "--Redis:Mode", mode.ToString().ToLowerInvariant()];
        if (mode == SuiteMode.Streams)
        {
            // The names the Node node of the fixture is given too (suite-node.js).
            args.AddRange(["--Redis:Streams:StreamName", prefix + "-stream", "--Redis:Streams:ChannelPrefix", prefix,
                "--Redis:Streams:SessionKeyPrefix", prefix + ":session:", "--Redis:Streams:BlockTime", "1000"]);
        }
        var server = await TestServer.StartAsync([.. args]);
        var ours = new OurSuiteServer(server);
        await ours.Adapter("/").Requests.Subscribed.Within();
        return ours;
    }

    public SocketIoServer Io => _server.Get<SocketIoServer>();

    public string Url => _server.Url;

    public RedisCluster Cluster => _server.Get<RedisCluster>();

    public RedisRoomAdapter Adapter(string nsp) => _server.Get<RedisCluster>().AdapterOf(nsp) ?? throw new InvalidOperationException("no adapter for " + nsp);

    private SocketIoSocket Socket(string sid) => Io.Sockets.Sockets.TryGetValue(sid, out var s) ? s : throw new InvalidOperationException("no local socket " + sid);

    private BroadcastOperator Select(string[]? rooms, string[]? except = null, bool local = false, string nsp = "/")
    {
        var ns = Io.Of(nsp);
        var op = local ? ns.Local : ns.To(System.Array.Empty<string>());
        if (rooms is { Length: > 0 })
        {
            op = op.To(rooms);
        }
        if (except is { Length: > 0 })
        {
            op = op.Except(except);
        }
        return op;
    }

    public async Task OfAsync(string nsp)
    {
        Io.Of(nsp);
        await Adapter(nsp).Requests.Subscribed.Within();
    }

    public Task<int> LocalCountAsync(string nsp = "/") => Task.FromResult(Io.TryGetNamespace(nsp, out var ns) ? ns!.Sockets.Count : -1);

    public async Task<int> ServerCountAsync(string nsp = "/") => await Adapter(nsp).ServerCountAsync();

    public async Task EmitAsync(string name, object?[] args, string[]? rooms = null, string[]? except = null, bool local = false, string nsp = "/", bool numeric = false) =>
        await Select(rooms, except, local, nsp).EmitAsync(name, args);

    public async Task<SuiteAnswers> EmitWithAckAsync(string name, TimeSpan timeout, string[]? rooms = null, object?[]? args = null)
    {
        try
        {
            return new SuiteAnswers(null, await Select(rooms).Timeout(timeout).EmitWithAckAsync(name, args ?? []).Within(timeout + TimeSpan.FromSeconds(10)));
        }
        catch (AckTimeoutException ex)
        {
            return new SuiteAnswers(ex.Message, ex.Responses);
        }
    }

    public Task SocketsJoinAsync(string room, string[]? rooms = null)
    {
        Select(rooms).SocketsJoin(room);
        return Task.CompletedTask;
    }

    public Task SocketsLeaveAsync(string room, string[]? rooms = null)
    {
        Select(rooms).SocketsLeave(room);
        return Task.CompletedTask;
    }

    public Task DisconnectSocketsAsync(string[]? rooms = null)
    {
        Select(rooms).DisconnectSockets();
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<SuiteSocket>> FetchSocketsAsync(string[]? rooms = null, bool local = false)
    {
        var sockets = await Select(rooms, local: local).FetchSocketsAsync().Within();
        return [.. sockets.Select(s => new SuiteSocket(s.Id, s.Rooms, NamespaceLocal.DataJson(s.Data), NamespaceLocal.HandshakeJson(s.Handshake)))];
    }

    public async Task JoinAsync(string sid, params JsonNode[] rooms)
    {
        foreach (var room in rooms)
        {
            // Rooms are text here: a number joins as its text, which is how a Node node's numeric room reaches us.
            await Socket(sid).JoinAsync(ClassicRequests.RoomOf(room)!).AsTask().Within();
        }
    }

    public Task<IReadOnlyCollection<string>> RoomsAsync(string sid) => Task.FromResult<IReadOnlyCollection<string>>([.. Socket(sid).Rooms]);

    public Task SetDataAsync(string sid, JsonNode data)
    {
        Socket(sid).Data = data.DeepClone();
        return Task.CompletedTask;
    }

    public Task<JsonObject> HandshakeAsync(string sid) => Task.FromResult(NamespaceLocal.HandshakeJson(Socket(sid).Handshake));

    public Task ListenAsync(string name, bool answer, JsonNode? reply = null)
    {
        bool first;
        lock (_listeners)
        {
            first = !_listeners.ContainsKey(name);
            _listeners[name] = (answer, reply);
        }
        if (first)
        {
            Io.Sockets.On(name, e =>
            {
                (bool Answer, JsonNode? Reply) listener;
                lock (_listeners)
                {
                    listener = _listeners[name];
                    _received.Add((name, new JsonArray([.. e.Args.Select(a => a?.DeepClone())])));
                }
                if (listener.Answer)
                {
                    e.Ack(listener.Reply?.DeepClone());
                }
            });
        }
        return Task.CompletedTask;
    }

    public IReadOnlyList<JsonArray> ServerSideReceived(string name)
    {
        lock (_listeners)
        {
            return [.. _received.Where(r => r.Name == name).Select(r => r.Args)];
        }
    }

    public void ClearReceived()
    {
        lock (_listeners)
        {
            _received.Clear();
        }
    }

    public Task ServerSideEmitAsync(string name, params object?[] args)
    {
        Io.ServerSideEmit(name, args);
        return Task.CompletedTask;
    }

    public async Task<SuiteAnswers> ServerSideEmitWithAckAsync(string name, params object?[] args)
    {
        try
        {
            return new SuiteAnswers(null, await Io.ServerSideEmitWithAckAsync(name, args).Within());
        }
        catch (AckTimeoutException ex)
        {
            return new SuiteAnswers(ex.Message, ex.Responses);
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}

/// <summary>Values between the test and either side: binary as <c>{"binary":"hex"}</c> for Node, <see cref="SocketIoBinary"/> here.</summary>
internal static class SuiteValues
{
    public static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        byte[] bytes => new JsonObject { ["binary"] = Convert.ToHexStringLower(bytes) },
        JsonNode node => node.DeepClone(),
        string s => s,
        int i => i,
        _ => throw new ArgumentException("unsupported test value " + value.GetType()),
    };

    /// <summary>A value Node printed, with its binary parts as <see cref="SocketIoBinary"/> again.</summary>
    public static JsonNode? FromNodeJson(JsonNode? node) => node switch
    {
        JsonObject o when o.Count == 1 && o["binary"] is JsonValue hex => SocketIoBinary.ToNode(Convert.FromHexString(hex.GetValue<string>())),
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, FromNodeJson(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(FromNodeJson)]),
        _ => node?.DeepClone(),
    };

    public static bool IsBinary(JsonNode? node) => SocketIoBinary.TryGet(node, out _);
}
