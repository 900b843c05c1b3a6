using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using SocketIoSignal.EngineIO;

namespace SocketIoSignal.AdminUi;

/// <summary>
/// The counts the UI draws its histograms from (<c>aggregatedEvents</c> of <c>server_stats</c>), per second:
/// rawConnection, rawDisconnection (by reason), packetsIn, packetsOut, bytesIn, bytesOut. Read from this server's
/// Engine.IO meter (the instruments of this application's meter factory only, so two servers in one process stay apart).
/// </summary>
internal sealed class AggregatedEvents : IDisposable
{
    private readonly IMeterFactory _meters;
    private readonly TimeProvider _time;
    private readonly MeterListener _listener = new();
    private readonly Dictionary<(long Second, string Type, string? SubType), long> _counts = [];

    public AggregatedEvents(IMeterFactory meters, TimeProvider time)
    {
        _meters = meters;
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EngineIoMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, _meters) && TypeOf(instrument.Name) is { } type)
            {
                listener.EnableMeasurementEvents(instrument, type);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>The UI's name for what an Engine.IO instrument counts; null for the others.</summary>
    private static string? TypeOf(string instrument) => instrument switch
    {
        "engineio.sessions.opened" => "rawConnection",
        "engineio.sessions.closed" => "rawDisconnection",
        "engineio.packets.in" => "packetsIn",
        "engineio.packets.out" => "packetsOut",
        "engineio.bytes.in" => "bytesIn",
        "engineio.polling.bytes.out" => "bytesOut",
        _ => null,
    };

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (state is not string type || value <= 0)
        {
            return;
        }
        string? subType = null;
        if (type == "rawDisconnection")
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "reason" && tag.Value is string reason)
                {
                    subType = Enum.TryParse<CloseReason>(reason, out var parsed) ? parsed.ToWire() : reason;
                }
            }
        }
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var key = (now - now % 1000, type, subType);
        lock (_counts)
        {
            _counts[key] = _counts.GetValueOrDefault(key) + value;
        }
    }

    /// <summary>The counts since the last call, as [{ timestamp, type, subType?, count }]; they are then forgotten.</summary>
    public JsonArray TakeAll()
    {
        KeyValuePair<(long Second, string Type, string? SubType), long>[] counts;
        lock (_counts)
        {
            counts = [.. _counts];
            _counts.Clear();
        }
        var result = new JsonArray();
        foreach (var ((second, type, subType), count) in counts.OrderBy(c => c.Key.Second))
        {
            var item = new JsonObject { ["timestamp"] = second, ["type"] = type };
            if (subType is not null)
            {
                item["subType"] = subType;
            }
            item["count"] = count;
            result.Add(item);
        }
        return result;
    }

    public void Dispose() => _listener.Dispose();
}
