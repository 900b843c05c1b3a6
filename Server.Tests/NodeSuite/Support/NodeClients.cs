using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.Tests.Codelab;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.NodeSuite.Support;

/// <summary>One thing a driven client saw: the event, its arguments, and the acknowledgement it waits for (if any).</summary>
public sealed record ClientEvent(string Client, string Event, JsonArray Args, long? AckId, bool Recovered)
{
    public JsonNode? Arg(int index) => index < Args.Count ? Args[index] : null;

    public string? Text(int index) => Arg(index) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public override string ToString() => $"{Client} {Event} {Args.ToJsonString()}";
}

/// <summary>
/// socket.io-client 4.8.1 in one long-lived Node process (Server.Tests/node/nodesuite-driver.js): the test sends
/// commands (connect, emit, emit with ack, disconnect, close the engine, …) and waits for what the clients saw.
/// One per fixture; every client is closed between tests.
/// </summary>
public sealed class NodeClients : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonNode?>> _calls = new();
    private readonly List<ClientEvent> _events = [];
    private readonly List<(Func<ClientEvent, bool> Match, TaskCompletionSource<ClientEvent> Done)> _waiters = [];
    private readonly Task _reader;
    private long _nextId;

    private NodeClients(ChildProcess process)
    {
        _process = process;
        _reader = Task.Run(ReadAsync);
    }

    public static string Script => RepoPaths.Combine("Server.Tests", "node", "nodesuite-driver.js");

    public static NodeClients Start()
    {
        NodeScripts.RequireNodeModules();
        return new NodeClients(ChildProcess.Start("node", [Script]));
    }

    /// <summary>Every event seen so far, by every client.</summary>
    public IReadOnlyList<ClientEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>
    /// A new client, <c>io(url, { forceNew: true, reconnection: false, ...opts })</c>; it connects by itself.
    /// <paramref name="respond"/>: acknowledgements it gives, by event name, from its very first packet on.
    /// </summary>
    public async Task<NodeClient> ConnectAsync(string url, object? opts = null, IReadOnlyDictionary<string, object?[]>? respond = null)
    {
        var answers = new JsonObject();
        foreach (var (name, args) in respond ?? new Dictionary<string, object?[]>())
        {
            answers[name] = Args(args);
        }
        var id = (await CallAsync("connect", new JsonObject { ["url"] = url, ["opts"] = ToNode(opts), ["respond"] = answers }))!.GetValue<string>();
        return new NodeClient(this, id);
    }

    /// <summary>A new client, connected: its id on the server.</summary>
    public async Task<(NodeClient Client, string Id)> ConnectedAsync(string url, object? opts = null)
    {
        var client = await ConnectAsync(url, opts);
        return (client, await client.ConnectedAsync());
    }

    /// <summary>A Manager (one Engine.IO connection that several namespaces share).</summary>
    public async Task<string> ManagerAsync(string url, object? opts = null) =>
        (await CallAsync("manager", new JsonObject { ["url"] = url, ["opts"] = ToNode(opts) }))!.GetValue<string>();

    /// <summary>A socket of namespace <paramref name="nsp"/> on the manager <paramref name="manager"/>.</summary>
    public async Task<NodeClient> SocketAsync(string manager, string nsp, object? opts = null, IReadOnlyDictionary<string, object?[]>? respond = null)
    {
        var answers = new JsonObject();
        foreach (var (name, args) in respond ?? new Dictionary<string, object?[]>())
        {
            answers[name] = Args(args);
        }
        var id = (await CallAsync("socket", new JsonObject { ["m"] = manager, ["nsp"] = nsp, ["opts"] = ToNode(opts), ["respond"] = answers }))!.GetValue<string>();
        return new NodeClient(this, id);
    }

    /// <summary>Runs an async JavaScript function body in the driver (see the script for what it sees).</summary>
    public Task<JsonNode?> RunAsync(string code, params object?[] args) =>
        CallAsync("run", new JsonObject { ["code"] = code, ["args"] = Args(args) });

    /// <summary>Closes every client and manager (between tests).</summary>
    public Task CloseAllAsync() => CallAsync("closeAll", new JsonObject());

    /// <summary>Forgets what was seen (between tests).</summary>
    public void ClearEvents()
    {
        lock (_events)
        {
            _events.Clear();
        }
    }

    /// <summary>Waits for an event (already seen or still to come) that matches.</summary>
    public async Task<ClientEvent> WaitForAsync(Func<ClientEvent, bool> match, string what, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource<ClientEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_events)
        {
            var seen = _events.FirstOrDefault(match);
            if (seen is not null)
            {
                return seen;
            }
            _waiters.Add((match, done));
        }
        try
        {
            return await done.Task.WaitAsync(timeout ?? TaskTimeouts.Default);
        }
        catch (TimeoutException)
        {
            lock (_events)
            {
                _waiters.RemoveAll(w => w.Done == done);
            }
            throw new TimeoutException($"no event: {what}; the clients saw:\n  " + string.Join("\n  ", Events.TakeLast(40)) + "\nstderr: " + string.Join("\n", _process.Errors));
        }
    }

    /// <summary>Sends a command and waits for its answer (the result, or the error the driver reported).</summary>
    public async Task<JsonNode?> CallAsync(string cmd, JsonObject body, TimeSpan? timeout = null)
    {
        long id = Interlocked.Increment(ref _nextId);
        body["id"] = id;
        body["cmd"] = cmd;
        var done = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls[id] = done;
        await _process.SendLineAsync(body.ToJsonString());
        try
        {
            return await done.Task.WaitAsync(timeout ?? TaskTimeouts.Default);
        }
        catch (TimeoutException)
        {
            _calls.TryRemove(id, out _);
            throw new TimeoutException($"the driver did not answer {cmd}; stderr: " + string.Join("\n", _process.Errors));
        }
    }

    /// <summary>A byte array as the driver carries it (a Buffer on the Node side).</summary>
    public static JsonObject Bin(byte[] bytes) => new() { ["$bin"] = Convert.ToBase64String(bytes) };

    /// <summary>The bytes of a value the driver reported as a Buffer; null if it was not one.</summary>
    public static byte[]? BytesOf(JsonNode? node) =>
        node is JsonObject o && o.Count == 1 && o["$bin"] is JsonValue v ? Convert.FromBase64String(v.GetValue<string>()) : null;

    internal static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        byte[] bytes => Bin(bytes),
        _ => JsonSerializer.SerializeToNode(value),
    };

    internal static JsonArray Args(object?[] args) => new([.. args.Select(a => a is object?[] nested ? Args(nested) : ToNode(a))]);

    private async Task ReadAsync()
    {
        while (await _process.ReadLineAsync(Timeout.InfiniteTimeSpan) is { } text)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            JsonObject json;
            try
            {
                json = JsonNode.Parse(text)!.AsObject();
            }
            catch (JsonException)
            {
                continue;
            }
            if (json["re"] is JsonValue re)
            {
                if (_calls.TryRemove(re.GetValue<long>(), out var call))
                {
                    if (json["error"] is JsonValue error)
                    {
                        call.TrySetException(new DriverException(error.GetValue<string>(), json["data"]?.DeepClone()));
                    }
                    else
                    {
                        call.TrySetResult(json["result"]?.DeepClone());
                    }
                }
                continue;
            }
            var seen = new ClientEvent(
                json["c"]?.GetValue<string>() ?? "",
                json["ev"]?.GetValue<string>() ?? "",
                json["args"] is JsonArray args ? (JsonArray)args.DeepClone() : [],
                json["ackId"]?.GetValue<long>(),
                json["recovered"]?.GetValue<bool>() ?? false);
            lock (_events)
            {
                _events.Add(seen);
                foreach (var waiter in _waiters.Where(w => w.Match(seen)).ToArray())
                {
                    waiter.Done.TrySetResult(seen);
                    _waiters.Remove(waiter);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.Process.StandardInput.Close();
            await _process.WaitForExitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or InvalidOperationException)
        {
            await _process.KillAsync();
        }
        await _reader.Within(TimeSpan.FromSeconds(5));
        await _process.DisposeAsync();
    }
}

