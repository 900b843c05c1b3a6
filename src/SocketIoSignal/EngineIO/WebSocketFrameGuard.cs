using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Numerics;
using System.Text.Unicode;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// The upgraded connection's stream as the WebSocket sees it. Every byte the client sends is checked here as it
/// passes, frame by frame, by the rules of RFC 6455 for a server without extensions: masked frames only, no RSV
/// bits, known opcodes, control frames unfragmented and at most 125 bytes, no continuation without a message and no
/// new message inside one, 64-bit lengths with the high bit clear, text valid UTF-8 (also split across frames), a
/// close frame's code and reason valid — and no message larger than the limit, refused at the frame header that
/// would go over it, before a byte of its payload is read.
/// <para>
/// On a violation the guard takes over: it lets the WebSocket's write in progress finish, writes the close frame
/// with the RFC's code and a reason, flushes it, reads (and discards) until the client's own close frame — bounded
/// by a short timeout — and only then reports the end of the stream to the WebSocket above, whose read fails; the
/// request then ends normally and the connection is closed with a FIN. Bytes of earlier, valid frames of the same
/// read are delivered first, as a client that sent them in that order expects.
/// </para>
/// </summary>
internal sealed class WebSocketFrameGuard : Stream
{
    private const int Idle = 0;
    private const int Writing = 1;
    private const int Closed = 2;

    private enum Payload : byte
    {
        Skip,
        Text,
        Close,
    }

    private readonly Stream _inner;
    private readonly long _maxMessage;
    private readonly TimeSpan _closeTimeout;

    // The frame header being read.
    private int _headerHave;
    private int _headerNeed = 2;
    private byte _b0;
    private byte _b1;
    private ulong _length;
    private uint _maskKey;

    // The frame whose payload is passing.
    private long _payloadLeft;
    private int _maskPos;
    private Payload _payload;
    private bool _fin;
    private int _opcode;

    // The data message the frames belong to.
    private bool _inMessage;
    private bool _messageIsText;
    private long _messageBytes;

    // UTF-8 of a text message: an incomplete sequence carried to the next bytes.
    private int _utf8TailCount;
    private int _utf8TailNeed;
    private uint _utf8Tail;

    // A close frame's payload (at most 125 bytes), allocated only when one comes.
    private byte[]? _closePayload;
    private int _closeHave;

    // After a violation: only looking for the client's close frame.
    private bool _draining;
    private bool _peerClosed;
    private bool _failPending;
    private bool _ended;

    private int _writeState;
    private TaskCompletionSource? _writeDone;

    private readonly Action _abortConnection;

    /// <param name="inner">The upgraded connection's stream.</param>
    /// <param name="maxMessage">The largest message accepted (MaxHttpBufferSize); a larger one closes with 1009.</param>
    /// <param name="closeTimeout">How long the client may take to answer our close frame.</param>
    /// <param name="abortConnection">Ends the connection at once (HttpContext.Abort): Kestrel's upgraded stream does
    /// nothing when disposed, so a WebSocket aborted mid-stream is cut off through this, as ASP.NET's own WebSocket
    /// middleware does.</param>
    public WebSocketFrameGuard(Stream inner, long maxMessage, TimeSpan closeTimeout, Action abortConnection)
    {
        _inner = inner;
        _maxMessage = maxMessage;
        _closeTimeout = closeTimeout;
        _abortConnection = abortConnection;
    }

    /// <summary>The WebSocket reading this stream (set once it is made).</summary>
    public WebSocket? Socket { get; set; }

    /// <summary>The close status sent for a protocol violation, or null while there was none.</summary>
    public WebSocketCloseStatus? Failure { get; private set; }

