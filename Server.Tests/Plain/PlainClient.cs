using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Plain;

/// <summary>
/// A client of the plain WebSocket endpoint: sends <c>["event", args…]</c> text frames, keeps every frame received
/// in an inbox (as JSON arrays), and the close status and reason the server gave.
/// </summary>
public sealed class PlainClient : IAsyncDisposable
{
    private readonly ClientWebSocket _ws;
    private readonly List<JsonArray> _inbox = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sending = new(1, 1);
    private Task? _reader;

    private PlainClient(ClientWebSocket ws) => _ws = ws;

    /// <summary>The id the server gave in <c>created</c> / <c>joined</c>, once one came.</summary>
    public string? Id { get; private set; }

    public WebSocketCloseStatus? CloseStatus => _ws.CloseStatus;

    public string? CloseReason => _ws.CloseStatusDescription;

    public Task WhenClosed => _closed.Task;

    public static async Task<PlainClient> ConnectAsync(Uri server, string path = "/ws", string? origin = null)
    {
        var ws = new ClientWebSocket();
        ws.Options.KeepAliveInterval = TimeSpan.Zero;
        if (origin is not null)
        {
            ws.Options.SetRequestHeader("Origin", origin);
        }
        try
        {
            await ws.ConnectAsync(new Uri($"ws://{server.Authority}{path}"), CancellationToken.None).Within();
        }
        catch
        {
            ws.Dispose();
            throw;
        }
        var client = new PlainClient(ws);
        client._reader = Task.Run(client.ReadLoopAsync);
        return client;
    }

    public Task EmitAsync(string name, params JsonNode?[] args)
    {
        var array = new JsonArray(name);
        foreach (var arg in args)
        {
            array.Add(arg);
        }
        return SendTextAsync(array.ToJsonString());
    }

    public Task SendTextAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendAsync(byte[] data, WebSocketMessageType type)
    {
        await _sending.WaitAsync().Within();
        try
        {
            await _ws.SendAsync(data, type, true, CancellationToken.None).Within();
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var ms = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _ws.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (_ws.State == WebSocketState.CloseReceived)
                    {
                        await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).Within();
                    }
                    break;
                }
                ms.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }
                var text = Encoding.UTF8.GetString(ms.ToArray());
                ms.SetLength(0);
                var frame = (JsonArray)JsonNode.Parse(text)!;
                lock (_inbox)
                {
                    _inbox.Add(frame);
                    if (frame[0]!.GetValue<string>() is "created" or "joined" && frame.Count > 2)
                    {
                        Id = frame[2]!.GetValue<string>();
                    }
                }
                _arrived.Release();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or TimeoutException)
        {
            // The connection is gone: WhenClosed completes.
        }
        finally
        {
            _closed.TrySetResult();
            _arrived.Release();
        }
    }

    /// <summary>The first frame naming <paramref name="name"/> (taken out of the inbox); the others stay.</summary>
    public Task<JsonArray> WaitForAsync(string name, TimeSpan? timeout = null) => WaitForAsync(name, _ => true, timeout);

    /// <summary>The first frame naming <paramref name="name"/> that <paramref name="match"/> accepts (taken out of the inbox).</summary>
    public async Task<JsonArray> WaitForAsync(string name, Func<JsonArray, bool> match, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TaskTimeouts.Default);
        while (true)
        {
            lock (_inbox)
            {
                int i = _inbox.FindIndex(f => f[0]?.GetValue<string>() == name && match(f));
                if (i >= 0)
                {
                    var frame = _inbox[i];
                    _inbox.RemoveAt(i);
                    return frame;
                }
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || (_closed.Task.IsCompleted && _arrived.CurrentCount == 0))
            {
                throw new TimeoutException($"plain client: no '{name}' frame; got {string.Join(" ", Pending())}; closed: {_closed.Task.IsCompleted} {CloseStatus} {CloseReason}");
            }
            await _arrived.WaitAsync(left);
        }
    }

    /// <summary>The frames received and not taken.</summary>
    public IReadOnlyList<string> Pending()
    {
        lock (_inbox)
        {
            return [.. _inbox.Select(f => f.ToJsonString())];
        }
    }

    /// <summary>The names of the frames received and not taken.</summary>
    public IReadOnlyList<string> PendingNames()
    {
        lock (_inbox)
        {
            return [.. _inbox.Select(f => f[0]!.GetValue<string>())];
        }
    }

    /// <summary>Waits until the server has closed; returns its close status and reason.</summary>
    public async Task<(WebSocketCloseStatus? Status, string? Reason)> ExpectClosedAsync(TimeSpan? timeout = null)
    {
        try
        {
            await _closed.Task.Within(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail("the server did not close the plain WebSocket; got " + string.Join(" ", Pending()));
        }
        return (CloseStatus, CloseReason);
    }

    /// <summary>The raw WebSocket (to close it, or to abort it as a vanished peer would).</summary>
    public ClientWebSocket Socket => _ws;

    public async ValueTask DisposeAsync()
    {
        if (_ws.State == WebSocketState.Open)
        {
            try
            {
                // The reader takes the server's answering close frame.
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
                await _closed.Task.WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or TimeoutException)
            {
                // Already gone, or slow: aborted below.
            }
        }
        _ws.Abort();
        if (_reader is not null)
        {
            await _reader.Within();
        }
        _ws.Dispose();
    }
}
