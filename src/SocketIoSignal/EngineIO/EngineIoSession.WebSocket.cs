using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using SocketIoSignal.EngineIO.Protocol;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// The WebSocket transport and the upgrade from polling. ASP.NET sets no message size limit, so the receive loop
/// enforces MaxHttpBufferSize itself and closes with 1009 before buffering past it.
/// </summary>
internal sealed partial class EngineIoSession
{
    /// <summary>Frames one message may be split into; real clients send one.</summary>
    internal const int MaxFragmentsPerMessage = 1024;

    private const int InitialReceiveBuffer = 4096;

    /// <summary>Runs a WebSocket that carries the session from its handshake.</summary>
    internal async Task RunWebSocketAsync(AcceptedWebSocket accepted)
    {
        var ws = accepted.Socket;
        lock (_gate)
        {
            _webSocket = ws;
        }
        var reader = ReceiveLoopAsync(ws, accepted.Guard, probing: false);
        // Let Kestrel's sender take the 101 response before the open packet is written, so the two leave in
        // separate segments: a client that attaches its message listener once "open" fired (the published suites
        // do) must not get the open packet in the same read as the 101. The writer starts from a work item in the
        // thread pool's global queue, behind the sender's (queued when the 101 was flushed); Task.Yield would queue
        // to this thread's local queue, which runs first. A pause of 1 ms did the same at a tenth of the connect rate.
        // EngineIo:FirstFrameDelay makes it a pause, for clients that need the two in separate reads.
        if (_server.Options.FirstFrameDelay > TimeSpan.Zero)
        {
            await Task.Delay(_server.Options.FirstFrameDelay);
            StartWriter(ws);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Session.StartWriter(state.Socket), (Session: this, Socket: ws), preferLocal: false);
        }
        await _writerEnded.Task;
        await reader;
    }

    /// <summary>Runs a WebSocket that probes an upgrade of this polling session.</summary>
    internal async Task RunProbeAsync(AcceptedWebSocket accepted)
    {
        var ws = accepted.Socket;
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
        await ReceiveLoopAsync(ws, accepted.Guard, probing: true);
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
    internal async Task RejectProbeAsync(WebSocket ws)
    {
        await CloseQuietlyAsync(ws, WebSocketCloseStatus.NormalClosure, "");
        ws.Dispose();
    }

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
    /// Reads messages until the WebSocket ends. Between messages it holds no buffer: a read into an empty buffer
    /// waits for the next frame's header (ManagedWebSocket keeps the header in its own small buffer and consumes no
    /// payload), and only then is a buffer rented — an idle connection costs no receive buffer. When the next frame
    /// is already there (a busy connection) the buffer is kept for it.
    /// </summary>
    private async Task ReceiveLoopAsync(WebSocket ws, WebSocketFrameGuard guard, bool probing)
    {
        int max = _server.Options.MaxHttpBufferSize;
        byte[]? buffer = null;
        int count = 0;
        int fragments = 0;
        CloseReason reason = CloseReason.TransportClose;
        try
        {
            while (true)
            {
                ValueWebSocketReceiveResult result;
                if (count == 0 && fragments == 0)
                {
                    // Between messages: wait for a frame header without a buffer. The limit on fragments counts
                    // reads of payload, so this read is not one of them.
                    var next = ws.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                    if (!next.IsCompleted && buffer is not null)
                    {
                        ReturnReceiveBuffer(buffer);
                        buffer = null;
                    }
                    result = await next;
                    if (result.MessageType != WebSocketMessageType.Close && !result.EndOfMessage)
                    {
                        buffer ??= RentReceiveBuffer(InitialReceiveBuffer);
                        result = await ws.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, max + 1)), CancellationToken.None);
                    }
                    // else: a close, or an empty final frame, taken below as a read into the buffer would have been.
                }
                else
                {
                    buffer ??= RentReceiveBuffer(InitialReceiveBuffer);
                    if (count == buffer.Length)
                    {
                        var bigger = RentReceiveBuffer(Math.Min(buffer.Length * 2, max + 1));
                        buffer.AsSpan(0, count).CopyTo(bigger);
                        ReturnReceiveBuffer(buffer);
                        buffer = bigger;
                    }
                    result = await ws.ReceiveAsync(buffer.AsMemory(count, Math.Min(buffer.Length, max + 1) - count), CancellationToken.None);
                }
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Complete the close handshake the client started (its close frame may answer ours).
                    await CloseQuietlyAsync(ws, WebSocketCloseStatus.NormalClosure, "");
                    break;
                }
                count += result.Count;
                fragments++;
                if (count > max || fragments > MaxFragmentsPerMessage)
                {
                    reason = CloseReason.MessageTooBig;
                    await CloseQuietlyAsync(ws, WebSocketCloseStatus.MessageTooBig, "message too big");
                    await DiscardUntilCloseAsync(ws);
                    break;
                }
                if (!result.EndOfMessage)
                {
                    continue;
                }
                var message = buffer is null ? Memory<byte>.Empty : buffer.AsMemory(0, count);
                _server.Metrics.BytesIn(count);
                bool ok = probing
                    ? await OnProbeMessageAsync(ws, message, result.MessageType)
                    : OnWebSocketMessage(message.Span, result.MessageType);
                count = 0;
                fragments = 0;
                if (!ok)
                {
                    reason = CloseReason.ParseError;
                    break;
                }
                if (probing && _webSocket == ws)
                {
                    probing = false;
                }
                if (buffer is not null && buffer.Length > InitialReceiveBuffer * 4)
                {
                    ReturnReceiveBuffer(buffer);
                    buffer = null;
                }
            }
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode is WebSocketError.InvalidMessageType or WebSocketError.Faulted or WebSocketError.HeaderError)
        {
            reason = CloseReason.ParseError;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            reason = CloseReason.TransportClose;
        }
        finally
        {
            if (buffer is not null)
            {
                ReturnReceiveBuffer(buffer);
            }
        }
        if (guard.Failure is { } failure)
        {
            // The guard has sent the close frame and finished the close handshake: the WebSocket's read failed
            // after that, and the connection now ends with a FIN.
            reason = failure == WebSocketCloseStatus.MessageTooBig ? CloseReason.MessageTooBig : CloseReason.ParseError;
            _server.OnProtocolError(this, "websocket: " + guard.FailureReason);
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
    }

    private byte[] RentReceiveBuffer(int size)
    {
        _server.Metrics.ReceiveBufferRented();
        return ArrayPool<byte>.Shared.Rent(size);
    }

    private void ReturnReceiveBuffer(byte[] buffer)
    {
        _server.Metrics.ReceiveBufferReturned();
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private bool OnWebSocketMessage(ReadOnlySpan<byte> message, WebSocketMessageType type)
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

    private DecodeError TryDecodeFrame(ReadOnlySpan<byte> message, WebSocketMessageType type, out EngineIoPacket? packet)
    {
        packet = null;
        if (type == WebSocketMessageType.Binary)
        {
            if (Protocol < 4)
            {
                return PacketCodec.TryDecodeV3BinaryFrame(message, out packet);
            }
            packet = EngineIoPacket.CreateBinary(message.ToArray());
            return DecodeError.None;
        }
        return PacketCodec.TryDecodeTextFrame(message, Protocol, out packet);
    }

    /// <summary>The probe: <c>2probe</c> is answered <c>3probe</c>, then <c>5</c> switches the session over.</summary>
    private async ValueTask<bool> OnProbeMessageAsync(WebSocket ws, ReadOnlyMemory<byte> message, WebSocketMessageType type)
    {
        var error = TryDecodeFrame(message.Span, type, out var packet);
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
            await ws.SendAsync(EngineIoPacket.Create(EngineIoPacketType.Pong, "probe").TextFrame(), WebSocketMessageType.Text, true, CancellationToken.None);
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
    private void StartWriter(WebSocket ws)
    {
        WebSocket? claimed;
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
            _ = WriteAsync(claimed);
        }
    }

    /// <summary>
    /// Called under the lock once something is queued: when the WebSocket writer is idle, the caller becomes it
    /// (and must call <see cref="WriteAsync"/> after leaving the lock). Writing on the thread that queued saves a
    /// hop through the thread pool per packet; a write that cannot complete at once continues asynchronously.
    /// </summary>
    private WebSocket? ClaimWriterLocked()
    {
        if (_writing || _writerSocket is null || _outbox.Count == 0)
        {
            return null;
        }
        _writing = true;
        return _writerSocket;
    }

    /// <summary>
    /// Drains the outbox into the WebSocket until it is empty; after the close packet, closes the WebSocket
    /// (bounded wait for the client's close frame) and ends the session.
    /// </summary>
    private async Task WriteAsync(WebSocket ws)
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
                foreach (var packet in _writeBatch)
                {
                    if (packet.IsBinary)
                    {
                        await ws.SendAsync(packet.BinaryFrame(Protocol), WebSocketMessageType.Binary, true, CancellationToken.None);
                    }
                    else
                    {
                        await ws.SendAsync(packet.TextFrame(), WebSocketMessageType.Text, true, CancellationToken.None);
                    }
                }
                _writeBatch.Clear();
                ObservedConnection?.RaiseDrain();
                if (closing)
                {
                    await CloseQuietlyAsync(ws, WebSocketCloseStatus.NormalClosure, "");
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
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
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

    private async Task CloseQuietlyAsync(WebSocket ws, WebSocketCloseStatus status, string description)
    {
        try
        {
            // Wall clock: an I/O guard, not a protocol timer; a fake TimeProvider must not leave it waiting forever.
            using var cts = new CancellationTokenSource(_server.Options.CloseTimeout);
            await ws.CloseOutputAsync(status, description, cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer is gone already; nothing more to say to it.
        }
    }

    /// <summary>
    /// After our close frame: reads (into a small scratch buffer, nothing kept) until the client's close frame,
    /// so the close status reaches it before the connection is cut. Bounded by CloseTimeout.
    /// </summary>
    private async Task DiscardUntilCloseAsync(WebSocket ws)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(InitialReceiveBuffer);
        try
        {
            using var cts = new CancellationTokenSource(_server.Options.CloseTimeout);
            while (ws.State == WebSocketState.CloseSent)
            {
                var result = await ws.ReceiveAsync(scratch.AsMemory(), cts.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Gone or too slow; it is cut off by the caller.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