    /// <summary>The reason sent with <see cref="Failure"/>.</summary>
    public string FailureReason { get; private set; } = "";

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ended)
        {
            return 0;
        }
        if (_failPending)
        {
            await FailAsync();
            return 0;
        }
        if (buffer.Length == 0)
        {
            return await _inner.ReadAsync(buffer, cancellationToken);
        }
        int n = await _inner.ReadAsync(buffer, cancellationToken);
        if (n == 0)
        {
            return 0;
        }
        int deliver = Inspect(buffer.Span[..n]);
        if (Failure is null)
        {
            return n;
        }
        if (deliver > 0)
        {
            // Valid frames before the bad one go up first; the next read fails.
            _failPending = true;
            return deliver;
        }
        await FailAsync();
        return 0;
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int state = Interlocked.CompareExchange(ref _writeState, Writing, Idle);
        if (state == Closed)
        {
            // The guard has closed the connection: what the WebSocket still sends is dropped.
            return default;
        }
        if (state == Writing)
        {
            return ValueTask.FromException(new InvalidOperationException("concurrent writes to a WebSocket stream"));
        }
        ValueTask write;
        try
        {
            write = _inner.WriteAsync(buffer, cancellationToken);
        }
        catch
        {
            EndWrite();
            throw;
        }
        if (write.IsCompletedSuccessfully)
        {
            write.GetAwaiter().GetResult();
            EndWrite();
            return default;
        }
        return AwaitWriteAsync(write);
    }

    private async ValueTask AwaitWriteAsync(ValueTask write)
    {
        try
        {
            await write;
        }
        finally
        {
            EndWrite();
        }
    }

    private void EndWrite()
    {
        if (Interlocked.CompareExchange(ref _writeState, Idle, Writing) != Writing)
        {
            // The guard closed while this write was in progress, and waits for it.
            Volatile.Read(ref _writeDone)?.TrySetResult();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _writeState) == Closed ? Task.CompletedTask : _inner.FlushAsync(cancellationToken);

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>
    /// Disposed by the WebSocket when it is closed or aborted. After a close handshake (the WebSocket's, or the
    /// guard's own after a violation) the request just ends and the connection closes with a FIN; a WebSocket
    /// aborted in mid-stream (a timeout, a client that does not read) has its connection aborted.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!_ended && Socket?.State == WebSocketState.Aborted)
            {
                _abortConnection();
            }
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Writes the close frame of the violation (after the write in progress), then reads until the client's close
    /// frame, the end of the connection or the timeout.
    /// </summary>
    private async Task FailAsync()
    {
        _failPending = false;
        _ended = true;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _writeDone, done);
        using var cts = new CancellationTokenSource(_closeTimeout);
        byte[]? scratch = null;
        try
        {
            if (Interlocked.Exchange(ref _writeState, Closed) == Writing)
            {
                await done.Task.WaitAsync(cts.Token);
            }
            var reason = System.Text.Encoding.UTF8.GetBytes(FailureReason);
            var frame = new byte[4 + reason.Length];
            frame[0] = 0x88;
            frame[1] = (byte)(2 + reason.Length);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)Failure!.Value);
            reason.CopyTo(frame, 4);
            await _inner.WriteAsync(frame, cts.Token);
            await _inner.FlushAsync(cts.Token);
            scratch = ArrayPool<byte>.Shared.Rent(4096);
            while (!_peerClosed)
            {
                int n = await _inner.ReadAsync(scratch, cts.Token);
                if (n == 0)
                {
                    break;
                }
                Inspect(scratch.AsSpan(0, n));
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // Gone, or no close frame in time: the connection ends now.
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>
    /// Follows the frames through <paramref name="chunk"/> (masked, as read). Returns how many bytes of it come
    /// before the frame that broke a rule (all of them while none did); after a violation only looks for the
    /// client's close frame.
    /// </summary>
    private int Inspect(Span<byte> chunk)
    {
        int frameStart = _headerHave == 0 && _payloadLeft == 0 ? 0 : -1;
        int deliver = -1;
        int i = 0;
        while (i < chunk.Length && !_peerClosed)
        {
            if (_payloadLeft > 0)
            {
                int take = (int)Math.Min(_payloadLeft, chunk.Length - i);
                var part = chunk.Slice(i, take);
                if (_payload == Payload.Text)
                {
                    if (!ValidateText(part))
                    {
                        Violate(WebSocketCloseStatus.InvalidPayloadData, "invalid UTF-8 in a text message");
                        deliver = Math.Max(frameStart, 0);
                        _payload = Payload.Skip;
                    }
                }
                else if (_payload == Payload.Close)
                {
                    Unmask(part, _closePayload.AsSpan(_closeHave, take));
                    _closeHave += take;
                }
                i += take;
                _payloadLeft -= take;
                _maskPos = (_maskPos + take) & 3;
                if (_payloadLeft == 0 && !EndFrame() && deliver < 0)
                {
                    deliver = Math.Max(frameStart, 0);
                }
                frameStart = i;
                continue;
            }
            if (_headerHave == 0)
            {
                frameStart = i;
            }
            byte b = chunk[i++];
            if (!HeaderByte(b) && deliver < 0)
            {
                deliver = Math.Max(frameStart, 0);
            }
            if (_headerHave == 0 && _payloadLeft == 0)
            {
                frameStart = i;
            }
        }
        return deliver < 0 ? chunk.Length : deliver;
    }

    /// <summary>Takes one header byte; false when the frame breaks a rule (the guard is then draining).</summary>
    private bool HeaderByte(byte b)
    {
        int at = _headerHave++;
        if (at == 0)
        {
            _b0 = b;
            _length = 0;
            return true;
        }
        if (at == 1)
        {
            _b1 = b;
            int len7 = b & 0x7F;
            _headerNeed = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b & 0x80) != 0 ? 4 : 0);
            _length = len7 < 126 ? (ulong)len7 : 0;
        }
        else
        {
            int lengthBytes = (_b1 & 0x7F) switch
            {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            if (at < 2 + lengthBytes)
            {
                _length = (_length << 8) | b;
            }
            else
            {
                _maskKey |= (uint)b << (8 * (at - 2 - lengthBytes));
            }
        }
        if (_headerHave < _headerNeed)
        {
            return true;
        }
        return BeginFrame();
    }

    /// <summary>The header is complete: checks it and sets up its payload.</summary>
    private bool BeginFrame()
    {
        _headerHave = 0;
        _headerNeed = 2;
        _fin = (_b0 & 0x80) != 0;
        _opcode = _b0 & 0x0F;
        _maskPos = 0;
        uint key = _maskKey;
        _maskKey = 0;
        _payload = Payload.Skip;
        bool lengthValid = (_b1 & 0x7F) != 127 || (_length >> 63) == 0;
        long length = lengthValid ? (long)_length : long.MaxValue;
        if (_draining)
        {
            // Only the client's close frame matters now; its end ends the close handshake.
            _payloadLeft = length;
            _closeAfterSkip = _opcode == 8;
            if (_closeAfterSkip && length == 0)
            {
                _peerClosed = true;
            }
            return true;
        }
        _currentKey = key;
        _payloadLeft = length;
        string? error = null;
        var status = WebSocketCloseStatus.ProtocolError;
        if ((_b0 & 0x70) != 0)
        {
            error = "RSV bits set without an extension";
        }
        else if ((_b1 & 0x80) == 0)
        {
            error = "unmasked client frame";
        }
        else if (!lengthValid)
        {
            error = "frame length with the high bit set";
        }
        else if (_opcode >= 8)
        {
            if (_opcode > 10)
            {
                error = "reserved opcode";
            }
            else if (!_fin)
            {
                error = "fragmented control frame";
            }
            else if (length > 125)
            {
                error = "control frame over 125 bytes";
            }
            else if (_opcode == 8)
            {
                if (length == 1)
                {
                    error = "close frame of one byte";
                }
                else
                {
                    _payload = Payload.Close;
                    _closePayload ??= new byte[125];
                    _closeHave = 0;
                }
            }
        }
        else if (_opcode is 3 or 4 or 5 or 6 or 7)
        {
            error = "reserved opcode";
        }
        else if (_opcode == 0 && !_inMessage)
        {
            error = "continuation frame without a message";
        }
        else if (_opcode != 0 && _inMessage)
        {
            error = "new message inside a fragmented message";
        }
        else if ((_opcode == 0 ? _messageBytes : 0) + length > _maxMessage)
        {
            status = WebSocketCloseStatus.MessageTooBig;
            error = "message too big";
        }
        else
        {
            if (_opcode != 0)
            {
                _inMessage = true;
                _messageIsText = _opcode == 1;
                _messageBytes = 0;
                _utf8TailCount = 0;
            }
            _messageBytes += length;
            if (_messageIsText)
            {
                _payload = Payload.Text;
            }
        }
        if (error is not null)
        {
            Violate(status, error);
            _payload = Payload.Skip;
            return false;
        }
        return _payloadLeft > 0 || EndFrame();
    }

    private uint _currentKey;
    private bool _closeAfterSkip;

    /// <summary>The frame's payload is complete; false when that breaks a rule.</summary>
    private bool EndFrame()
    {
        if (_draining)
        {
            if (_closeAfterSkip)
            {
                _peerClosed = true;
            }
            return true;
        }
        if (_opcode == 8)
        {
            if (!CloseFrameValid(_closePayload.AsSpan(0, _closeHave), out string error, out var status))
            {
                // The client's close frame itself is bad: answered with ours, and nothing more is awaited.
                Violate(status, error);
                _peerClosed = true;
                return false;
            }
            return true;
        }
        if (_opcode >= 8 || !_fin)
        {
            return true;
        }
        _inMessage = false;
        if (_messageIsText && _utf8TailCount > 0)
        {
            Violate(WebSocketCloseStatus.InvalidPayloadData, "invalid UTF-8 in a text message");
            return false;
        }
        return true;
    }

    private static bool CloseFrameValid(ReadOnlySpan<byte> payload, out string error, out WebSocketCloseStatus status)
    {
        error = "";
        status = WebSocketCloseStatus.ProtocolError;
        if (payload.Length == 0)
        {
            return true;
        }
        int code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        bool known = (code >= 1000 && code <= 1014 && code is not (1004 or 1005 or 1006)) || (code >= 3000 && code <= 4999);
        if (!known)
        {
            error = "invalid close code";
            return false;
        }
        if (!Utf8.IsValid(payload[2..]))
        {
            status = WebSocketCloseStatus.InvalidPayloadData;
            error = "invalid UTF-8 in the close reason";
            return false;
        }
        return true;
    }

    private void Violate(WebSocketCloseStatus status, string reason)
    {
        if (Failure is null)
        {
            Failure = status;
            FailureReason = reason;
        }
        _draining = true;
        _closeAfterSkip = false;
    }

    private void Unmask(ReadOnlySpan<byte> masked, Span<byte> into)
    {
        uint key = _currentKey;
        int pos = _maskPos;
        for (int i = 0; i < masked.Length; i++)
        {
            into[i] = (byte)(masked[i] ^ (byte)(key >> (8 * ((pos + i) & 3))));
        }
    }

    /// <summary>Unmasks a part of a text message into a scratch buffer and checks its UTF-8 (sequences may span parts).</summary>
    private bool ValidateText(ReadOnlySpan<byte> masked)
    {
        Span<byte> plain = stackalloc byte[512];
        uint key = _currentKey;
        int pos = _maskPos;
        // The mask repeated over 8 bytes, starting at this part's offset into it.
        uint rotated = BitOperations.RotateRight(key, 8 * pos);
        ulong wide = ((ulong)rotated << 32) | rotated;
        while (masked.Length > 0)
        {
            int take = Math.Min(masked.Length, plain.Length);
            var into = plain[..take];
            int words = take / 8;
            var source = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(masked[..(words * 8)]);
            var target = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(into[..(words * 8)]);
            for (int w = 0; w < source.Length; w++)
            {
                target[w] = source[w] ^ wide;
            }
            for (int j = words * 8; j < take; j++)
            {
                into[j] = (byte)(masked[j] ^ (byte)(rotated >> (8 * (j & 3))));
            }
            if (!FeedUtf8(into))
            {
                return false;
            }
            masked = masked[take..];
            // take is a multiple of 4 unless this was the last part, so the mask phase is unchanged.
        }
        return true;
    }

    private bool FeedUtf8(ReadOnlySpan<byte> data)
    {
        if (_utf8TailCount > 0)
        {
            Span<byte> sequence = stackalloc byte[4];
            for (int k = 0; k < _utf8TailCount; k++)
            {
                sequence[k] = (byte)(_utf8Tail >> (8 * k));
            }
            int take = Math.Min(_utf8TailNeed - _utf8TailCount, data.Length);
            data[..take].CopyTo(sequence[_utf8TailCount..]);
            for (int k = 0; k < take; k++)
            {
                if ((data[k] & 0xC0) != 0x80)
                {
                    return false;
                }
            }
            if (_utf8TailCount + take < _utf8TailNeed)
            {
                for (int k = 0; k < take; k++)
                {
                    _utf8Tail |= (uint)data[k] << (8 * (_utf8TailCount + k));
                }
                _utf8TailCount += take;
                return true;
            }
            if (!Utf8.IsValid(sequence[.._utf8TailNeed]))
            {
                return false;
            }
            _utf8TailCount = 0;
            data = data[take..];
        }
        int cut = data.Length;
        for (int back = 1; back <= Math.Min(3, data.Length); back++)
        {
            byte b = data[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }
            int need = b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
            if (need > back)
            {
                if (b < 0xC2 || b > 0xF4)
                {
                    return false;
                }
                cut = data.Length - back;
                _utf8TailNeed = need;
            }
            break;
        }
        if (!Utf8.IsValid(data[..cut]))
        {
            return false;
        }
        _utf8Tail = 0;
        _utf8TailCount = data.Length - cut;
        for (int k = 0; k < _utf8TailCount; k++)
        {
            _utf8Tail |= (uint)data[cut + k] << (8 * k);
        }
        return true;
    }
}
