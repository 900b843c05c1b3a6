using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.Tests.Codelab;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.AdminUi;

/// <summary>One thing a driven socket saw: its name in the test, the event, the event's arguments (or the connect_error message).</summary>
public sealed record DriverLine(string Name, string Event, JsonArray Args, string? Id, string? Message)
{
    public JsonNode? Arg(int index) => index < Args.Count ? Args[index] : null;

    public string? Text(int index) => Arg(index) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public override string ToString() => $"{Name} {Event} {Message ?? Args.ToJsonString()}";
}

/// <summary>
/// socket.io-client 4.8.1 in Node (sio-driver.js beside this file), several named sockets in one process: the test
/// writes commands, and waits for the lines the sockets print.
/// </summary>
public sealed class SioDriver : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly List<DriverLine> _lines = [];
    private readonly List<(Func<DriverLine, bool> Match, TaskCompletionSource<DriverLine> Done)> _waiters = [];
    private readonly Task _reader;

    private SioDriver(ChildProcess process)
    {
        _process = process;
        _reader = Task.Run(ReadAsync);
    }

    public static string Script => RepoPaths.Combine("Server.Tests", "AdminUi", "sio-driver.js");

    public static SioDriver Start()
    {
        NodeScripts.RequireNodeModules();
        return new SioDriver(ChildProcess.Start("node", [Script]));
    }

    public IReadOnlyList<DriverLine> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Connects the socket <paramref name="name"/> to <paramref name="url"/> (namespace included).</summary>
    public Task ConnectAsync(string name, string url, object? auth = null, string[]? transports = null) =>
        SendAsync(new JsonObject
        {
            ["cmd"] = "connect",
            ["name"] = name,
            ["url"] = url,
            ["auth"] = auth is null ? null : JsonSerializer.SerializeToNode(auth),
            ["transports"] = transports is null ? null : new JsonArray([.. transports.Select(t => JsonValue.Create(t))]),
        });

    /// <summary>Connects and waits for connect; returns the socket's id.</summary>
    public async Task<string> ConnectedAsync(string name, string url, object? auth = null, string[]? transports = null)
    {
        await ConnectAsync(name, url, auth, transports);
        var line = await WaitForAsync(l => l.Name == name && l.Event is "connect" or "connect_error", $"{name} to connect");
        if (line.Event != "connect")
        {
            throw new InvalidOperationException($"{name} could not connect: {line.Message}");
        }
        return line.Id!;
    }

    public Task EmitAsync(string name, string eventName, params object?[] args) =>
        SendAsync(new JsonObject
        {
            ["cmd"] = "emit",
            ["name"] = name,
            ["event"] = eventName,
            ["args"] = JsonSerializer.SerializeToNode(args),
        });

    public Task DisconnectAsync(string name) => SendAsync(new JsonObject { ["cmd"] = "disconnect", ["name"] = name });

    /// <summary>Waits for a line (already seen or still to come) of socket <paramref name="name"/> with this event that matches.</summary>
    public Task<DriverLine> WaitForAsync(string name, string eventName, Func<DriverLine, bool>? match = null, TimeSpan? timeout = null) =>
        WaitForAsync(l => l.Name == name && l.Event == eventName && (match is null || match(l)), $"{name} {eventName}", timeout);

    /// <summary>Waits for a line that matches, seen after the <paramref name="after"/> first lines (all: null).</summary>
    public async Task<DriverLine> WaitForAsync(Func<DriverLine, bool> match, string what, TimeSpan? timeout = null, int after = 0)
    {
        var done = new TaskCompletionSource<DriverLine>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            var seen = _lines.Skip(after).FirstOrDefault(match);
            if (seen is not null)
            {
                return seen;
            }
            _waiters.Add((match, done));
        }
        try
        {
            return await done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no line: {what}; the sockets saw:\n  " + string.Join("\n  ", Lines.TakeLast(60)));
        }
    }

    /// <summary>How many lines have been seen so far (to wait for what comes after).</summary>
    public int Count
    {
        get
        {
            lock (_lines)
            {
                return _lines.Count;
            }
        }
    }

    private async Task SendAsync(JsonObject command)
    {
        await _process.SendLineAsync(command.ToJsonString());
    }

    private async Task ReadAsync()
    {
        while (await _process.ReadLineAsync(Timeout.InfiniteTimeSpan) is { } text)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            var json = JsonNode.Parse(text)!.AsObject();
            var line = new DriverLine(
                json["name"]?.GetValue<string>() ?? "",
                json["event"]?.GetValue<string>() ?? "",
                json["args"] is JsonArray args ? (JsonArray)args.DeepClone() : [],
                json["id"]?.GetValue<string>(),
                json["message"]?.GetValue<string>());
            lock (_lines)
            {
                _lines.Add(line);
                foreach (var waiter in _waiters.Where(w => w.Match(line)).ToArray())
                {
                    waiter.Done.TrySetResult(line);
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
        catch (TimeoutException)
        {
            await _process.KillAsync();
        }
        await _reader.Within(TimeSpan.FromSeconds(5));
        var errors = string.Join("\n", _process.Errors);
        await _process.DisposeAsync();
        if (Lines.FirstOrDefault(l => l.Event == "driver_error") is { } error)
        {
            throw new InvalidOperationException("the driver failed: " + error.Message);
        }
        if (errors.Length > 0)
        {
            TestContextWriter(errors);
        }
    }

    private static void TestContextWriter(string errors) => NUnit.Framework.TestContext.Out.WriteLine("sio-driver.js stderr: " + errors);
}
