using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using SocketIoSignal.EngineIO.Protocol;

namespace SocketIoSignal.EngineIO.WebSockets;

/// <summary>What <see cref="WebSocketConnection.ReceiveAsync"/> returns.</summary>
internal enum ReceivedKind
{
    /// <summary>A text message (valid UTF-8).</summary>
    Text,

    /// <summary>A binary message.</summary>
    Binary,

    /// <summary>The client closed; our close frame has answered it.</summary>
    Closed,

    /// <summary>The client broke RFC 6455 (or the size limit): our close frame named it, the close handshake is over.</summary>
    Failed,

    /// <summary>
    /// A ping, a close or a violation comes next, and the caller holds the writes of messages read before it: it
    /// writes them first, then reads again (what came is handled then).
    /// </summary>
    WritesFirst,

    /// <summary>The connection ended without a close handshake (or was aborted).</summary>
    Ended,
}

/// <summary>One message (or the end) from <see cref="WebSocketConnection.ReceiveAsync"/>.</summary>
internal readonly record struct Received(ReceivedKind Kind, byte[]? Data);

/// <summary>
/// A server WebSocket (RFC 6455, optionally RFC 7692) run straight on the upgraded connection's pipes: frames are
/// read from Kestrel's input buffers by a strict <see cref="WebSocketFrameDecoder"/> and written into its output
/// buffers, all the frames of a batch before one flush (one send for the batch). Between messages nothing is held:
/// no receive buffer, no send buffer. One reader (the session's receive loop) and one data writer (the session's
/// writer) at a time; control frames the reader answers share the writer's lock.
/// </summary>
internal sealed class WebSocketConnection
{
    private const int Opcode_Text = 1;
    private const int Opcode_Binary = 2;
    private const int Opcode_Close = 8;
    private const int Opcode_Pong = 10;

    private readonly Stream? _stream;
    private readonly PipeReader _input;

    /// <summary>Kestrel's output pipe of the connection, when the WebSocket runs on the transport itself.</summary>
    private readonly PipeWriter? _pipe;

    /// <summary>Where frames are written: straight into <see cref="_pipe"/>, else a batch buffer for one stream write.</summary>
    private readonly IBufferWriter<byte> _output;
    private readonly FrameBuffer? _batch;
    private readonly WebSocketFrameDecoder _decoder;
    private readonly PerMessageDeflate? _deflate;
    private readonly int _protocol;
    private readonly TimeSpan _closeTimeout;
    private readonly Action _abortConnection;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    private bool _closeSent;
    private bool _closeHandshakeOver;

    // A control frame or violation read while the caller held its writes: handled at the next read.
    private FrameEvent? _held;
    private int _aborted;
    private int _finished;
    private readonly EngineIoMetrics? _metrics;

