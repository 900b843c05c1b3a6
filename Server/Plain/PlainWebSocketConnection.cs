using SocketIoSignal.EngineIO.WebSockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using SocketIoSignal.EngineIO;
using SocketIoSignal.EngineIO.Protocol;
using SocketIoSignal.SocketIO;

namespace SocketIoSignal.Plain;

/// <summary>
/// One plain WebSocket client: every text frame is one JSON array <c>["event", args…]</c>, both ways. To the
/// Socket.IO layer it is a client of the namespace "/" like any other (rooms, broadcasts, Redis): the packets it is
/// given are Engine.IO message frames (<c>42[…]</c>), of which it sends the JSON array and drops what the plain
/// protocol has no word for (connect, acknowledgements, binary events). Incoming frames are checked before they
/// reach the handlers: not one JSON array → 1007, an event the server does not handle or a binary frame → 1003;
/// a message over EngineIo:MaxHttpBufferSize is closed with 1009 by the frame guard before it is read.
/// </summary>
internal sealed partial class PlainWebSocketConnection : IEngineIoConnection
{
    private const int InitialReceiveBuffer = 4096;

    private readonly WebSocketConnection _ws;
    private readonly PlainWebSocketEndpoint _endpoint;
    private readonly Channel<Outgoing> _out = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _receiveEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private bool _closing;
    private long _queuedBytes;
    private SocketIoClient? _client;

    /// <summary>A frame to send, or (with <see cref="Status"/>) the close frame that ends the writing.</summary>
    private readonly record struct Outgoing(ReadOnlyMemory<byte> Data, WebSocketCloseStatus? Status = null, string? Reason = null);

    public PlainWebSocketConnection(WebSocketConnection ws, HandshakeInfo handshake, PlainWebSocketEndpoint endpoint)
    {
        _ws = ws;
        _endpoint = endpoint;
        Handshake = handshake;
    }

    public string Id { get; } = SessionId.New();

    /// <summary>Engine.IO 3 rules above: connected to "/" at once, no CONNECT to wait for.</summary>
    public int Protocol => 3;

    public TransportKind Transport => TransportKind.WebSocket;

    public HandshakeInfo Handshake { get; }

    internal long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>Runs the connection until it ends: joins the Socket.IO server, then reads and writes.</summary>
    public async Task RunAsync()
    {
        var writer = WriteLoopAsync();
        _client = _endpoint.Io.Accept(this);
        var reason = await ReceiveLoopAsync();
        _receiveEnded.TrySetResult();
        lock (_gate)
        {
            _closing = true;
        }
        _out.Writer.TryComplete();
        try
        {
            await writer.WaitAsync(_endpoint.CloseTimeout);
        }
        catch (TimeoutException)
        {
            // A client that does not read: cut below.
        }
        _ws.Abort();
        _client.OnClose(reason);
    }

    // ---- out ----

    public bool Send(IReadOnlyList<EngineIoPacket> packets, bool compress = true) => Send(packets[0], compress);

    /// <summary>Only a packet's text goes out: its attachments, if any, have no place in a plain frame.</summary>
    public bool Send(EngineIoPacket first, bool compress = true)
    {
        if (first.Type != EngineIoPacketType.Message || first.IsBinary)
        {
            return IsOpen;
        }
        // The Engine.IO frame "4" + the Socket.IO packet; both are shared by every recipient of a broadcast, and the
        // JSON array is a slice of them, so nothing is copied per recipient.
        // With connection state recovery on, an event carries its offset as a last argument; a plain client cannot
        // recover, so it gets the event without it: the arguments of the handler's emit.
        var frame = first.TextFrameWithoutRecoveryOffset();
        var span = frame.Span;
        if (span.Length < 2)
        {
            return IsOpen;
        }
        switch (span[1])
        {
            case (byte)'2':
                int i = 2;
                while (i < span.Length && char.IsAsciiDigit((char)span[i]))
                {
                    // An acknowledgement id: the plain protocol has no acknowledgements, the event goes without.
                    i++;
                }
                if (i >= span.Length || span[i] != '[')
                {
                    return IsOpen;
                }
                var json = frame[i..];
                return Enqueue(json);
            case (byte)'1':
                // The server disconnected the socket from "/", the only namespace: the connection ends.
                Close();
                return true;
            default:
                // CONNECT (sent at once to protocol 4 clients), CONNECT_ERROR, ACK, binary events: nothing to say.
                if (span[1] == '5')
                {
                    _endpoint.Dropped("binary event");
                }
                return IsOpen;
        }
    }

    public string ReadyState => IsOpen ? "open" : "closed";

    /// <summary>Open and nothing waiting to be written.</summary>
    public bool Writable => IsOpen && QueuedBytes == 0;

    private bool IsOpen
    {
        get
        {
            lock (_gate)
            {
                return !_closing;
            }
        }
    }

    private bool Enqueue(ReadOnlyMemory<byte> json)
    {
        lock (_gate)
        {
            if (_closing)
            {
                return false;
            }
            if (Interlocked.Add(ref _queuedBytes, json.Length) > _endpoint.MaxQueuedBytes)
            {
                _closing = true;
            }
            else
            {
                return _out.Writer.TryWrite(new Outgoing(json));
            }
        }
        // A client that does not read: dropped, as an Engine.IO session past MaxQueuedBytes is.
        _endpoint.Dropped("send-buffer-full");
        _ws.Abort();
        return false;
    }

    /// <summary>The server is stopping: 1001 after what is queued.</summary>
    internal void Shutdown() => BeginClose(WebSocketCloseStatus.EndpointUnavailable, "server shutting down");

    /// <summary>Closes after what is queued has been sent (the server ended the connection).</summary>
    public void Close() => BeginClose(WebSocketCloseStatus.NormalClosure, "closed by the server");

