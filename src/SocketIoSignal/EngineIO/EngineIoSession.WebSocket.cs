using System.Net.WebSockets;
using SocketIoSignal.EngineIO.Protocol;
using SocketIoSignal.EngineIO.WebSockets;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// The WebSocket transport and the upgrade from polling, over a <see cref="WebSocketConnection"/> (our own RFC 6455
/// framing on the upgraded connection). The decoder refuses a message over MaxHttpBufferSize at the frame header that
/// would go past it, with 1009, before buffering it.
/// </summary>
internal sealed partial class EngineIoSession
{
    /// <summary>Frames one message may be split into; real clients send one.</summary>
    internal const int MaxFragmentsPerMessage = WebSocketFrameDecoder.MaxFragmentsPerMessage;

    /// <summary>
    /// Runs a WebSocket that carries the session from its handshake, until it ends; the WebSocket is finished (its
    /// count, its buffers) in any case. Not async itself: the receive loop is the one frame an idle connection keeps.
    /// </summary>
    internal Task RunWebSocketAsync(WebSocketConnection ws)
    {
        lock (_gate)
        {
            _webSocket = ws;
        }
        var running = ReceiveLoopAsync(ws, probing: false, finish: true);
        // Let Kestrel's sender take the 101 response before the open packet is written, so the two leave in
        // separate segments: a client that attaches its message listener once "open" fired (the published suites
        // do) must not get the open packet in the same read as the 101. The writer starts from a work item in the
        // thread pool's global queue, behind the sender's (queued when the 101 was flushed); Task.Yield would queue
        // to this thread's local queue, which runs first. A pause of 1 ms did the same at a tenth of the connect rate.
        // EngineIo:FirstFrameDelay makes it a pause, for clients that need the two in separate reads.
        if (_server.Options.FirstFrameDelay > TimeSpan.Zero)
        {
            _ = StartWriterLaterAsync(ws, _server.Options.FirstFrameDelay);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Session.StartWriter(state.Socket), (Session: this, Socket: ws), preferLocal: false);
        }
        return running;
    }

    private async Task StartWriterLaterAsync(WebSocketConnection ws, TimeSpan delay)
    {
        await Task.Delay(delay);
        StartWriter(ws);
    }

    /// <summary>Runs a WebSocket that probes an upgrade of this polling session.</summary>
    internal async Task RunProbeAsync(WebSocketConnection ws)
    {
        bool reject = false;
        lock (_gate)
        {
            if (_state != State.Open || Transport != TransportKind.Polling || _probe is not null)
            {
                reject = true;
            }
            else
            {
                _probe = ws;
                _upgradeTimer = _server.Metrics.Timers.Create(_server.Time,
                    static s => ((EngineIoSession)s!).OnUpgradeTimeout(), this, _server.Options.UpgradeTimeout, Timeout.InfiniteTimeSpan);
            }
        }
        if (reject)
        {
            // A second probe, or a WebSocket for a session already upgraded or closing: closed, the session untouched.
            await RejectProbeAsync(ws);
            return;
        }
        await ReceiveLoopAsync(ws, probing: true);
        bool upgraded;
        lock (_gate)
        {
            upgraded = _writerSocket == ws;
        }
        if (upgraded)
        {
            await _writerEnded.Task;
        }
    }

    /// <summary>Whether the session's WebSocket agreed permessage-deflate with its client (for tests and diagnostics).</summary>
    internal bool WebSocketCompressed
    {
        get
        {
            lock (_gate)
            {
                return _webSocket?.Deflate is not null;
            }
        }
    }

    /// <summary>Whether a WebSocket is probing an upgrade of this session (for tests and diagnostics).</summary>
    internal bool HasProbe
    {
        get
        {
            lock (_gate)
            {
                return _probe is not null;
            }
        }
    }

    /// <summary>Closes a WebSocket that may not join this session, with a close frame rather than a reset.</summary>
    internal static async Task RejectProbeAsync(WebSocketConnection ws) => await ws.SendCloseAsync(1000, "");

    private void OnUpgradeTimeout()
    {
        lock (_gate)
        {
            AbortProbeLocked();
        }
    }

    private void AbortProbeLocked()
    {
        _upgradeTimer?.Dispose();
        _upgradeTimer = null;
        _upgrading = false;
        _probe?.Abort();
        _probe = null;
    }

    /// <summary>
    /// Reads messages until the WebSocket ends. Between messages it holds no buffer (the connection waits on
    /// Kestrel's input with nothing of its own); the decoder answers pings and protocol violations itself.
    /// </summary>
    /// <param name="ws">The WebSocket.</param>
    /// <param name="probing">Whether it probes an upgrade (until the upgrade completes).</param>
    /// <param name="finish">The session's own WebSocket: once reading ends, wait for the writer's end and finish it.</param>
    private async Task ReceiveLoopAsync(WebSocketConnection ws, bool probing, bool finish = false)
    {
        // Messages already read together each have their own turn, but what they send is written once per socket
        // after the last of them, not once per message.
        int batched = 0;
        try
        {
            CloseReason reason;
            while (true)
            {
                var pending = ws.ReceiveAsync(writesHeld: batched > 0);
                if (batched > 0 && (!pending.IsCompleted || batched >= MaxMessagesPerTurn))
                {
                    // The next message has not come yet: the writes go on the thread that held them, before the wait.
                    EndBatch(ref batched);
                }
                var received = await pending;
                if (received.Kind == ReceivedKind.WritesFirst)
                {
                    EndBatch(ref batched);
                    continue;
                }
                if (received.Kind is ReceivedKind.Text or ReceivedKind.Binary)
                {
                    var message = received.Data!;
                    _server.Metrics.BytesIn(message.Length);
                    var type = received.Kind == ReceivedKind.Text ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
                    bool ok;
                    if (probing)
                    {
                        ok = await OnProbeMessageAsync(ws, message, type);
                    }
                    else
                    {
                        if (batched++ == 0)
                        {
                            HoldWrites();
                        }
                        ok = OnWebSocketMessage(message, type);
                    }
                    if (!ok)
                    {
                        EndBatch(ref batched);
                        reason = CloseReason.ParseError;
                        break;
                    }
                    if (probing && _webSocket == ws)
                    {
                        probing = false;
                    }
                    continue;
                }
                if (received.Kind == ReceivedKind.Failed)
                {
                    // The close frame has told the client why, and the close handshake is over: the connection now
                    // ends with a FIN.
                    reason = ws.FailureCode == WebSocketFrameDecoder.TooBig ? CloseReason.MessageTooBig : CloseReason.ParseError;
                    _server.OnProtocolError(this, "websocket: " + ws.FailureReason);
                }
                else
                {
                    reason = CloseReason.TransportClose;
                }
                EndBatch(ref batched);
                break;
            }
            if (!probing)
            {
                _receiveEnded.TrySetResult();
            }
            if (probing)
            {
                lock (_gate)
                {
                    if (_probe == ws)
                    {
                        AbortProbeLocked();
                    }
                }
                ws.Abort();
                return;
            }
            Abort(reason);
            if (finish)
            {
                await _writerEnded.Task;
            }
        }
        finally
        {
            // Only an exception leaves writes held here, on the thread that held them (no await came since).
            EndBatch(ref batched);
            if (finish)
            {
                ws.Finish();
            }
        }
    }

    /// <summary>Most messages read together whose writes wait for the last of them.</summary>
    internal const int MaxMessagesPerTurn = 32;

    /// <summary>Writes what the messages read together sent, under the dispatch lock their handling took.</summary>
    private void EndBatch(ref int batched)
    {
        if (batched == 0)
        {
            return;
        }
        batched = 0;
        lock (_dispatch)
        {
            ReleaseWrites();
        }
    }

    private bool OnWebSocketMessage(byte[] message, WebSocketMessageType type)
    {
        var error = TryDecodeFrame(message, type, out var packet);
        if (error != DecodeError.None)
        {
            _server.OnProtocolError(this, error.ToString());
            return false;
        }
        lock (_dispatch)
        {
            OnPacket(packet!);
        }
        return true;
    }

    /// <summary>Decodes a whole WebSocket message; the array becomes the packet's own (it is the receiver's).</summary>
    private DecodeError TryDecodeFrame(byte[] message, WebSocketMessageType type, out EngineIoPacket? packet)
    {
        packet = null;
        if (type == WebSocketMessageType.Binary)
        {
            if (Protocol < 4)
            {
                return PacketCodec.TryDecodeV3BinaryFrame(message, out packet);
            }
            packet = EngineIoPacket.CreateBinary(message);
            return DecodeError.None;
        }
        return PacketCodec.TryDecodeTextFrame(message, Protocol, out packet);
    }

    /// <summary>The probe: <c>2probe</c> is answered <c>3probe</c>, then <c>5</c> switches the session over.</summary>
    private async ValueTask<bool> OnProbeMessageAsync(WebSocketConnection ws, byte[] message, WebSocketMessageType type)
    {
        var error = TryDecodeFrame(message, type, out var packet);
        if (error != DecodeError.None)
        {
            return false;
        }
        if (packet!.Type == EngineIoPacketType.Ping && packet.Text == "probe")
        {
            lock (_gate)
            {
                if (_probe != ws || _state != State.Open)
                {
                    return false;
                }
            }
            try
            {
                await ws.SendAsync([EngineIoPacket.Create(EngineIoPacketType.Pong, "probe")]);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                return false;
            }
            lock (_gate)
            {
                if (_probe != ws)
                {
                    return false;
                }
                _upgrading = true;
                // A waiting poll gets a noop so the client can pause polling — after UpgradePollGrace, unless the
                // upgrade completes first (then 400, as for any GET after it).
                if (_pendingPoll is { } poll)
                {
                    ReleasePollLater(poll);
                }
            }
            ObservedConnection?.RaiseUpgrading("websocket");
            return true;
        }
        if (packet.Type == EngineIoPacketType.Upgrade)
        {
            lock (_gate)
            {
                if (_probe != ws || !_upgrading || _state == State.Closed)
                {
                    return false;
                }
                _upgradeTimer?.Dispose();
                _upgradeTimer = null;
                _probe = null;
                _upgrading = false;
                Transport = TransportKind.WebSocket;
                _webSocket = ws;
                _pendingPoll?.TrySetResult();
            }
            _server.OnUpgraded(this);
            StartWriter(ws);
            return true;
        }
        return false;
    }

    /// <summary>
    /// How long a GET waits, once the probe is answered, before it gets its noop. The client sends <c>5</c> as soon
    /// as its poll has ended, but a client may also send <c>5</c> and at once a GET on another connection (the
    /// published suite does): whichever of the two is processed first, the GET is then answered 400 if the upgrade
    /// completes within this time. The reference answers a waiting poll during an upgrade every 100 ms, too.
    /// </summary>
    internal static readonly TimeSpan UpgradePollGrace = TimeSpan.FromMilliseconds(100);

    /// <summary>Answers <paramref name="poll"/> (with a noop, if nothing else came) after <see cref="UpgradePollGrace"/>.</summary>
    private static void ReleasePollLater(TaskCompletionSource poll) =>
        // Wall clock: an ordering grace between two connections, not a protocol timer.
        _ = Task.Delay(UpgradePollGrace).ContinueWith(static (_, p) => ((TaskCompletionSource)p!).TrySetResult(), poll, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Lets the writer write to <paramref name="ws"/> from now on, and writes what is queued already.</summary>
    private void StartWriter(WebSocketConnection ws)
    {
        WebSocketConnection? claimed;
        lock (_gate)
        {
            _writerSocket = ws;
            if (_state == State.Closed && !_writing)
            {
                _writerEnded.TrySetResult();
                return;
            }
            claimed = ClaimWriterLocked();
        }
        if (claimed is not null)
        {
            RunWriter(claimed);
        }
    }

    /// <summary>
    /// Called under the lock once something is queued: when the WebSocket writer is idle, the caller becomes it
    /// (and must call <see cref="WriteAsync"/> after leaving the lock). Writing on the thread that queued saves a
    /// hop through the thread pool per packet; a write that cannot complete at once continues asynchronously.
    /// </summary>
    private WebSocketConnection? ClaimWriterLocked()
    {
        if (_writing || _writerSocket is null || _outbox.Count == 0)
        {
            return null;
        }
        _writing = true;
        return _writerSocket;
    }

    // ---- turns ----
    // Node's transport is unwritable from a send until the write's callback, which runs after the code that sent (a
    // later tick): a volatile packet emitted right after another, in the same handler, is dropped. Here the handlers
    // an incoming packet runs make a turn on their thread; a WebSocket writer claimed during it (the transport
    // unwritable from then on) starts writing when the turn ends, and is released when that write has completed.
    // A writer claimed outside a turn (another thread: a timer, an application thread) writes at once and is
    // released on a later thread-pool turn, never before the sender's next statement.

    [ThreadStatic]
    private static int t_turnDepth;

    [ThreadStatic]
    private static List<(EngineIoSession Session, WebSocketConnection Socket)>? t_deferredWriters;

    // Writes held on this thread past the end of the turns (messages read together): see HoldWrites.
    [ThreadStatic]
    private static int t_writesHeld;

    /// <summary>
    /// Holds the writes of the turns that follow on this thread until <see cref="ReleaseWrites"/>: a socket's
    /// frames from several messages read together go in one write.
    /// </summary>
    private static void HoldWrites() => t_writesHeld++;

    /// <summary>Ends a <see cref="HoldWrites"/>: outside a turn, the writers claimed meanwhile write now.</summary>
    private static void ReleaseWrites()
    {
        if (--t_writesHeld == 0 && t_turnDepth == 0)
        {
            RunDeferredWriters();
        }
    }

    /// <summary>Begins a turn on this thread (turns nest; the outermost one's end writes).</summary>
    internal static void EnterTurn() => t_turnDepth++;

    [ThreadStatic]
    private static List<EndOfTurnEntry>? t_deferredActions;

    // The list the last turn ran, kept empty for the next one: deferring an event allocates nothing.
    [ThreadStatic]
    private static List<EndOfTurnEntry>? t_spareActions;

    /// <summary>Something deferred to the end of a turn, with its two arguments (no closure per deferral).</summary>
    internal interface IEndOfTurn
    {
        /// <summary>Runs what was deferred with <paramref name="first"/> and <paramref name="second"/>.</summary>
        void RunAtEndOfTurn(object? first, object? second);
    }

    private readonly record struct EndOfTurnEntry(IEndOfTurn Target, object? First, object? Second);

    /// <summary>Calls an <see cref="Action"/> deferred by <see cref="AtEndOfTurn(Action)"/>.</summary>
    private sealed class ActionRunner : IEndOfTurn
    {
        public static readonly ActionRunner Instance = new();

        public void RunAtEndOfTurn(object? first, object? second) => ((Action)first!)();
    }

    /// <summary>
    /// Runs <paramref name="action"/> when the current turn ends (still inside it, before its writes), or now
    /// outside a turn: Node runs an event's handlers a tick after the packets read with it, so a disconnect read in
    /// the same polling payload comes first.
    /// </summary>
    internal static void AtEndOfTurn(Action action) => AtEndOfTurn(ActionRunner.Instance, action, null);

    /// <summary>
    /// As <see cref="AtEndOfTurn(Action)"/>: <paramref name="target"/> runs with <paramref name="first"/> and
    /// <paramref name="second"/>, in the order deferred, without allocating.
    /// </summary>
    internal static void AtEndOfTurn(IEndOfTurn target, object? first, object? second)
    {
        if (t_turnDepth == 0)
        {
            target.RunAtEndOfTurn(first, second);
            return;
        }
        var actions = t_deferredActions;
        if (actions is null)
        {
            actions = t_spareActions ?? [];
            t_spareActions = null;
            t_deferredActions = actions;
        }
        actions.Add(new EndOfTurnEntry(target, first, second));
    }

    /// <summary>Ends a turn: at the outermost, the actions deferred to it run, then the writers claimed during it write what was queued.</summary>
    internal static void ExitTurn()
    {
        if (t_turnDepth == 1)
        {
            // Still inside the turn: what the actions send is written with the rest at its end.
            while (t_deferredActions is { Count: > 0 } actions)
            {
                // What the actions defer goes to a new list, run in the next round.
                t_deferredActions = null;
                for (int i = 0; i < actions.Count; i++)
                {
                    var entry = actions[i];
                    entry.Target.RunAtEndOfTurn(entry.First, entry.Second);
                }
                // Cleared so the list holds no event or socket alive until the next turn; a big one (a huge
                // polling payload) is not kept.
                actions.Clear();
                if (actions.Capacity <= 64)
                {
                    t_spareActions = actions;
                }
            }
        }
        if (--t_turnDepth == 0 && t_writesHeld == 0)
        {
            RunDeferredWriters();
        }
    }

    private static void RunDeferredWriters()
    {
        if (t_deferredWriters is not { Count: > 0 } writers)
        {
            return;
        }
        t_deferredWriters = null;
        foreach (var (session, socket) in writers)
        {
            _ = session.WriteAsync(socket, endOfTurn: true);
        }
        writers.Clear();
        t_deferredWriters ??= writers;
    }

    /// <summary>Runs the writer just claimed: at the end of the current turn, or now.</summary>
    private void RunWriter(WebSocketConnection ws)
    {
        if (t_turnDepth > 0 || t_writesHeld > 0)
        {
            (t_deferredWriters ??= []).Add((this, ws));
            return;
        }
        _ = WriteAsync(ws, endOfTurn: false);
    }

    /// <summary>
    /// Drains the outbox into the WebSocket until it is empty; after the close packet, closes the WebSocket
    /// (bounded wait for the client's close frame) and ends the session. <paramref name="endOfTurn"/>: started
    /// as a turn ended, so the sender's code is over and a write that completes at once releases the writer at once.
    /// </summary>
    private async Task WriteAsync(WebSocketConnection ws, bool endOfTurn)
    {
        try
        {
            while (true)
            {
                bool closing;
                lock (_gate)
                {
                    if (_state == State.Closed)
                    {
                        _writing = false;
                        _writerEnded.TrySetResult();
                        return;
                    }
                    if (_outbox.Count == 0)
                    {
                        _writing = false;
                        return;
                    }
                    closing = _state == State.Closing;
                    _outbox.Drain(_writeBatch);
                }
                // Every frame of the batch into the output, then one flush: one send for all of them.
                var send = ws.SendAsync(_writeBatch);
                if (send.IsCompletedSuccessfully)
                {
                    send.GetAwaiter().GetResult();
                    if (!endOfTurn)
                    {
                        // Written at once, on the thread that queued, outside a turn: the writer (and so the
                        // transport's unwritable state) is released on a later thread-pool turn.
                        endOfTurn = true;
                        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
                    }
                }
                else
                {
                    await send;
                }
                _writeBatch.Clear();
                ObservedConnection?.RaiseDrain();
                if (closing)
                {
                    await ws.SendCloseAsync(1000, "");
                    // Let the receive loop take the client's close frame before the connection is cut, bounded.
                    try
                    {
                        await _receiveEnded.Task.WaitAsync(_server.Options.CloseTimeout);
                    }
                    catch (TimeoutException)
                    {
                        // The client does not answer; it is cut off below.
                    }
                    Abort(_closeReason);
                    EndWriter();
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            _writeBatch.Clear();
            Abort(CloseReason.TransportError);
            EndWriter();
        }
    }

    private void EndWriter()
    {
        lock (_gate)
        {
            _writing = false;
        }
        _writerEnded.TrySetResult();
    }
}