    public WebSocketConnection(Stream stream, int protocol, int maxMessage, PerMessageDeflate? deflate,
        TimeSpan closeTimeout, EngineIoMetrics? metrics, Action abortConnection)
    {
        if (stream is UpgradedTransport transport)
        {
            // Frames are read from and written into Kestrel's own connection pipes: no copy either way, no stream
            // layers, and nothing held while idle (the transport waits for data before it takes a buffer).
            _input = transport.Input;
            _pipe = transport.Output;
            _output = transport.Output;
        }
        else
        {
            _stream = stream;
            // Zero-byte reads: an idle connection waits on Kestrel's input without a buffer of its own.
            _input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true));
            _batch = new FrameBuffer();
            _output = _batch;
        }
        _protocol = protocol;
        _deflate = deflate;
        _closeTimeout = closeTimeout;
        _abortConnection = abortConnection;
        _decoder = new WebSocketFrameDecoder(maxMessage, deflate, metrics);
        _metrics = metrics;
        metrics?.WebSocketAccepted();
    }

    /// <summary>After <see cref="ReceivedKind.Failed"/>: the close code sent (1002, 1007 or 1009).</summary>
    public int FailureCode => _decoder.FailureCode;

    /// <summary>After <see cref="ReceivedKind.Failed"/>: the reason sent.</summary>
    public string FailureReason => _decoder.FailureReason;

    /// <summary>The permessage-deflate agreed with the client, or null.</summary>
    public PerMessageDeflate? Deflate => _deflate;

    /// <summary>
    /// The next data message, or how the connection ended. Pings are answered and pongs ignored on the way; a
    /// violation is answered with the RFC's close frame, then frames are discarded until the client's close frame
    /// (bounded by the close timeout).
    /// </summary>
    public async ValueTask<Received> ReceiveAsync(bool writesHeld = false)
    {
        try
        {
            if (_held is { } held)
            {
                _held = null;
                if (await OnControlAsync(held) is { } ended)
                {
                    return ended;
                }
            }
            while (true)
            {
                var result = await _input.ReadAsync();
                var buffer = result.Buffer;
                while (true)
                {
                    var ev = _decoder.Decode(ref buffer);
                    switch (ev)
                    {
                        case FrameEvent.NeedMore:
                            break;
                        case FrameEvent.Message:
                            _input.AdvanceTo(buffer.Start);
                            return new Received(_decoder.MessageIsText ? ReceivedKind.Text : ReceivedKind.Binary, _decoder.TakeMessage());
                        case FrameEvent.Pong:
                            continue;
                        default:
                            _input.AdvanceTo(buffer.Start);
                            if (writesHeld)
                            {
                                // What the messages before it sent goes first (a reply before a close frame).
                                _held = ev;
                                return new Received(ReceivedKind.WritesFirst, null);
                            }
                            if (await OnControlAsync(ev) is { } ended)
                            {
                                return ended;
                            }
                            goto nextRead;
                    }
                    break;
                }
                if (result.IsCompleted || result.IsCanceled)
                {
                    _input.AdvanceTo(buffer.End);
                    return new Received(ReceivedKind.Ended, null);
                }
                _input.AdvanceTo(buffer.Start, buffer.End);
            nextRead:;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            return new Received(ReceivedKind.Ended, null);
        }
        finally
        {
            // A fragmented message may go on after the control frame held back: its buffer stays.
            if (_held is null && _decoder.HoldsBuffer)
            {
                _decoder.Release();
            }
        }
    }

    /// <summary>A ping is answered (null: read on); a close or a violation ends the connection's reading.</summary>
    private async ValueTask<Received?> OnControlAsync(FrameEvent ev)
    {
        switch (ev)
        {
            case FrameEvent.Ping:
                await SendControlAsync(Opcode_Pong, _decoder.ControlPayload);
                return null;
            case FrameEvent.Close:
                if (_decoder.HasFailed)
                {
                    _closeHandshakeOver = true;
                    return new Received(ReceivedKind.Failed, null);
                }
                // Answer with the client's code (none when it sent none), unless ours went first.
                int code = _decoder.CloseCode;
                await SendCloseAsync(code == 1005 ? 0 : code, "");
                _closeHandshakeOver = true;
                return new Received(ReceivedKind.Closed, null);
            default:
                return await FailAsync();
        }
    }

    /// <summary>Sends the close frame of the violation, then reads until the client's close frame, the end or the timeout.</summary>
    private async ValueTask<Received> FailAsync()
    {
        await SendCloseAsync(_decoder.FailureCode, _decoder.FailureReason);
        if (!_decoder.ClientClosed)
        {
            using var cts = new CancellationTokenSource(_closeTimeout);
            try
            {
                while (true)
                {
                    var result = await _input.ReadAsync(cts.Token);
                    var buffer = result.Buffer;
                    var ev = _decoder.Decode(ref buffer);
                    if (ev == FrameEvent.Close)
                    {
                        _input.AdvanceTo(buffer.Start);
                        break;
                    }
                    _input.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                // Gone, or no close frame in time: the connection ends now.
            }
        }
        // Either way the connection now ends with a FIN: the close frame told the client why.
        _closeHandshakeOver = true;
        return new Received(ReceivedKind.Failed, null);
    }

    /// <summary>
    /// Writes the packets' frames into the output and flushes once. Packets flagged not to be compressed, or under
    /// the threshold, go as they are. Nothing is written once our close frame has gone.
    /// </summary>
    public async ValueTask SendAsync(List<EngineIoPacket> packets)
    {
        if (!_sendLock.Wait(0))
        {
            await _sendLock.WaitAsync();
        }
        try
        {
            if (_closeSent)
            {
                return;
            }
            for (int i = 0; i < packets.Count; i++)
            {
                WritePacket(packets[i]);
            }
            _metrics?.WebSocketWrite();
            await FlushAsync(CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Writes text messages as they are (no Engine.IO framing, never compressed) and flushes once: for transports
    /// that speak their own protocol over the WebSocket.
    /// </summary>
    public async ValueTask SendTextsAsync(List<ReadOnlyMemory<byte>> messages)
    {
        if (!_sendLock.Wait(0))
        {
            await _sendLock.WaitAsync();
        }
        try
        {
            if (_closeSent)
            {
                return;
            }
            for (int i = 0; i < messages.Count; i++)
            {
                WriteFrame(Opcode_Text, messages[i].Span, rsv1: false);
            }
            await FlushAsync(CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void WritePacket(EngineIoPacket packet)
    {
        ReadOnlySpan<byte> payload;
        int opcode;
        if (packet.IsBinary)
        {
            payload = packet.BinaryFrame(_protocol).Span;
            opcode = Opcode_Binary;
        }
        else
        {
            payload = packet.TextFrame().Span;
            opcode = Opcode_Text;
        }
        if (_deflate is { } deflate && packet.Compress && payload.Length >= deflate.Threshold)
        {
            var compressed = deflate.Parameters.ServerNoContextTakeover && !packet.IsBinary
                ? packet.Deflated(deflate.Parameters.ServerMaxWindowBits, deflate.CompressFunc)
                : deflate.Compress(payload);
            if (compressed is not null)
            {
                WriteFrame(opcode, compressed, rsv1: true);
                return;
            }
        }
        WriteFrame(opcode, payload, rsv1: false);
    }

    /// <summary>
    /// Writes what the frame buffer holds to the connection in one write (Kestrel copies it into its output and
    /// flushes: one send), and gives the buffer back.
    /// </summary>
    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_pipe is not null)
        {
            var flush = _pipe.FlushAsync(cancellationToken);
            var result = flush.IsCompletedSuccessfully ? flush.Result : await flush;
            if (result.IsCompleted || result.IsCanceled)
            {
                // The connection's sender has stopped: the peer is gone.
                throw new IOException("the connection is closed");
            }
            return;
        }
        try
        {
            var write = _stream!.WriteAsync(_batch!.Written, cancellationToken);
            if (!write.IsCompletedSuccessfully)
            {
                await write;
            }
        }
        finally
        {
            _batch!.Reset();
        }
    }

    /// <summary>
    /// One unmasked, final frame, header and payload, into the output. The payload is copied piecewise, so Kestrel's
    /// blocks are filled before a new one is taken (a frame never asks for one contiguous span of its size).
    /// </summary>
    private void WriteFrame(int opcode, ReadOnlySpan<byte> payload, bool rsv1)
    {
        int length = payload.Length;
        int headerLength = length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;
        var span = _output.GetSpan(headerLength);
        span[0] = (byte)(0x80 | (rsv1 ? 0x40 : 0) | opcode);
        if (length < 126)
        {
            span[1] = (byte)length;
        }
        else if (length <= ushort.MaxValue)
        {
            span[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)length);
        }
        else
        {
            span[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(span[2..], (ulong)length);
        }
        _output.Advance(headerLength);
        _output.Write(payload);
    }

    private async ValueTask SendControlAsync(int opcode, byte[] payload)
    {
        using var cts = new CancellationTokenSource(_closeTimeout);
        await _sendLock.WaitAsync(cts.Token);
        try
        {
            if (_closeSent)
            {
                return;
            }
            WriteFrame(opcode, payload, rsv1: false);
            await FlushAsync(cts.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Sends our close frame (once; <paramref name="code"/> 0: without a code), bounded by the close timeout.
    /// Nothing is sent after it.
    /// </summary>
    public async ValueTask SendCloseAsync(int code, string reason)
    {
        try
        {
            using var cts = new CancellationTokenSource(_closeTimeout);
            await _sendLock.WaitAsync(cts.Token);
            try
            {
                if (_closeSent)
                {
                    return;
                }
                _closeSent = true;
                byte[] payload;
                if (code == 0)
                {
                    payload = [];
                }
                else
                {
                    var text = Encoding.UTF8.GetBytes(reason);
                    payload = new byte[2 + Math.Min(text.Length, 123)];
                    BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
                    text.AsSpan(0, payload.Length - 2).CopyTo(payload.AsSpan(2));
                }
                WriteFrame(Opcode_Close, payload, rsv1: false);
                await FlushAsync(cts.Token);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer is gone, or does not read: nothing more to say to it.
        }
    }

    /// <summary>Whether our close frame went and the client's came (or the violation's close handshake is over).</summary>
    public bool CloseHandshakeOver => _closeHandshakeOver;

    /// <summary>
    /// Ends the connection now. After a close handshake it ends with a FIN when the request returns; otherwise it is
    /// cut off (a timeout, a client that does not read, a session that ended).
    /// </summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0 || Volatile.Read(ref _finished) != 0)
        {
            return;
        }
        if (!_closeHandshakeOver)
        {
            _abortConnection();
        }
        try
        {
            _input.CancelPendingRead();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            // The request is over already.
        }
    }

    /// <summary>The request that carried the connection has returned: nothing may touch it any more.</summary>
    public void Finish()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }
        _metrics?.WebSocketFinished();
        _deflate?.Dispose();
    }
}

/// <summary>The frames of one batch, in one buffer rented for the batch and given back after its write.</summary>
internal sealed class FrameBuffer : IBufferWriter<byte>
{
    private byte[]? _buffer;
    private int _written;

    public ReadOnlyMemory<byte> Written => _buffer is null ? default : _buffer.AsMemory(0, _written);

    public Span<byte> GetSpan(int size)
    {
        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1024));
        }
        else if (_buffer.Length - _written < size)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_written + size, _buffer.Length * 2));
            _buffer.AsSpan(0, _written).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        return _buffer.AsSpan(_written);
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        GetSpan(Math.Max(sizeHint, 1));
        return _buffer!.AsMemory(_written);
    }

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint) => GetSpan(Math.Max(sizeHint, 1));

    public void Reset()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
        _written = 0;
    }
}
