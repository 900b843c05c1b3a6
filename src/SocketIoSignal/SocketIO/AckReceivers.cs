using System.Text.Json.Nodes;

namespace SocketIoSignal.SocketIO;

/// <summary>Who waits for a client's answer to one acknowledgement id on one socket.</summary>
internal interface IAckReceiver
{
    /// <summary>The client answered (the ACK packet's arguments).</summary>
    void Answer(IReadOnlyList<JsonNode?> args);

    /// <summary>The socket left before its client answered.</summary>
    void Abandon();
}

/// <summary>
/// <c>socket.emitWithAck</c>: the client's first argument (or, <c>all</c>, every argument as a list), or an error
/// (timeout, disconnection).
/// </summary>
internal sealed class SocketAck(bool all) : IAckReceiver
{
    private readonly TaskCompletionSource<object?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<object?> Task => _done.Task;

    public void Answer(IReadOnlyList<JsonNode?> args) => _done.TrySetResult(all ? args : args.Count > 0 ? args[0] : null);

    public void Abandon() => _done.TrySetException(new InvalidOperationException("the socket disconnected"));

    public void TimedOut() => _done.TrySetException(new AckTimeoutException([]));
}

/// <summary>
/// A broadcast with acknowledgement (Node's <c>BroadcastOperator.emit</c> with a callback): complete when every
/// server reported how many clients it reached and every one of them answered; on timeout, an
/// <see cref="AckTimeoutException"/> with the answers so far. Local sockets that still wait are released either way.
/// </summary>
internal sealed class BroadcastAck : IAckReceiver
{
    private readonly object _gate = new();
    private readonly List<JsonNode?> _responses = [];
    private readonly List<SocketIoSocket> _waiting = [];
    private readonly TaskCompletionSource<IReadOnlyList<JsonNode?>> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ITimer? _timer;
    private int _expectedClients;
    private int _reportedServers;
    private int _expectedServers = -1;
    private bool _finished;

    public BroadcastAck(long id) => Id = id;

    /// <summary>The packet's ack id, the same on every socket it reaches.</summary>
    public long Id { get; }

    public Task<IReadOnlyList<JsonNode?>> Task => _done.Task;

    internal void StartTimer(SocketIoMetrics metrics, TimeProvider time, TimeSpan timeout)
    {
        var timer = metrics.Timers.Create(time, static s => ((BroadcastAck)s!).Finish(timedOut: true), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        lock (_gate)
        {
            if (_finished)
            {
                timer.Dispose();
                return;
            }
            _timer = timer;
        }
        timer.Change(timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A local socket now waits for its client's answer; false once the broadcast is over.</summary>
    internal bool Track(SocketIoSocket socket)
    {
        lock (_gate)
        {
            if (_finished)
            {
                return false;
            }
            _waiting.Add(socket);
            return true;
        }
    }

    /// <summary>One server (this one, or another through a cluster adapter) reached this many clients.</summary>
    public void ClientCount(int count)
    {
        lock (_gate)
        {
            _expectedClients += count;
            _reportedServers++;
        }
        CheckComplete();
    }

    /// <summary>How many servers will report (<c>serverCount()</c>).</summary>
    public void ServerCount(int count)
    {
        lock (_gate)
        {
            _expectedServers = count;
        }
        CheckComplete();
    }

    public void Answer(IReadOnlyList<JsonNode?> args)
    {
        lock (_gate)
        {
            if (_finished)
            {
                return;
            }
            _responses.Add(args.Count > 0 ? args[0] : null);
        }
        CheckComplete();
    }

    /// <summary>As Node: a client that left never answers, and the broadcast ends at its timeout.</summary>
    public void Abandon()
    {
    }

    private void CheckComplete()
    {
        bool complete;
        lock (_gate)
        {
            complete = !_finished && _expectedServers == _reportedServers && _responses.Count == _expectedClients;
        }
        if (complete)
        {
            Finish(timedOut: false);
        }
    }

    private void Finish(bool timedOut)
    {
        JsonNode?[] responses;
        SocketIoSocket[] waiting;
        ITimer? timer;
        lock (_gate)
        {
            if (_finished)
            {
                return;
            }
            _finished = true;
            responses = [.. _responses];
            waiting = [.. _waiting];
            _waiting.Clear();
            timer = _timer;
        }
        timer?.Dispose();
        foreach (var socket in waiting)
        {
            socket.ForgetAck(Id, this);
        }
        if (timedOut)
        {
            _done.TrySetException(new AckTimeoutException(responses));
        }
        else
        {
            _done.TrySetResult(responses);
        }
    }
}

/// <summary><c>serverSideEmitWithAck</c>: one answer per other server, or a timeout with the answers so far.</summary>
internal sealed class ServerSideAck
{
    private readonly object _gate = new();
    private readonly List<JsonNode?> _responses = [];
    private readonly TaskCompletionSource<IReadOnlyList<JsonNode?>> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _expected = -1;

    public Task<IReadOnlyList<JsonNode?>> Task => _done.Task;

    /// <summary>How many other servers received the event and will answer.</summary>
    public void Expect(int servers)
    {
        lock (_gate)
        {
            _expected = servers;
            if (_responses.Count >= _expected)
            {
                _done.TrySetResult([.. _responses]);
            }
        }
    }

    public void Response(JsonNode? response)
    {
        lock (_gate)
        {
            _responses.Add(response);
            if (_expected >= 0 && _responses.Count >= _expected)
            {
                _done.TrySetResult([.. _responses]);
            }
        }
    }

    public void TimedOut()
    {
        lock (_gate)
        {
            _done.TrySetException(new AckTimeoutException([.. _responses]));
        }
    }
}
