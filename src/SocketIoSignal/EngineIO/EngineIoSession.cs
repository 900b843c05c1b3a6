using SocketIoSignal.EngineIO.Protocol;
using SocketIoSignal.EngineIO.WebSockets;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// One Engine.IO session: its outgoing queue (bounded, one writer at a time), its current transport,
/// the heartbeat and the upgrade. All state changes happen under <see cref="_gate"/>; I/O happens outside it.
/// </summary>
internal sealed partial class EngineIoSession
{
    private enum State
    {
        Open,
        Closing,
        Closed,
    }

    // The session's state, all of it, by part. The partial files hold only behaviour: this file the lifecycle,
    // the heartbeat and the outbox (its queue is an Outbox); EngineIoSession.Polling.cs the polling transport;
    // EngineIoSession.WebSocket.cs the WebSocket transport and the upgrade probe.

    // ---- lifecycle ----
    private readonly EngineIoServer _server;

    /// <summary>Guards every state change below (except <see cref="TimerDue"/>); no I/O happens under it.</summary>
    private readonly object _gate = new();

    private State _state = State.Open;
    private CloseReason _closeReason;

    /// <summary>
    /// Polling, closing with no GET waiting: the close goes out as the reference sends it, after what is queued,
    /// as a noop and the close packet in a poll of their own (its <c>shouldClose</c>), not in the outbox.
    /// </summary>
    private bool _closeOnPoll;

    /// <summary>Hands incoming packets to <see cref="OnPacket"/> one at a time, whichever transport read them.</summary>
    private readonly object _dispatch = new();

    // ---- heartbeat ----
    private bool _awaitingPong;
    private long _heartbeatDeadline = long.MaxValue;

    /// <summary>Whether the session still counts as a live timer in the metrics (until it ends).</summary>
    private bool _timerLive = true;

    /// <summary>This session's due time in <see cref="SessionTimers"/> (long.MaxValue: none); guarded by the lock of SessionTimers.</summary>
    internal long TimerDue = long.MaxValue;

    /// <summary>The connection as the public API shows it; made on first use, so a session nobody observes pays nothing.</summary>
    private EngineConnection? _connection;

    // ---- outbox ----
    /// <summary>The packets waiting for a transport to take them, and their bytes (bounded by MaxQueuedBytes).</summary>
    private readonly Outbox _outbox = new();

    // ---- upgrade probe ----
    private WebSocketConnection? _probe;
    private bool _upgrading;
    private ITimer? _upgradeTimer;

    // ---- polling transport ----
    private TaskCompletionSource? _pendingPoll;
    private bool _postActive;

    // ---- WebSocket transport ----
    private WebSocketConnection? _webSocket;

    /// <summary>Completed when the receive loop of the session's WebSocket has ended.</summary>
    private readonly TaskCompletionSource _receiveEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The WebSocket the session writes to, once it may (after the first-frame pause or the upgrade).</summary>
    private WebSocketConnection? _writerSocket;

    /// <summary>A writer is draining the outbox into <see cref="_writerSocket"/>; there is never more than one.</summary>
    private bool _writing;

    private readonly List<EngineIoPacket> _writeBatch = [];

    /// <summary>Completed when the session's WebSocket writing is over for good (closed, failed or aborted).</summary>
    private readonly TaskCompletionSource _writerEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal EngineIoSession(EngineIoServer server, string id, int protocol, TransportKind transport, bool supportsBinary, HandshakeInfo handshake)
    {
        _server = server;
        Id = id;
        Protocol = protocol;
        Transport = transport;
        SupportsBinary = supportsBinary;
        Handshake = handshake;
        // The heartbeat and close timer lives in the server's shared SessionTimers; counted as a live timer until the
        // session ends, as a timer of its own was.
        server.Metrics.Timers.Added();
    }

    public string Id { get; }

    /// <summary>Engine.IO protocol version: 3 or 4.</summary>
    public int Protocol { get; }

    public TransportKind Transport { get; private set; }

    /// <summary>False for v3 clients that asked for base64 (b64=1) or JSONP.</summary>
    public bool SupportsBinary { get; }

    public HandshakeInfo Handshake { get; }

