using System.Diagnostics.Metrics;

namespace SocketIoSignal.EngineIO;

/// <summary>Engine.IO counters, readable by tests with a MeterListener and by dotnet-counters.</summary>
internal sealed class EngineIoMetrics
{
    public const string MeterName = "SocketIoSignal.EngineIO";

    private readonly Counter<long> _opened;
    private readonly Counter<long> _closed;
    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _packetsIn;
    private readonly Counter<long> _packetsOut;
    private readonly Counter<long> _bytesOut;
    private readonly Counter<long> _protocolErrors;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _bytesIn;
    private readonly Counter<long> _webSocketWrites;
    private readonly Counter<long> _dropped;
    private long _activeSessions;
    private long _receiveBuffers;

    public EngineIoMetrics(IMeterFactory meterFactory, NodeIdentity? node = null)
    {
        var meter = meterFactory.Create(new MeterOptions(MeterName) { Tags = node?.Tags });
        _opened = meter.CreateCounter<long>("engineio.sessions.opened");
        _closed = meter.CreateCounter<long>("engineio.sessions.closed");
        _active = meter.CreateUpDownCounter<long>("engineio.sessions.active");
        _packetsIn = meter.CreateCounter<long>("engineio.packets.in");
        _packetsOut = meter.CreateCounter<long>("engineio.packets.out");
        _bytesOut = meter.CreateCounter<long>("engineio.polling.bytes.out");
        _protocolErrors = meter.CreateCounter<long>("engineio.protocol.errors");
        _refused = meter.CreateCounter<long>("engineio.handshakes.refused");
        _bytesIn = meter.CreateCounter<long>("engineio.bytes.in");
        _dropped = meter.CreateCounter<long>("engineio.packets.dropped");
        _webSocketWrites = meter.CreateCounter<long>("engineio.websocket.writes");
        meter.CreateObservableGauge("engineio.timers.live", () => Timers.Live);
        meter.CreateObservableGauge("engineio.queued.bytes", () => QueuedBytes?.Invoke() ?? 0);
        meter.CreateObservableGauge("engineio.websocket.receive.buffers", () => ReceiveBuffers);
    }

    /// <summary>Heartbeat and upgrade timers of open sessions.</summary>
    public LiveTimerCounter Timers { get; } = new();

    /// <summary>Bytes queued towards clients, all sessions together (set by the server).</summary>
    internal Func<long>? QueuedBytes { get; set; }

    /// <summary>
    /// WebSocket receive buffers held right now: one per connection that is in the middle of reading a message,
    /// none for an idle one.
    /// </summary>
    public long ReceiveBuffers => Interlocked.Read(ref _receiveBuffers);

    /// <summary>WebSockets accepted and not yet finished, whichever path took them (HTTP or the connection level).</summary>
    internal long WebSockets => Interlocked.Read(ref _webSockets);

    private long _webSockets;

    internal void WebSocketAccepted() => Interlocked.Increment(ref _webSockets);

    internal void WebSocketFinished() => Interlocked.Decrement(ref _webSockets);

    internal void ReceiveBufferRented() => Interlocked.Increment(ref _receiveBuffers);

    internal void ReceiveBufferReturned() => Interlocked.Decrement(ref _receiveBuffers);

    /// <summary>Sessions opened and not yet closed.</summary>
    public long ActiveSessions => Interlocked.Read(ref _activeSessions);

    internal void SessionOpened()
    {
        Interlocked.Increment(ref _activeSessions);
        _opened.Add(1);
        _active.Add(1);
    }

    internal void SessionClosed(CloseReason reason)
    {
        Interlocked.Decrement(ref _activeSessions);
        _closed.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));
        _active.Add(-1);
    }

    internal void PacketIn() => _packetsIn.Add(1);

    internal void PacketsOut(int count) => _packetsOut.Add(count);

    /// <summary>One write of queued packets to a WebSocket (one flush, however many frames).</summary>
    internal void WebSocketWrite() => _webSocketWrites.Add(1);

    internal void BytesOut(long count) => _bytesOut.Add(count);

    /// <summary>Bytes received: polling bodies and WebSocket messages.</summary>
    internal void BytesIn(long count) => _bytesIn.Add(count);

    /// <summary>Packets not delivered, by reason ("send-buffer-full").</summary>
    internal void Dropped(string why, int count = 1) => _dropped.Add(count, new KeyValuePair<string, object?>("reason", why));

    internal void ProtocolError(string what)
    {
        Interlocked.Increment(ref _protocolErrorCount);
        _protocolErrors.Add(1, new KeyValuePair<string, object?>("reason", what));
    }

    private long _protocolErrorCount;

    /// <summary>Protocol errors counted since the start (for tests and diagnostics).</summary>
    public long ProtocolErrorCount => Interlocked.Read(ref _protocolErrorCount);

    internal void Refused(string why) => _refused.Add(1, new KeyValuePair<string, object?>("reason", why));
}
