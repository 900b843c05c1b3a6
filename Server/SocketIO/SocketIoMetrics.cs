using System.Diagnostics.Metrics;

namespace SocketIoSignal.SocketIO;

/// <summary>Socket.IO counters: sockets, events, protocol errors by reason.</summary>
public sealed class SocketIoMetrics
{
    public const string MeterName = "SocketIoSignal.SocketIO";

    private readonly UpDownCounter<long> _sockets;
    private readonly Counter<long> _eventsIn;
    private readonly Counter<long> _protocolErrors;
    private long _connected;

    public SocketIoMetrics(IMeterFactory meterFactory, EngineIO.NodeIdentity? node = null)
    {
        var meter = meterFactory.Create(new MeterOptions(MeterName) { Tags = node?.Tags });
        _sockets = meter.CreateUpDownCounter<long>("socketio.sockets.connected");
        _eventsIn = meter.CreateCounter<long>("socketio.events.in");
        _protocolErrors = meter.CreateCounter<long>("socketio.protocol.errors");
    }

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

    internal void EventIn() => _eventsIn.Add(1);

    internal void ProtocolError(string why) => _protocolErrors.Add(1, new KeyValuePair<string, object?>("reason", why));
}