    /// <summary>This session as the public API shows it (Node's <c>socket.conn</c>).</summary>
    public EngineConnection Connection
    {
        get
        {
            var connection = Volatile.Read(ref _connection);
            if (connection is null)
            {
                Interlocked.CompareExchange(ref _connection, new EngineConnection(this), null);
                connection = _connection!;
            }
            return connection;
        }
    }

    /// <summary>The public connection if anything has asked for it (its listeners are the only ones to tell).</summary>
    internal EngineConnection? ObservedConnection => Volatile.Read(ref _connection);

    internal EngineIoServer Server => _server;

    /// <summary>"open", "closing" or "closed", as Node's readyState.</summary>
    public string ReadyState
    {
        get
        {
            lock (_gate)
            {
                return _state switch
                {
                    State.Open => "open",
                    State.Closing => "closing",
                    _ => "closed",
                };
            }
        }
    }

    /// <summary>A slot for the layer above.</summary>
    public object? Tag { get; set; }

    public bool IsOpen
    {
        get
        {
            lock (_gate)
            {
                return _state == State.Open;
            }
        }
    }

    internal long QueuedBytes => _outbox.Bytes;

    /// <summary>v4: a ping went out and its pong has not come back yet (for tests and diagnostics).</summary>
    internal bool AwaitingPong
    {
        get
        {
            lock (_gate)
            {
                return _awaitingPong;
            }
        }
    }

    public bool Send(string text) => Send(EngineIoPacket.Message(text));

    public bool SendBinary(ReadOnlyMemory<byte> data) => Send(EngineIoPacket.CreateBinary(data));

    /// <summary>Queues a packet; false when the session is no longer open. Shared packets are encoded once.</summary>
    /// <param name="packet">The packet.</param>
    /// <param name="compress">False: never compressed (permessage-deflate), whatever its size.</param>
    public bool Send(EngineIoPacket packet, bool compress = true) => Send(packet, null, compress);

    /// <summary>
    /// Whether the transport can take a packet now (Node's <c>transport.writable</c>); a volatile packet is dropped
    /// when it cannot. Polling: a GET is waiting and nothing is queued for it. WebSocket: no batch is queued or being
    /// written; a written batch releases the transport only on a later turn of the thread pool, as Node's does on
    /// its write callback, so a packet emitted right after another (in the same handler) finds it busy.
    /// </summary>
    public bool Writable
    {
        get
        {
            lock (_gate)
            {
                if (_state != State.Open || _outbox.Count > 0)
                {
                    return false;
                }
                return Transport == TransportKind.Polling
                    ? _pendingPoll is { Task.IsCompleted: false }
                    : _writerSocket is not null && !_writing;
            }
        }
    }

    /// <summary>Queues packets that must stay together (a Socket.IO packet and its attachments).</summary>
    /// <param name="packets">The packets, in order.</param>
    /// <param name="compress">False: none of them is compressed (permessage-deflate), whatever its size.</param>
    public bool Send(IReadOnlyList<EngineIoPacket> packets, bool compress = true) => Send(null, packets, compress);

    /// <summary>Queues <paramref name="one"/>, or else <paramref name="many"/>: a single packet needs no list.</summary>
    private bool Send(EngineIoPacket? one, IReadOnlyList<EngineIoPacket>? many, bool compress)
    {
        bool overflow = false;
        WebSocketConnection? writer = null;
        int count = one is null ? many!.Count : 1;
        lock (_gate)
        {
            if (_state != State.Open)
            {
                return false;
            }
            long size = 0;
            for (int i = 0; i < count; i++)
            {
                size += (one ?? many![i]).WireSize;
            }
            if (_outbox.Bytes + size > _server.Options.MaxQueuedBytes)
            {
                overflow = true;
            }
            else
            {
                for (int i = 0; i < count; i++)
                {
                    var packet = one ?? many![i];
                    EnqueueLocked(compress ? packet : packet.WithoutCompression());
                }
                writer = ClaimWriterLocked();
            }
        }
        if (!overflow && ObservedConnection is { } observed)
        {
            observed.RaisePacketCreate(one is null ? many! : [one], compress);
        }
        if (writer is not null)
        {
            RunWriter(writer);
        }
        if (overflow)
        {
            _server.Metrics.Dropped("send-buffer-full", count);
            Abort(CloseReason.SendBufferFull);
            return false;
        }
        return true;
    }

