using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NUnit.Framework;

namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>
/// The tests' raw Socket.IO client: one WebSocket (Engine.IO 3 for Socket.IO protocol 4, Engine.IO 4 for
/// protocol 5), packets sent exactly as written, every packet received kept in order as a
/// <see cref="RawSocketIoPacket"/> until a test takes it. It answers the server's pings (Engine.IO 4) and
/// nothing else by itself.
/// <para>
/// Ways to take what arrived: <see cref="NextAsync"/> the next packet whatever it is;
/// <see cref="WaitForAsync"/> the first event of a name, leaving the others in place;
/// <see cref="TakeUntilAsync"/> everything up to an event of a name, as a transcript;
/// <see cref="FlushAsync"/> everything up to the answer to a ping, as a transcript;
/// <see cref="ExpectClosedAsync"/> and <see cref="ExpectNothingAsync"/>.
/// </para>
/// </summary>
public sealed class RawSocketIoClient : IAsyncDisposable
{
    /// <summary>How transcripts and expected events are written: no escaping beyond what JSON needs.</summary>
    public static readonly JsonSerializerOptions TranscriptJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>In the inbox: the answer to a ping of ours (Engine.IO 3), for <see cref="FlushAsync"/>.</summary>
    private static readonly object PongMarker = new();

    private readonly ClientWebSocket _ws;
    private readonly List<object> _inbox = [];
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _reader = Task.CompletedTask;

    private RawSocketIoClient(ClientWebSocket ws, int eio, string sid)
    {
        _ws = ws;
        Eio = eio;
        Sid = sid;
    }

    /// <summary>3 (Socket.IO protocol 4) or 4 (protocol 5).</summary>
    public int Eio { get; }

    /// <summary>The Engine.IO session id from the open packet.</summary>
    public string Sid { get; }

    /// <summary>The socket id in the namespace <see cref="ConnectAsync"/> joined; empty when it was refused.</summary>
    public string Id { get; private set; } = "";

    /// <summary>The server's answer to <see cref="ConnectAsync"/>'s CONNECT, as sent (<c>0</c> for "/" in protocol 4).</summary>
    public string ConnectAnswer { get; private set; } = "";

    /// <summary>Whether the server closed (a close packet or frame) or the connection broke.</summary>
    public bool Closed => _closed.Task.IsCompleted;

    /// <summary>Completes when <see cref="Closed"/> becomes true.</summary>
    public Task WhenClosed => _closed.Task;