    private void BeginClose(WebSocketCloseStatus status, string reason)
    {
        lock (_gate)
        {
            if (_closing)
            {
                return;
            }
            _closing = true;
            _out.Writer.TryWrite(new Outgoing(default, status, reason));
            _out.Writer.TryComplete();
        }
    }

    /// <summary>Sends what is queued, every frame waiting at once in one write; the close frame ends it.</summary>
    private async Task WriteLoopAsync()
    {
        var batch = new List<ReadOnlyMemory<byte>>();
        try
        {
            var reader = _out.Reader;
            while (await reader.WaitToReadAsync())
            {
                Outgoing? close = null;
                while (close is null && reader.TryRead(out var item))
                {
                    if (item.Status is not null)
                    {
                        close = item;
                        break;
                    }
                    Interlocked.Add(ref _queuedBytes, -item.Data.Length);
                    batch.Add(item.Data);
                }
                if (batch.Count > 0)
                {
                    await _ws.SendTextsAsync(batch);
                    foreach (var sent in batch)
                    {
                        _endpoint.BytesOut(sent.Length);
                    }
                    batch.Clear();
                }
                if (close is { Status: { } status } c)
                {
                    await _ws.SendCloseAsync((int)status, c.Reason ?? "");
                    // The client's close frame ends the read loop; one that never answers is cut off.
                    try
                    {
                        await _receiveEnded.Task.WaitAsync(_endpoint.CloseTimeout);
                    }
                    catch (TimeoutException)
                    {
                        _ws.Abort();
                    }
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            _ws.Abort();
        }
    }

    // ---- in ----

    private async Task<CloseReason> ReceiveLoopAsync()
    {
        while (true)
        {
            var received = await _ws.ReceiveAsync();
            switch (received.Kind)
            {
                case ReceivedKind.Binary:
                    return await FailAsync(WebSocketCloseStatus.InvalidMessageType, "binary frames are not part of this protocol: send [\"event\", args…] as text", CloseReason.ParseError);
                case ReceivedKind.Text:
                    var message = received.Data!;
                    _endpoint.BytesIn(message.Length);
                    var (status, why) = Check(message);
                    if (status is { } bad)
                    {
                        return await FailAsync(bad, why, CloseReason.ParseError);
                    }
                    // The Socket.IO layer keeps slices of what it is given: a fresh array, "2" (EVENT) + the array.
                    var packet = new byte[message.Length + 1];
                    packet[0] = (byte)'2';
                    message.CopyTo(packet.AsSpan(1));
                    _client!.OnText(packet);
                    continue;
                case ReceivedKind.Closed:
                    BeginClose(WebSocketCloseStatus.NormalClosure, "");
                    return CloseReason.TransportClose;
                case ReceivedKind.Failed:
                    // The decoder has sent the close frame (1002 / 1007 / 1009) and finished the close handshake.
                    _endpoint.ProtocolError(Id, "websocket: " + _ws.FailureReason);
                    return _ws.FailureCode == WebSocketFrameDecoder.TooBig ? CloseReason.MessageTooBig : CloseReason.ParseError;
                default:
                    return CloseReason.TransportClose;
            }
        }
    }

    /// <summary>The frame is one JSON array whose first element names an event the server handles; else the close code and reason.</summary>
    private (WebSocketCloseStatus? Status, string Reason) Check(ReadOnlySpan<byte> json)
    {
        string name;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = _endpoint.MaxJsonDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                return (WebSocketCloseStatus.InvalidPayloadData, "a frame is one JSON array: [\"event\", args…]");
            }
            if (!reader.Read() || reader.TokenType != JsonTokenType.String)
            {
                return (WebSocketCloseStatus.InvalidPayloadData, "the array starts with the event name, a string");
            }
            name = reader.GetString()!;
            while (reader.Read())
            {
                // Reads to the end: invalid JSON, or anything after the array, throws.
            }
        }
        catch (JsonException)
        {
            return (WebSocketCloseStatus.InvalidPayloadData, "a frame is one JSON array: [\"event\", args…] (not valid JSON, or nested too deep)");
        }
        if (!_endpoint.Events.Contains(name))
        {
            return (WebSocketCloseStatus.InvalidMessageType, Truncate($"unknown event \"{name}\"; events: {string.Join(", ", _endpoint.Events)}"));
        }
        return (null, "");
    }

    /// <summary>A close reason fits in a control frame: 123 bytes of UTF-8.</summary>
    private static string Truncate(string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) <= 123)
        {
            return reason;
        }
        var sb = new StringBuilder();
        foreach (var rune in reason.EnumerateRunes())
        {
            if (Encoding.UTF8.GetByteCount(sb.ToString()) + rune.Utf8SequenceLength + 3 > 123)
            {
                break;
            }
            sb.Append(rune.ToString());
        }
        return sb.Append('…').ToString();
    }

    /// <summary>The offender is told why (close code and reason), then the connection ends; nobody else is touched.</summary>
    private async Task<CloseReason> FailAsync(WebSocketCloseStatus status, string why, CloseReason reason)
    {
        _endpoint.ProtocolError(Id, why);
        BeginClose(status, Truncate(why));
        // Read (and drop) until the client's close frame, bounded, so the close reaches it before the cut.
        try
        {
            var deadline = Task.Delay(_endpoint.CloseTimeout);
            while (true)
            {
                var next = _ws.ReceiveAsync().AsTask();
                if (await Task.WhenAny(next, deadline) == deadline)
                {
                    break;
                }
                if ((await next).Kind is not (ReceivedKind.Text or ReceivedKind.Binary))
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // Gone or too slow: cut off by the caller.
        }
        return reason;
    }
}