    /// <summary>Closes the session after what is queued has been delivered, ending with a close packet.</summary>
    public void Close() => BeginClose(CloseReason.ForcedClose);

    internal void BeginClose(CloseReason reason)
    {
        WebSocketConnection? writer;
        lock (_gate)
        {
            if (_state != State.Open)
            {
                return;
            }
            _state = State.Closing;
            _closeReason = reason;
            if (Transport == TransportKind.Polling && _pendingPoll is null && !_upgrading && reason != CloseReason.ServerShuttingDown)
            {
                // As the reference's polling transport when it cannot write: the next poll takes what is queued,
                // the one after that (or the next one, if nothing is queued) a noop and the close packet. The close
                // timer below still ends a session whose client stops polling. (At shutdown the reference discards
                // sessions; here they keep the close packet in the outbox, so every poll learns of it at once.)
                _closeOnPoll = true;
            }
            else
            {
                EnqueueLocked(EngineIoPacket.ClosePacket);
            }
            if (!_upgrading)
            {
                AbortProbeLocked();
            }
            // else: the probe was answered and the client has paused polling; as the reference, the upgrade may
            // still complete (the close packet then leaves on the WebSocket), else the close timer ends it.
            // The transport delivers the rest and ends the session; if the client does not fetch it in time, drop it.
            _server.Timers.Set(this, _server.Timers.After(_server.Options.CloseTimeout));
            writer = ClaimWriterLocked();
        }
        ObservedConnection?.RaisePacketCreate(EngineIoPacket.ClosePacket);
        _server.OnSessionClosed(this, reason);
        if (writer is not null)
        {
            RunWriter(writer);
        }
    }

    /// <summary>Ends the session now, without delivering what is queued.</summary>
    internal void Abort(CloseReason reason)
    {
        WebSocketConnection? ws;
        bool wasOpen;
        CloseReason closeReason;
        lock (_gate)
        {
            if (_state == State.Closed)
            {
                return;
            }
            wasOpen = _state == State.Open;
            if (wasOpen && reason == CloseReason.TransportClose && Transport == TransportKind.Polling && _pendingPoll is null)
            {
                // Recorded before the state change is visible, so a GET racing this close finds the record.
                _server.RememberClientClose(this);
            }
            if (wasOpen)
            {
                _closeReason = reason;
            }
            closeReason = _closeReason;
            _state = State.Closed;
            _server.Timers.Set(this, long.MaxValue);
            if (_timerLive)
            {
                _timerLive = false;
                _server.Metrics.Timers.Removed();
            }
            AbortProbeLocked();
            _outbox.Clear();
            _pendingPoll?.TrySetResult();
            ws = _webSocket;
            if (!_writing)
            {
                // No writer is running to see the end: the session's WebSocket request may finish now.
                _writerEnded.TrySetResult();
            }
        }
        ws?.Abort();
        _server.Remove(this);
        if (wasOpen)
        {
            _server.OnSessionClosed(this, reason);
        }
        // Node's "close" comes once the transport has closed, with readyState "closed".
        _server.OnSessionEnded(this, closeReason);
    }

    /// <summary>Queues a packet and wakes a waiting poll.</summary>
    private void EnqueueLocked(EngineIoPacket packet)
    {
        _outbox.Enqueue(packet);
        _pendingPoll?.TrySetResult();
    }

    // ---- heartbeat ----

    internal void StartHeartbeat()
    {
        lock (_gate)
        {
            if (_state != State.Open)
            {
                return;
            }
            // v4: the server pings after pingInterval. v3: the client pings; silence past interval + timeout closes.
            ArmHeartbeatLocked(Protocol >= 4 ? _server.Options.PingInterval : _server.Options.PingInterval + _server.Options.PingTimeout);
        }
    }