/// <summary>An error the driver reported for a command (an acknowledgement timeout, a failed emit…).</summary>
public sealed class DriverException(string message, JsonNode? data) : Exception(message)
{
    public JsonNode? Data2 { get; } = data;
}

/// <summary>One socket.io-client socket in the driver.</summary>
public sealed class NodeClient(NodeClients driver, string id)
{
    public string Id { get; } = id;

    public NodeClients Driver { get; } = driver;

    /// <summary>Waits for <c>connect</c>; returns the socket id (throws on <c>connect_error</c>).</summary>
    public async Task<string> ConnectedAsync()
    {
        var seen = await Driver.WaitForAsync(e => e.Client == Id && e.Event is "connect" or "connect_error", $"{Id} connect");
        if (seen.Event != "connect")
        {
            throw new InvalidOperationException($"{Id} could not connect: {seen.Args.ToJsonString()}");
        }
        return seen.Text(0)!;
    }

    /// <summary>Waits for <c>connect_error</c>: its message and data.</summary>
    public async Task<(string Message, JsonNode? Data)> ConnectErrorAsync()
    {
        var seen = await WaitForAsync("connect_error");
        return (seen.Text(0)!, seen.Arg(1));
    }

    /// <summary>Waits for <c>disconnect</c>: the reason.</summary>
    public async Task<string> DisconnectedAsync(TimeSpan? timeout = null) => (await WaitForAsync("disconnect", timeout: timeout)).Text(0)!;

