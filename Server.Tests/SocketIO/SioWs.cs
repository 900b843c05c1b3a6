using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>
/// A raw Socket.IO client over one Engine.IO WebSocket: sends and receives Socket.IO packet strings and binary
/// attachments exactly as written, answers heartbeats, and tells when the server closed.
/// </summary>
public sealed class SioWs : IAsyncDisposable
{
    /// <summary>One frame from the server: a Socket.IO packet string, or a binary attachment.</summary>
    public readonly record struct Frame(string? Text, byte[]? Binary);

    private readonly ClientWebSocket _ws;
    private readonly Channel<Frame> _frames = Channel.CreateUnbounded<Frame>();
    private readonly Task _reader;

    private SioWs(ClientWebSocket ws, int eio)
    {
        _ws = ws;
        Eio = eio;
        _reader = Task.Run(ReadLoopAsync);
    }

    public int Eio { get; }

    /// <summary>The Engine.IO session id from the open packet.</summary>
    public string Sid { get; private set; } = "";

    /// <summary>Whether the server sent an Engine.IO close packet or closed the WebSocket.</summary>
    public bool Closed { get; private set; }

    public static async Task<SioWs> OpenAsync(TestServer server, int eio, string? query = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var ws = new ClientWebSocket();
        foreach (var (key, value) in headers ?? new Dictionary<string, string>())
        {
            ws.Options.SetRequestHeader(key, value);
        }
        var uri = new Uri($"ws://127.0.0.1:{server.Port}/socket.io/?EIO={eio}&transport=websocket" + (query is null ? "" : "&" + query));
        await ws.ConnectAsync(uri, CancellationToken.None).Within();
        var client = new SioWs(ws, eio);
        var open = await client._frames.Reader.ReadAsync().AsTask().Within();
        Assert.That(open.Text, Does.StartWith("\u0000open:"), "the first frame is the open packet");
        client.Sid = IdOf(open.Text![6..], "sid");
        return client;
    }

    /// <summary>Opens and joins <paramref name="nsp"/> as a client of this protocol does; returns the CONNECT answer.</summary>
    public static async Task<(SioWs Client, string Answer)> ConnectAsync(TestServer server, int eio, string nsp, string? auth = null, string? query = null)
    {
        var client = await OpenAsync(server, eio, query);
        if (eio == 3)
        {
            Assert.That(await client.NextTextAsync(), Is.EqualTo("0"), "protocol 4: the server connects \"/\" unasked");
        }
        if (eio == 4 || nsp != "/")
        {
            await client.SendAsync("0" + (nsp == "/" ? "" : nsp + ",") + (auth ?? ""));
        }
        else
        {
            return (client, "0");
        }
        return (client, await client.NextTextAsync());
    }

    public static string IdOf(string json, string property)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        return doc.RootElement.GetProperty(property).GetString()!;
    }

    public Task SendAsync(string socketIoPacket) => SerializedAsync(() => _ws.SendTextAsync("4" + socketIoPacket));

    /// <summary>Sends an Engine.IO packet as written ("1" closes).</summary>
    public Task SendRawAsync(string engineIoPacket) => SerializedAsync(() => _ws.SendTextAsync(engineIoPacket));

    public Task SendBinaryAsync(byte[] data) => SerializedAsync(() => _ws.SendBinaryAsync(Eio == 3 ? [4, .. data] : data));

    /// <summary>One send at a time: a WebSocket allows no concurrent sends (the reader answers pings meanwhile).</summary>
    private readonly SemaphoreSlim _sendGate = new(1, 1);

    private async Task SerializedAsync(Func<Task> send)
    {
        await _sendGate.WaitAsync().Within();
        try
        {
            await send();
        }
        finally
        {
            _sendGate.Release();
        }
    }

    public async Task<Frame> NextAsync(TimeSpan? timeout = null)
    {
        try
        {
            return await _frames.Reader.ReadAsync().AsTask().Within(timeout);
        }
        catch (ChannelClosedException)
        {
            throw new AssertionException("the server closed the connection");
        }
    }

    /// <summary>Takes one frame already received, if any (to drain without waiting).</summary>
    public bool TryTake() => _frames.Reader.TryRead(out _);

    public async Task<string> NextTextAsync(TimeSpan? timeout = null)
    {
        var frame = await NextAsync(timeout);
        Assert.That(frame.Text, Is.Not.Null, "expected a text packet, got binary");
        return frame.Text!;
    }

    public async Task<byte[]> NextBinaryAsync()
    {
        var frame = await NextAsync();
        Assert.That(frame.Binary, Is.Not.Null, $"expected binary, got {frame.Text}");
        return frame.Binary!;
    }

    /// <summary>Waits until the server closes; packets before that are returned.</summary>
    public async Task<List<Frame>> ExpectClosedAsync(TimeSpan? timeout = null)
    {
        var before = new List<Frame>();
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        try
        {
            while (await _frames.Reader.WaitToReadAsync(cts.Token))
            {
                while (_frames.Reader.TryRead(out var frame))
                {
                    before.Add(frame);
                }
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("the server did not close the connection; got " + string.Join(" | ", before.Select(f => f.Text ?? "<binary>")));
        }
        Assert.That(Closed, Is.True);
        return before;
    }

    /// <summary>Nothing arrives within <paramref name="wait"/> (and the connection stays open).</summary>
    public async Task ExpectNothingAsync(TimeSpan? wait = null)
    {
        using var cts = new CancellationTokenSource(wait ?? TimeSpan.FromMilliseconds(200));
        try
        {
            bool any = await _frames.Reader.WaitToReadAsync(cts.Token);
            if (any && _frames.Reader.TryPeek(out var frame))
            {
                Assert.Fail($"unexpected packet {frame.Text ?? "<binary>"}");
            }
            Assert.Fail("the server closed the connection");
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task CloseAsync()
    {
        if (_ws.State == WebSocketState.Open)
        {
            await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).Within();
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var (type, data) = await _ws.ReceiveMessageAsync(TimeSpan.FromHours(1));
                if (type == WebSocketMessageType.Close)
                {
                    break;
                }
                if (type == WebSocketMessageType.Binary)
                {
                    _frames.Writer.TryWrite(new Frame(null, Eio == 3 ? data[1..] : data));
                    continue;
                }
                var text = Encoding.UTF8.GetString(data);
                switch (text[0])
                {
                    case '0':
                        _frames.Writer.TryWrite(new Frame("\u0000open:" + text[1..], null));
                        break;
                    case '1':
                        Closed = true;
                        _frames.Writer.TryComplete();
                        return;
                    case '2' when Eio >= 4:
                        await SerializedAsync(() => _ws.SendTextAsync("3"));
                        break;
                    case '4':
                        _frames.Writer.TryWrite(new Frame(text[1..], null));
                        break;
                    default:
                        // pong (v3), noop
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
        }
        Closed = true;
        _frames.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        _ws.Abort();
        try
        {
            await _reader.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }
        _ws.Dispose();
    }
}
