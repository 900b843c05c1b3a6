using System.Diagnostics.Metrics;

namespace SocketIoSignal.SocketIO;

/// <summary>Socket.IO counters: sockets, events, protocol errors by reason.</summary>
internal sealed class SocketIoMetrics
{
    public const string MeterName = "SocketIoSignal.SocketIO";

    private readonly UpDownCounter<long> _sockets;
    private readonly Counter<long> _eventsIn;
    private readonly Counter<long> _protocolErrors;
    private readonly Counter<long> _packetsIn;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _rateLimitDisconnects;
    private long _connected;

    public SocketIoMetrics(IMeterFactory meterFactory, EngineIO.NodeIdentity? node = null)
    {
        var meter = meterFactory.Create(new MeterOptions(MeterName) { Tags = node?.Tags });
        _sockets = meter.CreateUpDownCounter<long>("socketio.sockets.connected");
        _eventsIn = meter.CreateCounter<long>("socketio.events.in");
        _protocolErrors = meter.CreateCounter<long>("socketio.protocol.errors");
        _packetsIn = meter.CreateCounter<long>("socketio.packets.in");
        _dropped = meter.CreateCounter<long>("socketio.packets.dropped");
        _rateLimitDisconnects = meter.CreateCounter<long>("socketio.ratelimit.disconnects");
        meter.CreateObservableGauge("socketio.rooms", () => Rooms?.Invoke() ?? 0);
        meter.CreateObservableGauge("socketio.timers.live", () => Timers.Live);
        meter.CreateObservableGauge("socketio.acks.pending", () => PendingAcks);
        meter.CreateObservableGauge("socketio.recovery.sessions", () => RecoverySessions?.Invoke() ?? 0);
        meter.CreateObservableGauge("socketio.recovery.packets", () => RecoveryPackets?.Invoke() ?? 0);
    }

    /// <summary>Connection state recovery: disconnected sessions kept for their return, all namespaces together (set by the server).</summary>
    internal Func<long>? RecoverySessions { get; set; }

    /// <summary>Connection state recovery: events kept for sessions to recover, all namespaces together (set by the server).</summary>
    internal Func<long>? RecoveryPackets { get; set; }

    /// <summary>Connect and attachment timers of open connections.</summary>
    public EngineIO.LiveTimerCounter Timers { get; } = new();

    /// <summary>Rooms with a member on this node, all namespaces together (set by the server).</summary>
    internal Func<long>? Rooms { get; set; }

    /// <summary>Packets dropped so far (all reasons), readable without a listener.</summary>
    public long DroppedPackets => Interlocked.Read(ref _droppedTotal);

    private long _droppedTotal;

    /// <summary>Sockets connected to a namespace right now, all namespaces together.</summary>
    public long ConnectedSockets => Interlocked.Read(ref _connected);

    internal void SocketConnected()
    {
        Interlocked.Increment(ref _connected);
        _sockets.Add(1);
    }

    internal void SocketDisconnected()
    {
        Interlocked.Decrement(ref _connected);
        _sockets.Add(-1);
    }

    private long _pendingAcks;

    /// <summary>Acknowledgements sockets wait for, all sockets together.</summary>
    public long PendingAcks => Interlocked.Read(ref _pendingAcks);

    internal void AckPending(int delta) => Interlocked.Add(ref _pendingAcks, delta);

    internal void EventIn() => _eventsIn.Add(1);

    internal void PacketIn() => _packetsIn.Add(1);

    /// <summary>An incoming packet not handled, by reason ("rate-limited").</summary>
    internal void Dropped(string why)
    {
        Interlocked.Increment(ref _droppedTotal);
        _dropped.Add(1, new KeyValuePair<string, object?>("reason", why));
    }

    internal void RateLimitDisconnect() => _rateLimitDisconnects.Add(1);

    internal void ProtocolError(string why) => _protocolErrors.Add(1, new KeyValuePair<string, object?>("reason", why));
}