    /// <summary>Waits for an event of this client (the first one that matches, seen or to come).</summary>
    public Task<ClientEvent> WaitForAsync(string eventName, Func<ClientEvent, bool>? match = null, TimeSpan? timeout = null) =>
        Driver.WaitForAsync(e => e.Client == Id && e.Event == eventName && (match is null || match(e)), $"{Id} {eventName}", timeout);

    /// <summary>Waits until this client has seen <paramref name="count"/> events named <paramref name="eventName"/>; returns them.</summary>
    public async Task<IReadOnlyList<ClientEvent>> WaitForCountAsync(string eventName, int count, TimeSpan? timeout = null)
    {
        await Eventually.UntilAsync(() => Seen(eventName).Count >= count, timeout ?? TaskTimeouts.Default, $"{Id}: {count} × {eventName}; saw {string.Join(", ", Driver.Events.Where(e => e.Client == Id))}");
        return Seen(eventName);
    }

    /// <summary>The events named <paramref name="eventName"/> this client has seen so far.</summary>
    public IReadOnlyList<ClientEvent> Seen(string eventName) => [.. Driver.Events.Where(e => e.Client == Id && e.Event == eventName)];

    public Task EmitAsync(string eventName, params object?[] args) =>
        Driver.CallAsync("emit", new JsonObject { ["c"] = Id, ["event"] = eventName, ["args"] = NodeClients.Args(args) });

    /// <summary>Emits with flags: <c>socket.volatile</c>, <c>socket.compress(false)</c>.</summary>
    public Task EmitWithFlagsAsync(bool isVolatile, bool compress, string eventName, params object?[] args) =>
        Driver.CallAsync("emit", new JsonObject { ["c"] = Id, ["event"] = eventName, ["args"] = NodeClients.Args(args), ["volatile"] = isVolatile, ["compress"] = compress });

    /// <summary>Emits with a callback and waits for it: the arguments the server acknowledged with.</summary>
    public async Task<JsonArray> EmitWithAckAsync(string eventName, params object?[] args) =>
        (JsonArray)(await Driver.CallAsync("emitWithAck", new JsonObject { ["c"] = Id, ["event"] = eventName, ["args"] = NodeClients.Args(args) }))!;

    /// <summary><c>socket.timeout(ms).emit(…, (err, …args) => …)</c>: the arguments, or a <see cref="DriverException"/> on timeout.</summary>
    public async Task<JsonArray> EmitWithAckAsync(TimeSpan timeout, string eventName, params object?[] args) =>
        (JsonArray)(await Driver.CallAsync("emitWithAck", new JsonObject { ["c"] = Id, ["event"] = eventName, ["args"] = NodeClients.Args(args), ["timeout"] = (int)timeout.TotalMilliseconds }, timeout + TaskTimeouts.Default))!;

    public Task SendAsync(params object?[] args) =>
        Driver.CallAsync("send", new JsonObject { ["c"] = Id, ["args"] = NodeClients.Args(args) });

    /// <summary>Answers every acknowledgement the server asks for on <paramref name="eventName"/> with these arguments.</summary>
    public Task RespondAsync(string eventName, params object?[] args) =>
        Driver.CallAsync("respond", new JsonObject { ["c"] = Id, ["event"] = eventName, ["args"] = NodeClients.Args(args) });

    /// <summary>Answers the acknowledgement an event asked for.</summary>
    public Task AckAsync(ClientEvent seen, params object?[] args) =>
        Driver.CallAsync("ack", new JsonObject { ["ackId"] = seen.AckId ?? throw new InvalidOperationException($"{seen} asked for no acknowledgement"), ["args"] = NodeClients.Args(args) });

    public Task DisconnectAsync() => Driver.CallAsync("disconnect", new JsonObject { ["c"] = Id });

    /// <summary><c>socket.connect()</c> again after a disconnection.</summary>
    public Task ConnectAgainAsync() => Driver.CallAsync("connectAgain", new JsonObject { ["c"] = Id });

    /// <summary><c>socket.io.engine.close()</c>: the transport closes under the socket.</summary>
    public Task CloseEngineAsync() => Driver.CallAsync("engineClose", new JsonObject { ["c"] = Id });

    /// <summary>A raw Engine.IO message (a Socket.IO packet as text) on the client's transport.</summary>
    public Task EngineSendAsync(string data) => Driver.CallAsync("engineSend", new JsonObject { ["c"] = Id, ["data"] = data });

    /// <summary>id, connected, active, recovered, transport, engineId.</summary>
    public async Task<JsonObject> StateAsync() => (JsonObject)(await Driver.CallAsync("state", new JsonObject { ["c"] = Id }))!;
}
