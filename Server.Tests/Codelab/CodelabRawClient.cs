using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>
/// A Socket.IO protocol 4 client (Engine.IO 3 over WebSocket, what socket.io-client 1.x/2.x speak) written
/// packet by packet, so a test controls exactly what is sent when. Received events are kept in order as
/// compact JSON arrays (<c>["created","foo","&lt;id&gt;"]</c>); <see cref="FlushAsync"/> is a round trip
/// (ping → pong) that proves everything the server queued before it has arrived.
/// </summary>
public sealed class CodelabRawClient : IAsyncDisposable
{
    private readonly ClientWebSocket _ws;
    private readonly Channel<string> _frames = Channel.CreateUnbounded<string>();
    private readonly Task _reader;

    private CodelabRawClient(ClientWebSocket ws, string id)
    {
        _ws = ws;
        Id = id;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>The socket id in "/" (the Engine.IO sid for protocol 4).</summary>
    public string Id { get; }

    /// <summary>Every event received so far, in order.</summary>
    public List<string> Events { get; } = [];

    public bool Closed { get; private set; }

    public static async Task<CodelabRawClient> ConnectAsync(Uri server)
    {
        var ws = new ClientWebSocket();
        var uri = new Uri($"ws://{server.Authority}/socket.io/?EIO=3&transport=websocket");
        await ws.ConnectAsync(uri, CancellationToken.None).Within();
        var open = await ws.ReceiveTextAsync();
        if (!open.StartsWith("0{", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("expected the open packet, got " + open);
        }
        var connect = await ws.ReceiveTextAsync();
        if (connect != "40")
        {
            throw new InvalidOperationException("expected 40, got " + connect);
        }
        return new CodelabRawClient(ws, EngineIoRaw.SidOf(open));
    }

    public static async Task<CodelabRawClient[]> ConnectManyAsync(Uri server, int count)
    {
        var clients = new CodelabRawClient[count];
        for (int i = 0; i < count; i++)
        {
            clients[i] = await ConnectAsync(server);
        }
        return clients;
    }

    /// <summary>Sends <c>42[name, ...args]</c>; each argument is JSON text.</summary>
    public Task EmitAsync(string name, params string[] jsonArgs) => _ws.SendTextAsync(EventPacket(name, jsonArgs));

    public static string EventPacket(string name, params string[] jsonArgs)
    {
        var array = new JsonArray { name };
        foreach (var arg in jsonArgs)
        {
            array.Add(JsonNode.Parse(arg));
        }
        return "42" + array.ToJsonString(Json);
    }

    /// <summary>How events are written here and in expectations: no escaping beyond what JSON needs.</summary>
    public static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>An expected event, written as received events are: <c>Ev("created", "foo", id)</c>.</summary>
    public static string Ev(string name, params object?[] args) => JsonSerializer.Serialize((object?[])[name, .. args], Json);

    /// <summary>An expected line of the seed's <c>log()</c>: <c>log ["Message from server:", …parts]</c>.</summary>
    public static string Log(params string[] parts) => Ev("log", (object)(string[])["Message from server:", .. parts]);

    public Task SendRawAsync(string packet) => _ws.SendTextAsync(packet);

    /// <summary>Waits for the next event named <paramref name="name"/>; returns it and what came before it.</summary>
    public async Task<List<string>> UntilAsync(string name, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var seen = new List<string>();
        while (true)
        {
            string frame;
            try
            {
                frame = await _frames.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no '{name}' within the timeout; got: {string.Join(" ", seen)}");
            }
            catch (ChannelClosedException)
            {
                throw new InvalidOperationException($"connection closed before '{name}'; got: {string.Join(" ", seen)}");
            }
            if (frame == "3")
            {
                continue;
            }
            seen.Add(frame);
            if (EventName(frame) == name)
            {
                return seen;
            }
        }
    }

    /// <summary>Pings and waits for the pong; returns every event that arrived before it.</summary>
    public async Task<List<string>> FlushAsync()
    {
        await _ws.SendTextAsync("2");
        using var cts = new CancellationTokenSource(TaskTimeouts.Default);
        var seen = new List<string>();
        while (true)
        {
            var frame = await _frames.Reader.ReadAsync(cts.Token);
            if (frame == "3")
            {
                return seen;
            }
            seen.Add(frame);
        }
    }

    /// <summary>Closes the WebSocket and waits for the server's close (the session is gone when this returns).</summary>
    public async Task CloseAsync()
    {
        if (Closed)
        {
            return;
        }
        Closed = true;
        if (_ws.State == WebSocketState.Open)
        {
            await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).Within();
        }
        await _reader.Within();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseAsync();
        }
        catch (Exception ex) when (ex is WebSocketException or TimeoutException or OperationCanceledException)
        {
            _ws.Abort();
        }
        _ws.Dispose();
    }

    public static string? EventName(string frame)
    {
        var node = JsonNode.Parse(frame);
        return node is JsonArray { Count: > 0 } a && a[0] is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : null;
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var (type, data) = await _ws.ReceiveMessageAsync(TimeSpan.FromMinutes(5));
                if (type == WebSocketMessageType.Close)
                {
                    return;
                }
                if (type != WebSocketMessageType.Text)
                {
                    continue;
                }
                var text = Encoding.UTF8.GetString(data);
                if (text == "3")
                {
                    _frames.Writer.TryWrite(text);
                }
                else if (text.StartsWith("42", StringComparison.Ordinal))
                {
                    var json = JsonNode.Parse(text[2..])!.ToJsonString(Json);
                    lock (Events)
                    {
                        Events.Add(json);
                    }
                    _frames.Writer.TryWrite(json);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }
}
