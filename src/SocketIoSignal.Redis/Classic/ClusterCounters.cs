using System.Diagnostics.Metrics;

namespace SocketIoSignal.Redis.Classic;

/// <summary>
/// What the request protocol did, as metrics (meter <c>SocketIoSignal.Redis</c>) and as totals this node can
/// report: requests answered and sent, responses for requests of other nodes, requests that timed out, and
/// messages dropped (malformed, foreign, over a limit) by reason.
/// </summary>
internal sealed class ClusterCounters
{
    private readonly Counter<long> _answered;
    private readonly Counter<long> _sent;
    private readonly Counter<long> _timedOut;
    private readonly Counter<long> _dropped;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _droppedBy = new(StringComparer.Ordinal);
    private long _droppedTotal;
    private long _answeredTotal;
    private long _timedOutTotal;

    public ClusterCounters(Meter meter)
    {
        _answered = meter.CreateCounter<long>("redis.requests.answered");
        _sent = meter.CreateCounter<long>("redis.requests.sent");
        _timedOut = meter.CreateCounter<long>("redis.requests.timed_out");
        _dropped = meter.CreateCounter<long>("redis.messages.dropped");
    }

    public long DroppedTotal => Interlocked.Read(ref _droppedTotal);

    /// <summary>Messages dropped for <paramref name="reason"/> (malformed, invalid, unknown-request, not-ours, request-limit, ack-limit).</summary>
    public long DroppedFor(string reason) => _droppedBy.TryGetValue(reason, out long n) ? n : 0;

    public long AnsweredTotal => Interlocked.Read(ref _answeredTotal);

    public long TimedOutTotal => Interlocked.Read(ref _timedOutTotal);

    public void Answered(ClusterRequestType type)
    {
        Interlocked.Increment(ref _answeredTotal);
        _answered.Add(1, new KeyValuePair<string, object?>("type", type.ToString()));
    }

    public void Sent(ClusterRequestType type) => _sent.Add(1, new KeyValuePair<string, object?>("type", type.ToString()));

    public void TimedOut(ClusterRequestType type)
    {
        Interlocked.Increment(ref _timedOutTotal);
        _timedOut.Add(1, new KeyValuePair<string, object?>("type", type.ToString()));
    }

    public void Dropped(string reason)
    {
        Interlocked.Increment(ref _droppedTotal);
        _droppedBy.AddOrUpdate(reason, 1, (_, n) => n + 1);
        _dropped.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }
}
