namespace SocketIoSignal.EngineIO;

/// <summary>
/// Counts the timers of sessions and connections that are alive (created, not yet disposed), so a test or an
/// operator can see that every one is disposed when its owner ends.
/// </summary>
internal sealed class LiveTimerCounter
{
    private long _live;

    /// <summary>Timers created and not yet disposed.</summary>
    public long Live => Interlocked.Read(ref _live);

    /// <summary>A timer kept elsewhere (a session's entry in the shared session timers) now lives.</summary>
    internal void Added() => Interlocked.Increment(ref _live);

    /// <summary>A timer counted with <see cref="Added"/> is gone.</summary>
    internal void Removed() => Interlocked.Decrement(ref _live);

    /// <summary>Creates a timer that is counted until its first Dispose.</summary>
    public ITimer Create(TimeProvider time, TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = time.CreateTimer(callback, state, dueTime, period);
        Interlocked.Increment(ref _live);
        return new Counted(timer, this);
    }

    private sealed class Counted(ITimer inner, LiveTimerCounter owner) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._live);
            }
            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
