using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// A minimal Socket.IO 4 client over a raw WebSocket (Engine.IO 4, no polling): connects to "/", answers
/// pings, records every event, emits events. Enough to drive the codelab on several nodes.
/// </summary>
public sealed class SioClient : IAsyncDisposable
{
    private readonly ClientWebSocket _ws;
    private readonly Channel<(string Name, JsonArray Args)> _events = Channel.CreateUnbounded<(string, JsonArray)>();
    private readonly List<(string Name, JsonArray Args)> _seen = [];
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _reader = Task.CompletedTask;

    private SioClient(ClientWebSocket ws)
    {
        _ws = ws;
    }

    public string Id { get; private set; } = "";

    /// <summary>Completes when the server side is gone (closed or the connection broke).</summary>
    public Task Closed => _closed.Task;

    public static async Task<SioClient> ConnectAsync(Uri baseUri)
    {
        var ws = new ClientWebSocket();
        var uri = new Uri($"ws://{baseUri.Authority}/socket.io/?EIO=4&transport=websocket");
        await ws.ConnectAsync(uri, CancellationToken.None).Within();
        var client = new SioClient(ws);
        string open = await ws.ReceiveTextAsync();
        if (!open.StartsWith('0'))
        {
            throw new InvalidOperationException("expected the Engine.IO open packet, got " + open);
        }
        await client.SendAsync("40");
        string connect = await ws.ReceiveTextAsync();
        if (!connect.StartsWith("40", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("expected CONNECT, got " + connect);
        }
        client.Id = JsonNode.Parse(connect[2..])!["sid"]!.GetValue<string>();
        client._reader = Task.Run(client.ReadAsync);
        return client;
    }

    public Task EmitAsync(string name, params object?[] args)
    {
        var array = new JsonArray { name };
        foreach (var arg in args)
        {
            array.Add(JsonSerializer.SerializeToNode(arg));
        }
        return SendAsync("42" + array.ToJsonString());
    }

    /// <summary>The next event of this name (earlier events of other names are kept, not lost).</summary>
    public async Task<JsonArray> WaitForAsync(string name, TimeSpan? timeout = null) =>
        (await WaitForAnyAsync([name], timeout)).Args;

    /// <summary>The next event with one of these names. One waiter at a time per client.</summary>
    public async Task<(string Name, JsonArray Args)> WaitForAnyAsync(string[] names, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        lock (_seen)
        {
            int i = _seen.FindIndex(e => names.Contains(e.Name));
            if (i >= 0)
            {
                var found = _seen[i];
                _seen.RemoveAt(i);
                return found;
            }
        }
        try
        {
            while (true)
            {
                var e = await _events.Reader.ReadAsync(cts.Token);
                if (names.Contains(e.Name))
                {
                    return e;
                }
                lock (_seen)
                {
                    _seen.Add(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no '{string.Join("'/'", names)}' event within {timeout ?? TaskTimeouts.Default}; seen: {string.Join(", ", Names())}");
        }
    }

    /// <summary>Names of the events received and not yet taken.</summary>
    public IReadOnlyList<string> Names()
    {
        var names = new List<string>();
        lock (_seen)
        {
            names.AddRange(_seen.Select(e => e.Name));
        }
        while (_events.Reader.TryRead(out var e))
        {
            lock (_seen)
            {
                _seen.Add(e);
            }
            names.Add(e.Name);
        }
        return names;
    }

    private async Task ReadAsync()
    {
        try
        {
            while (true)
            {
                var (type, data) = await _ws.ReceiveMessageAsync(Timeout.InfiniteTimeSpan);
                if (type == WebSocketMessageType.Close)
                {
                    break;
                }
                if (type != WebSocketMessageType.Text)
                {
                    continue;
                }
                string text = Encoding.UTF8.GetString(data);
                if (text == "2")
                {
                    await SendAsync("3");
                }
                else if (text.StartsWith("42", StringComparison.Ordinal))
                {
                    var array = JsonNode.Parse(text[2..])!.AsArray();
                    string name = array[0]!.GetValue<string>();
                    array.RemoveAt(0);
                    _events.Writer.TryWrite((name, array));
                }
                else if (text.StartsWith('1') || text.StartsWith("41", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or InvalidOperationException)
        {
        }
        finally
        {
            _closed.TrySetResult();
        }
    }

    private async Task SendAsync(string text)
    {
        await _sendGate.WaitAsync().Within();
        try
        {
            await _ws.SendTextAsync(text);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_ws.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        await _reader.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _ws.Dispose();
        _sendGate.Dispose();
    }
}
