namespace SocketIoSignal.Redis.Classic;

/// <summary>
/// A request this node sent and waits on: answers are folded in as they arrive; it completes when every node
/// expected answered, or at its deadline with what it has.
/// </summary>
internal abstract class PendingRequest
{
    private ITimer? _timer;
    private int _done;

    public abstract ClusterRequestType Type { get; }

    /// <summary>Folds in one response; true when that made the request complete.</summary>
    public abstract bool Accept(ClusterMessage response);

    /// <summary>Ends the request: <paramref name="complete"/> false when its deadline passed first.</summary>
    protected abstract void Finish(bool complete);

    internal void Arm(TimeProvider time, TimeSpan timeout, Action<PendingRequest> onTimeout) =>
        _timer = time.CreateTimer(_ => onTimeout(this), null, timeout, Timeout.InfiniteTimeSpan);

    /// <summary>Finishes once; later calls (a late answer racing the deadline) do nothing.</summary>
    internal bool TryFinish(bool complete)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return false;
        }
        _timer?.Dispose();
        Finish(complete);
        return true;
    }
}

/// <summary>
/// The requests of one namespace waiting for answers, by request id, at most <c>capacity</c> at once (beyond it
/// a new request fails at once rather than growing the table without bound).
/// </summary>
internal sealed class PendingRequests(TimeProvider time, int capacity)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, PendingRequest> _requests = new(StringComparer.Ordinal);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _requests.Count;
            }
        }
    }

    /// <summary>Registers and arms the deadline; false when the table is full.</summary>
    public bool TryAdd(string requestId, PendingRequest request, TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_requests.Count >= capacity || !_requests.TryAdd(requestId, request))
            {
                return false;
            }
        }
        request.Arm(time, timeout, r => Expire(requestId, r));
        return true;
    }

    /// <summary>Routes a response; false when no request of this node has its id.</summary>
    public bool TryAccept(string requestId, ClusterMessage response)
    {
        PendingRequest? request;
        lock (_gate)
        {
            if (!_requests.TryGetValue(requestId, out request))
            {
                return false;
            }
        }
        bool complete;
        lock (request)
        {
            complete = request.Accept(response);
        }
        if (complete)
        {
            Remove(requestId, request);
            request.TryFinish(true);
        }
        return true;
    }

    /// <summary>
    /// <see cref="TryAdd"/> for a request whose answers go to a tracker elsewhere: it is gone as soon as
    /// <paramref name="done"/> completes (every answer in, or the tracker's timeout), so a late answer has nowhere to go.
    /// </summary>
    public bool TryAddUntil(string requestId, PendingRequest request, TimeSpan timeout, Task done)
    {
        if (!TryAdd(requestId, request, timeout))
        {
            return false;
        }
        done.ContinueWith(_ => Complete(requestId, request), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return true;
    }

    private void Complete(string requestId, PendingRequest request)
    {
        Remove(requestId, request);
        request.TryFinish(true);
    }

    /// <summary>Ends every request with what it has (the node is leaving).</summary>
    public void ExpireAll()
    {
        List<PendingRequest> all;
        lock (_gate)
        {
            all = [.. _requests.Values];
            _requests.Clear();
        }
        foreach (var request in all)
        {
            request.TryFinish(false);
        }
    }

    private void Expire(string requestId, PendingRequest request)
    {
        Remove(requestId, request);
        request.TryFinish(false);
    }

    private void Remove(string requestId, PendingRequest request)
    {
        lock (_gate)
        {
            ((ICollection<KeyValuePair<string, PendingRequest>>)_requests).Remove(new(requestId, request));
        }
    }
}
