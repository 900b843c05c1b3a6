using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;

namespace SocketIoSignal.Hosting;

/// <summary>
/// Samples what the process allocates, by type, from the runtime's own allocation ticks (one event about every
/// 100 KB allocated, naming the type that crossed the mark): the statistical profile behind the benchmark's
/// "alloc B/msg". Opt-in diagnostics only (<c>GET /_diag/alloc?ms=N</c>).
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const int AllocationTickEvent = 10;
    private const long GcKeyword = 0x1;

    private readonly Dictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private volatile bool _on = true;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_on || eventData.EventId != AllocationTickEvent || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }
        int nameAt = eventData.PayloadNames.IndexOf("TypeName");
        int amountAt = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (nameAt < 0)
        {
            return;
        }
        string type = eventData.Payload[nameAt] as string ?? "?";
        long amount = amountAt >= 0 ? Convert.ToInt64(eventData.Payload[amountAt], CultureInfo.InvariantCulture) : 100_000;
        lock (_gate)
        {
            _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        }
    }

    /// <summary>Samples for <paramref name="duration"/>, then returns JSON: allocated bytes and the types by share.</summary>
    public static async Task<string> SampleAsync(TimeSpan duration, CancellationToken cancel)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        Dictionary<string, long> bytes;
        using (var sampler = new AllocationSampler())
        {
            await Task.Delay(duration, cancel);
            sampler._on = false;
            lock (sampler._gate)
            {
                bytes = new Dictionary<string, long>(sampler._bytes, StringComparer.Ordinal);
            }
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        long sampled = Math.Max(1, bytes.Values.Sum());
        var sb = new StringBuilder();
        sb.Append("{\"allocatedBytes\":").Append(allocated.ToString(CultureInfo.InvariantCulture)).Append(",\"types\":[");
        bool first = true;
        foreach (var (type, amount) in bytes.OrderByDescending(p => p.Value).Take(40))
        {
            sb.Append(first ? "" : ",").Append("{\"type\":\"").Append(type.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal))
                .Append("\",\"share\":").Append((amount / (double)sampled).ToString("0.0000", CultureInfo.InvariantCulture)).Append('}');
            first = false;
        }
        return sb.Append("]}").ToString();
    }
}