    /// <summary>
    /// Sets the heartbeat timer, and the deadline past which the session counts as timed out even if the timer
    /// has not fired yet (v4: the pong is due by pingInterval + pingTimeout after the last one; v3: the next ping).
    /// </summary>
    private void ArmHeartbeatLocked(TimeSpan due)
    {
        long now = _server.Timers.Now;
        _server.Timers.Set(this, now + _server.Timers.ToTimestamp(due));
        var untilDeadline = Protocol >= 4 ? due + _server.Options.PingTimeout : due;
        _heartbeatDeadline = now + (long)(untilDeadline.TotalSeconds * _server.Time.TimestampFrequency);
    }

    /// <summary>
    /// Closes the session with "ping timeout" when its heartbeat deadline has passed, before a late request or
    /// message is taken as a sign of life (a thread-pool timer may fire a little late). True when it closed.
    /// </summary>
    internal bool CloseIfHeartbeatLate()
    {
        lock (_gate)
        {
            if (_state != State.Open || _server.Time.GetTimestamp() < _heartbeatDeadline)
            {
                return false;
            }
        }
        Abort(CloseReason.PingTimeout);
        return true;
    }

    /// <summary>Called by <see cref="SessionTimers"/> when the due time set last has come.</summary>
    internal void OnTimerDue() => OnHeartbeatTimer();

    private void OnHeartbeatTimer()
    {
        bool timedOut = false;
        bool closing = false;
        bool pinged = false;
        WebSocketConnection? writer = null;
        lock (_gate)
        {
            if (_state == State.Closing)
            {
                closing = true;
            }
            else if (_state != State.Open)
            {
                return;
            }
            else if (Protocol < 4 || _awaitingPong)
            {
                timedOut = true;
            }
            else
            {
                _awaitingPong = true;
                pinged = true;
                EnqueueLocked(EngineIoPacket.PingPacket);
                // The pong is due by the deadline set with the interval (pingInterval + pingTimeout after the last
                // pong), however late this timer ran.
                _server.Timers.Set(this, Math.Max(_heartbeatDeadline, _server.Timers.Now));
                writer = ClaimWriterLocked();
            }
        }
        if (pinged)
        {
            ObservedConnection?.RaisePacketCreate(EngineIoPacket.PingPacket);
        }
        if (writer is not null)
        {
            RunWriter(writer);
        }
        if (closing)
        {
            Abort(_closeReason);
        }
        else if (timedOut)
        {
            Abort(CloseReason.PingTimeout);
        }
    }

    /// <summary>Handles one incoming packet from the client on the active transport, in a turn (see <see cref="EnterTurn"/>).</summary>
    internal void OnPacket(EngineIoPacket packet)
    {
        EnterTurn();
        try
        {
            HandlePacket(packet);
        }
        finally
        {
            ExitTurn();
        }
    }

    private void HandlePacket(EngineIoPacket packet)
    {
        if (CloseIfHeartbeatLate())
        {
            return;
        }
        lock (_gate)
        {
            if (_state != State.Open)
            {
                return;
            }
            if (Protocol < 4)
            {
                // v3: any packet is a sign of life.
                ArmHeartbeatLocked(_server.Options.PingInterval + _server.Options.PingTimeout);
            }
        }
        ObservedConnection?.RaisePacket(packet);
        switch (packet.Type)
        {
            case EngineIoPacketType.Message:
                _server.DispatchMessage(this, packet);
                break;
            case EngineIoPacketType.Ping when Protocol < 4:
                Send(EngineIoPacket.Create(EngineIoPacketType.Pong, packet.Text ?? ""));
                break;
            case EngineIoPacketType.Pong when Protocol >= 4:
                lock (_gate)
                {
                    if (_state == State.Open && _awaitingPong)
                    {
                        _awaitingPong = false;
                        ArmHeartbeatLocked(_server.Options.PingInterval);
                    }
                }
                break;
            case EngineIoPacketType.Ping:
            case EngineIoPacketType.Pong:
                // A heartbeat in the wrong direction for this protocol version.
                Abort(CloseReason.ParseError);
                break;
            case EngineIoPacketType.Close:
                Abort(CloseReason.TransportClose);
                break;
            case EngineIoPacketType.Noop:
                break;
            default:
                // open / upgrade outside an upgrade are not the client's to send.
                Abort(CloseReason.ParseError);
                break;
        }
    }
}
