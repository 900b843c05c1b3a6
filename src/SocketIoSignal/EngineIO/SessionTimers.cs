namespace SocketIoSignal.EngineIO;

/// <summary>
/// The heartbeat and close timers of all sessions behind one timer of the <see cref="TimeProvider"/>: each session
/// has at most one due time; a queue ordered by due time says when the single timer fires next. An idle session
/// costs a queue entry instead of a timer of its own, and due sessions are run in one callback rather than one
/// thread-pool item each. Times are the provider's timestamps, so a fake clock drives it as it drove the timers.
/// </summary>
internal sealed class SessionTimers : IDisposable
{
    private readonly TimeProvider _time;
    private readonly object _lock = new();

    /// <summary>Entries (session, due); an entry whose due is no longer the session's is skipped when it comes up.</summary>
    private readonly PriorityQueue<EngineIoSession, long> _queue = new();
    private readonly ITimer _timer;
    private long _armedFor = long.MaxValue;

    /// <summary>Set while this thread runs due sessions: a session that re-arms then is picked up by the same run.</summary>
    [ThreadStatic]
    private static SessionTimers? t_running;

    public SessionTimers(TimeProvider time)
    {
        _time = time;
        _timer = time.CreateTimer(static s => ((SessionTimers)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Entries in the queue, stale ones included (for tests).</summary>
    internal int QueuedEntries
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    public long Now => _time.GetTimestamp();

    /// <summary>The timestamp <paramref name="delay"/> from now.</summary>
    public long After(TimeSpan delay) => Now + ToTimestamp(delay);

    public long ToTimestamp(TimeSpan span) =>
        _time.TimestampFrequency == TimeSpan.TicksPerSecond ? span.Ticks : (long)(span.Ticks * (double)_time.TimestampFrequency / TimeSpan.TicksPerSecond);

    /// <summary>Makes <paramref name="due"/> (a timestamp; long.MaxValue: none) the session's only due time.</summary>
    public void Set(EngineIoSession session, long due)
    {
        lock (_lock)
        {
            session.TimerDue = due;
            if (due == long.MaxValue)
            {
                return;
            }
            _queue.Enqueue(session, due);
            if (due < _armedFor && t_running != this)
            {
                ArmLocked(due, Now);
            }
        }
    }

    private void ArmLocked(long due, long now)
    {
        _armedFor = due;
        if (due == long.MaxValue)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        // Rounded up to whole milliseconds, never zero: timers truncate to milliseconds, and a due time under one
        // would fire at once, find nothing due yet, and spin until it comes. Nor may it fire inside this lock.
        long delta = Math.Max(1, due - now);
        long ticks = _time.TimestampFrequency == TimeSpan.TicksPerSecond
            ? delta
            : (long)Math.Ceiling(delta * (double)TimeSpan.TicksPerSecond / _time.TimestampFrequency);
        long ms = Math.Max(1, (ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond);
        _timer.Change(TimeSpan.FromMilliseconds(ms), Timeout.InfiniteTimeSpan);
    }

    /// <summary>Times the shared timer fired (for tests: an idle server must not spin on it).</summary>
    internal long Firings => Interlocked.Read(ref _firings);

    private long _firings;

    private void OnTimer()
    {
        Interlocked.Increment(ref _firings);
        List<EngineIoSession>? due = null;
        var previous = t_running;
        t_running = this;
        try
        {
            while (true)
            {
                lock (_lock)
                {
                    long now = Now;
                    while (_queue.TryPeek(out var session, out long at) && at <= now)
                    {
                        _queue.Dequeue();
                        if (session.TimerDue == at)
                        {
                            session.TimerDue = long.MaxValue;
                            (due ??= []).Add(session);
                        }
                    }
                    if (due is null || due.Count == 0)
                    {
                        ArmLocked(_queue.TryPeek(out _, out long next) ? next : long.MaxValue, now);
                        return;
                    }
                }
                foreach (var session in due)
                {
                    session.OnTimerDue();
                }
                due.Clear();
            }
        }
        finally
        {
            t_running = previous;
        }
    }

    public void Dispose() => _timer.Dispose();
}