    /// <summary>Opens the Engine.IO session over WebSocket; joins no namespace (protocol 4's "0" for "/" stays in the inbox).</summary>
    public static async Task<RawSocketIoClient> OpenAsync(Uri server, int eio, string? query = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var ws = new ClientWebSocket();
        foreach (var (key, value) in headers ?? new Dictionary<string, string>())
        {
            ws.Options.SetRequestHeader(key, value);
        }
        var uri = new Uri($"ws://{server.Authority}/socket.io/?EIO={eio}&transport=websocket" + (query is null ? "" : "&" + query));
        try
        {
            await ws.ConnectAsync(uri, CancellationToken.None).Within();
            var open = await ws.ReceiveTextAsync();
            Assert.That(open, Does.StartWith("0{"), "the first frame is the open packet");
            var client = new RawSocketIoClient(ws, eio, EngineIoRaw.SidOf(open));
            client._reader = Task.Run(client.ReadLoopAsync);
            return client;
        }
        catch
        {
            ws.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens and joins <paramref name="nsp"/> as a client of this protocol does (protocol 4 is in "/" unasked);
    /// the answer is in <see cref="ConnectAnswer"/>, the socket id in <see cref="Id"/>.
    /// </summary>
    public static async Task<RawSocketIoClient> ConnectAsync(Uri server, int eio, string nsp = "/", string? auth = null, string? query = null)
    {
        var client = await OpenAsync(server, eio, query);
        try
        {
            if (eio == 3)
            {
                Assert.That(await client.NextTextAsync(), Is.EqualTo("0"), "protocol 4: the server connects \"/\" unasked");
            }
            string prefix = nsp == "/" ? "" : nsp + ",";
            if (eio == 4 || nsp != "/")
            {
                await client.SendAsync("0" + prefix + (auth ?? ""));
                client.ConnectAnswer = await client.NextTextAsync();
            }
            else
            {
                client.ConnectAnswer = "0";
            }
            if (client.ConnectAnswer.StartsWith("0" + prefix, StringComparison.Ordinal))
            {
                client.Id = eio == 3
                    ? (nsp == "/" ? client.Sid : nsp + "#" + client.Sid)
                    : IdOf(client.ConnectAnswer[(1 + prefix.Length)..], "sid");
            }
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary><paramref name="count"/> clients in "/", connected one after the other.</summary>
    public static async Task<RawSocketIoClient[]> ConnectManyAsync(Uri server, int eio, int count)
    {
        var clients = new RawSocketIoClient[count];
        for (int i = 0; i < count; i++)
        {
            clients[i] = await ConnectAsync(server, eio);
        }
        return clients;
    }

    public static string IdOf(string json, string property)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty(property).GetString()!;
    }

    // ---- sending ----

    /// <summary>Sends a Socket.IO packet as written (the Engine.IO "4" is added).</summary>
    public Task SendAsync(string socketIoPacket) => SerializedAsync(() => _ws.SendTextAsync("4" + socketIoPacket));

    /// <summary>Sends an Engine.IO packet as written ("1" closes, "2" pings in protocol 4).</summary>
    public Task SendRawAsync(string engineIoPacket) => SerializedAsync(() => _ws.SendTextAsync(engineIoPacket));

    /// <summary>Sends a binary attachment (Engine.IO 3 frames it with a leading 4).</summary>
    public Task SendBinaryAsync(byte[] data) => SerializedAsync(() => _ws.SendBinaryAsync(Eio == 3 ? [4, .. data] : data));

    /// <summary>Emits an event to "/": <c>42[name, ...args]</c>.</summary>
    public Task EmitAsync(string name, params JsonNode?[] args) => SendRawAsync(EventPacket(name, args));

    /// <summary>The Engine.IO text of an event to "/": <c>42[name, ...args]</c>.</summary>
    public static string EventPacket(string name, params JsonNode?[] args)
    {
        var array = new JsonArray { name };
        foreach (var arg in args)
        {
            array.Add(arg?.DeepClone());
        }
        return "42" + array.ToJsonString(TranscriptJson);
    }

    /// <summary>An expected event, written as transcripts write events: <c>Ev("created", "foo", id)</c>.</summary>
    public static string Ev(string name, params object?[] args) => JsonSerializer.Serialize((object?[])[name, .. args], TranscriptJson);

    /// <summary>The name of an event in a transcript; null when it has none.</summary>
    public static string? EventName(string transcript) =>
        JsonNode.Parse(transcript) is JsonArray { Count: > 0 } a && a[0] is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : null;

    // ---- receiving ----

    /// <summary>The next packet, whatever it is; fails when the server closed first.</summary>
    public Task<RawSocketIoPacket> NextAsync(TimeSpan? timeout = null) =>
        TakeAsync(inbox =>
        {
            inbox.RemoveAll(e => e == PongMarker);
            if (inbox.Count == 0)
            {
                return null;
            }
            var packet = (RawSocketIoPacket)inbox[0];
            inbox.RemoveAt(0);
            return packet;
        }, timeout, "a packet");

    public async Task<string> NextTextAsync(TimeSpan? timeout = null)
    {
        var packet = await NextAsync(timeout);
        Assert.That(packet.Text, Is.Not.Null, "expected a text packet, got binary");
        return packet.Text!;
    }

    public async Task<byte[]> NextBinaryAsync(TimeSpan? timeout = null)
    {
        var packet = await NextAsync(timeout);
        Assert.That(packet.Binary, Is.Not.Null, $"expected binary, got {packet.Text}");
        return packet.Binary!;
    }

    /// <summary>Takes one packet already received, if any (to drain without waiting).</summary>
    public bool TryTake()
    {
        lock (_inbox)
        {
            int i = _inbox.FindIndex(e => e != PongMarker);
            if (i < 0)
            {
                return false;
            }
            _inbox.RemoveAt(i);
            return true;
        }
    }

    /// <summary>The first event named <paramref name="name"/>; the packets before it stay in the inbox.</summary>
    public Task<RawSocketIoPacket> WaitForAsync(string name, TimeSpan? timeout = null) => WaitForAnyAsync([name], timeout);

    /// <summary>The first event with one of these names; the packets before it stay in the inbox.</summary>
    public Task<RawSocketIoPacket> WaitForAnyAsync(IReadOnlyCollection<string> names, TimeSpan? timeout = null) =>
        TakeAsync(inbox =>
        {
            int i = inbox.FindIndex(e => e is RawSocketIoPacket { Name: { } n } && names.Contains(n));
            if (i < 0)
            {
                return null;
            }
            var packet = (RawSocketIoPacket)inbox[i];
            inbox.RemoveAt(i);
            return packet;
        }, timeout, $"an event '{string.Join("'/'", names)}'");

    /// <summary>Names of the events received and not yet taken.</summary>
    public IReadOnlyList<string> PendingEventNames()
    {
        lock (_inbox)
        {
            return [.. _inbox.OfType<RawSocketIoPacket>().Select(p => p.Name).OfType<string>()];
        }
    }

    /// <summary>
    /// Takes everything up to and including the first event named <paramref name="name"/>; returns the events
    /// among it as <see cref="RawSocketIoPacket.Json"/> (compare with <see cref="Ev"/>).
    /// </summary>
    public Task<List<string>> TakeUntilAsync(string name, TimeSpan? timeout = null) =>
        TakeAsync(inbox =>
        {
            int i = inbox.FindIndex(e => e is RawSocketIoPacket { Type: 2 } p && p.Name == name);
            return i < 0 ? null : Transcript(inbox, i + 1);
        }, timeout, $"an event '{name}'");

    /// <summary>
    /// Pings (protocol 4 only: its clients ping) and takes everything up to the pong, which the server sends
    /// after everything it queued before reading the ping; returns the events among it as a transcript.
    /// </summary>
    public async Task<List<string>> FlushAsync(TimeSpan? timeout = null)
    {
        if (Eio != 3)
        {
            throw new InvalidOperationException("only protocol 4 (Engine.IO 3) clients ping");
        }
        await SendRawAsync("2");
        return await TakeAsync(inbox =>
        {
            int i = inbox.IndexOf(PongMarker);
            return i < 0 ? null : Transcript(inbox, i + 1);
        }, timeout, "the pong");
    }

    /// <summary>Waits until the server closes; returns the packets received and not taken before that.</summary>
    public async Task<List<RawSocketIoPacket>> ExpectClosedAsync(TimeSpan? timeout = null)
    {
        try
        {
            await _closed.Task.Within(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail("the server did not close the connection; got " + string.Join(" | ", Pending()));
        }
        Assert.That(Closed, Is.True);
        lock (_inbox)
        {
            var before = _inbox.OfType<RawSocketIoPacket>().ToList();
            _inbox.Clear();
            return before;
        }
    }

    /// <summary>Nothing arrives within <paramref name="wait"/> (200 ms unless told), and the connection stays open.</summary>
    public async Task ExpectNothingAsync(TimeSpan? wait = null)
    {
        using var cts = new CancellationTokenSource(wait ?? TimeSpan.FromMilliseconds(200));
        while (true)
        {
            Task arrived;
            lock (_inbox)
            {
                if (_inbox.OfType<RawSocketIoPacket>().FirstOrDefault() is { } packet)
                {
                    Assert.Fail($"unexpected packet {packet}");
                }
                if (Closed)
                {
                    Assert.Fail("the server closed the connection");
                }
                arrived = _arrived.Task;
            }
            try
            {
                await arrived.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // ---- closing ----

    /// <summary>Closes the WebSocket and waits for the server's close (the session is gone when this returns).</summary>
    public async Task CloseAsync()
    {
        if (_ws.State == WebSocketState.Open)
        {
            await _sendGate.WaitAsync().Within();
            try
            {
                await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).Within();
            }
            finally
            {
                _sendGate.Release();
            }
        }
        await _reader.Within();
    }

    /// <summary>Drops the connection (no close handshake), as a client that vanishes does.</summary>
    public async ValueTask DisposeAsync()
    {
        _ws.Abort();
        await _reader.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _ws.Dispose();
    }

    // ---- inside ----

    /// <summary>Waits (bounded) until <paramref name="take"/> finds what it wants in the inbox, under its lock.</summary>
    private async Task<T> TakeAsync<T>(Func<List<object>, T?> take, TimeSpan? timeout, string what) where T : class
    {
        var bound = timeout ?? TaskTimeouts.Default;
        using var cts = new CancellationTokenSource(bound);
        while (true)
        {
            Task arrived;
            lock (_inbox)
            {
                if (take(_inbox) is { } found)
                {
                    return found;
                }
                if (Closed)
                {
                    throw new AssertionException($"the server closed the connection before {what}; got: {string.Join(" | ", _inbox)}");
                }
                arrived = _arrived.Task;
            }
            try
            {
                await arrived.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no {what} within {bound.TotalSeconds:0.###} s; got: {string.Join(" | ", Pending())}");
            }
        }
    }

    /// <summary>Removes the first <paramref name="count"/> entries; returns the events among them as JSON.</summary>
    private static List<string> Transcript(List<object> inbox, int count)
    {
        var events = inbox.Take(count).OfType<RawSocketIoPacket>().Where(p => p.Type == 2).Select(p => p.Json).ToList();
        inbox.RemoveRange(0, count);
        return events;
    }

    private List<RawSocketIoPacket> Pending()
    {
        lock (_inbox)
        {
            return [.. _inbox.OfType<RawSocketIoPacket>()];
        }
    }

    private void Add(object entry)
    {
        lock (_inbox)
        {
            _inbox.Add(entry);
            Signal();
        }
    }

    private void Signal()
    {
        var arrived = _arrived;
        _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        arrived.TrySetResult();
    }

    /// <summary>One send at a time: a WebSocket allows no concurrent sends (the reader answers pings meanwhile).</summary>
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

    private async Task ReadLoopAsync()
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
                if (type == WebSocketMessageType.Binary)
                {
                    Add(new RawSocketIoPacket(null, Eio == 3 ? data[1..] : data));
                    continue;
                }
                var text = Encoding.UTF8.GetString(data);
                if (text.Length == 0)
                {
                    continue;
                }
                switch (text[0])
                {
                    case '1':
                        return;
                    case '2' when Eio >= 4:
                        await SerializedAsync(() => _ws.SendTextAsync("3"));
                        break;
                    case '3':
                        Add(PongMarker);
                        break;
                    case '4':
                        Add(new RawSocketIoPacket(text[1..], null));
                        break;
                    default:
                        // noop, or what no server sends after the open packet
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException or TimeoutException)
        {
        }
        finally
        {
            lock (_inbox)
            {
                _closed.TrySetResult();
                Signal();
            }
        }
    }
}
