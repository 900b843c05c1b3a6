using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;

namespace SocketIoSignal.EngineIO.WebSockets;

/// <summary>What <see cref="WebSocketFrameDecoder.Decode"/> found.</summary>
internal enum FrameEvent
{
    /// <summary>Everything given was taken; more bytes are needed.</summary>
    NeedMore,

    /// <summary>A whole data message: <see cref="WebSocketFrameDecoder.TakeMessage"/>.</summary>
    Message,

    /// <summary>A ping: <see cref="WebSocketFrameDecoder.ControlPayload"/> is to be sent back in a pong.</summary>
    Ping,

    /// <summary>A pong (unsolicited ones included); nothing to do.</summary>
    Pong,

    /// <summary>The client's close frame: <see cref="WebSocketFrameDecoder.CloseCode"/> (after a failure: the end of the close handshake).</summary>
    Close,

    /// <summary>A rule of RFC 6455 (or the size limit) was broken: <see cref="WebSocketFrameDecoder.FailureCode"/>.</summary>
    Failed,
}

/// <summary>
/// The client half of RFC 6455 framing, strict, for a server with permessage-deflate (RFC 7692) or no extension:
/// masked frames only, RSV1 only on the first frame of a message when deflate was agreed and no other RSV bit,
/// known opcodes, control frames unfragmented and at most 125 bytes, no continuation without a message and no new
/// message inside one, 64-bit lengths with the high bit clear, text valid UTF-8 (checked as it arrives, so a
/// sequence split across frames too), a close frame's code and reason valid — and no message larger than the limit,
/// refused at the frame header that would go over it (or, compressed, as soon as inflating passes it).
/// <para>
/// Pure: bytes in, events out, no I/O. Between messages it holds nothing; a message in progress holds one buffer
/// (rented, or exactly its size when it is one frame), given up when it completes or on <see cref="Release"/>.
/// After <see cref="FrameEvent.Failed"/> it only looks for the client's close frame.
/// </para>
/// </summary>
internal sealed class WebSocketFrameDecoder
{
    /// <summary>The frames one message may be split into.</summary>
    public const int MaxFragmentsPerMessage = 1024;

    /// <summary>A single-frame message up to this size gets its exact array at its header; a larger one as its bytes come.</summary>
    private const int ExactUpFront = 16 * 1024;

    /// <summary>The smallest pooled buffer rented for a message.</summary>
    private const int InitialBuffer = 4096;

    public const int ProtocolError = 1002;
    public const int InvalidPayload = 1007;
    public const int TooBig = 1009;

    private readonly int _maxMessage;
    private readonly PerMessageDeflate? _deflate;
    private readonly EngineIoMetrics? _metrics;

    // The frame whose payload is passing.
    private bool _inPayload;
    private long _payloadLeft;
    private uint _mask;
    private int _maskPos;
    private bool _fin;
    private bool _skip;
    private bool _closeAfterSkip;

    // The data message the frames belong to.
    private bool _inMessage;
    private bool _text;
    private bool _compressed;
    private int _fragments;
    private byte[]? _buffer;
    private bool _pooled;
    private int _length;
    private int _utf8Checked;

    private bool _failed;
    private byte[]? _message;

    public WebSocketFrameDecoder(int maxMessage, PerMessageDeflate? deflate, EngineIoMetrics? metrics)
    {
        _maxMessage = maxMessage;
        _deflate = deflate;
        _metrics = metrics;
    }

    /// <summary>After <see cref="FrameEvent.Message"/>: whether it is text (else binary).</summary>
    public bool MessageIsText { get; private set; }

    /// <summary>After <see cref="FrameEvent.Ping"/>: the payload to send back.</summary>
    public byte[] ControlPayload { get; private set; } = [];

    /// <summary>After <see cref="FrameEvent.Close"/>: the client's code, or 1005 when its close frame had none.</summary>
    public int CloseCode { get; private set; }

    /// <summary>After <see cref="FrameEvent.Failed"/>: the close code the RFC names for the violation.</summary>
    public int FailureCode { get; private set; }

    /// <summary>After <see cref="FrameEvent.Failed"/>: the reason sent with it.</summary>
    public string FailureReason { get; private set; } = "";

    /// <summary>After <see cref="FrameEvent.Failed"/>: the failure was the client's close frame itself, so no other will come.</summary>
    public bool ClientClosed { get; private set; }

    /// <summary>Whether a failure has been found (the decoder now only looks for the close frame).</summary>
    public bool HasFailed => _failed;

    /// <summary>Whether a message in progress holds a buffer.</summary>
    public bool HoldsBuffer => _buffer is not null;

    /// <summary>The message of the last <see cref="FrameEvent.Message"/>, exactly its size; the caller's from now on.</summary>
    public byte[] TakeMessage()
    {
        var m = _message ?? [];
        _message = null;
        return m;
    }

    /// <summary>
    /// Takes bytes from the start of <paramref name="input"/> (slicing it past them) until an event. Bytes of a frame
    /// header or of a control frame are only taken once the whole header (or control frame) is there.
    /// </summary>
    public FrameEvent Decode(ref ReadOnlySequence<byte> input)
    {
        if (_failed)
        {
            return Drain(ref input);
        }
        while (true)
        {
            if (!_inPayload)
            {
                var header = ReadHeader(ref input);
                if (header != FrameEvent.NeedMore || !_inPayload)
                {
                    return header;
                }
            }
            while (_payloadLeft > 0)
            {
                if (input.IsEmpty)
                {
                    return FrameEvent.NeedMore;
                }
                var span = input.FirstSpan;
                int take = (int)Math.Min(span.Length, _payloadLeft);
                Append(span[..take]);
                input = input.Slice(take);
                if (_text && !_compressed && !CheckUtf8(final: false))
                {
                    return Fail(InvalidPayload, "invalid UTF-8 in a text message");
                }
            }
            _inPayload = false;
            if (_fin)
            {
                return EndMessage();
            }
        }
    }

    /// <summary>Gives up the buffer of a message in progress (the connection is ending).</summary>
    public void Release()
    {
        if (_buffer is not null && _pooled)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _metrics?.ReceiveBufferReturned();
        }
        _buffer = null;
        _message = null;
    }

    private FrameEvent ReadHeader(ref ReadOnlySequence<byte> input)
    {
        if (input.Length < 2)
        {
            return FrameEvent.NeedMore;
        }
        Span<byte> h = stackalloc byte[14];
        int have = (int)Math.Min(14, input.Length);
        input.Slice(0, have).CopyTo(h);
        byte b0 = h[0];
        byte b1 = h[1];
        bool fin = (b0 & 0x80) != 0;
        int opcode = b0 & 0x0F;
        int len7 = b1 & 0x7F;
        bool rsv1 = (b0 & 0x40) != 0;
        if ((b0 & 0x30) != 0)
        {
            return Fail(ProtocolError, "RSV bits set without an extension");
        }
        if (rsv1 && _deflate is null)
        {
            return Fail(ProtocolError, "RSV bits set without an extension");
        }
        if ((b1 & 0x80) == 0)
        {
            return Fail(ProtocolError, "unmasked client frame");
        }
        if (opcode is >= 3 and <= 7 or > 10)
        {
            return Fail(ProtocolError, "reserved opcode");
        }
        bool control = opcode >= 8;
        if (control)
        {
            if (!fin)
            {
                return Fail(ProtocolError, "fragmented control frame");
            }
            if (len7 > 125)
            {
                return Fail(ProtocolError, "control frame over 125 bytes");
            }
            if (rsv1)
            {
                return Fail(ProtocolError, "RSV1 set on a control frame");
            }
        }
        else if (opcode == 0)
        {
            if (!_inMessage)
            {
                return Fail(ProtocolError, "continuation frame without a message");
            }
            if (rsv1)
            {
                return Fail(ProtocolError, "RSV1 set on a continuation frame");
            }
        }
        else if (_inMessage)
        {
            return Fail(ProtocolError, "new message inside a fragmented message");
        }
        int lengthBytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
        int headerLength = 2 + lengthBytes + 4;
        if (have < headerLength)
        {
            return FrameEvent.NeedMore;
        }
        ulong length = lengthBytes switch
        {
            2 => BinaryPrimitives.ReadUInt16BigEndian(h[2..]),
            8 => BinaryPrimitives.ReadUInt64BigEndian(h[2..]),
            _ => (ulong)len7,
        };
        if (length >> 63 != 0)
        {
            return Fail(ProtocolError, "frame length with the high bit set");
        }
        uint mask = MemoryMarshal.Read<uint>(h.Slice(2 + lengthBytes, 4));
        if (control)
        {
            long whole = headerLength + (long)length;
            if (input.Length < whole)
            {
                return FrameEvent.NeedMore;
            }
            var payload = new byte[(int)length];
            input.Slice(headerLength, (int)length).CopyTo(payload);
            Unmask(payload, mask, 0);
            input = input.Slice(whole);
            return opcode switch
            {
                8 => OnClose(payload),
                9 => Ping(payload),
                _ => FrameEvent.Pong,
            };
        }
        long before = _inMessage ? _length : 0;
        if (before + (long)length > _maxMessage)
        {
            return Fail(TooBig, "message too big");
        }
        if (opcode != 0)
        {
            _inMessage = true;
            _text = opcode == 1;
            _compressed = rsv1;
            _fragments = 1;
            _length = 0;
            _utf8Checked = 0;
            int size = (int)length;
            if (fin && !rsv1 && (size <= ExactUpFront || input.Length - headerLength >= size))
            {
                // One frame, and its size is known: the message gets its own array at once, no copy at the end.
                // Filled by the frame's payload before anything reads it: no zeroing first.
                _buffer = GC.AllocateUninitializedArray<byte>(size);
                _pooled = false;
            }
        }
        else if (++_fragments > MaxFragmentsPerMessage)
        {
            return Fail(TooBig, "message too big");
        }
        input = input.Slice(headerLength);
        _inPayload = true;
        _payloadLeft = (long)length;
        _mask = mask;
        _maskPos = 0;
        _fin = fin;
        return FrameEvent.NeedMore;
    }

    private FrameEvent Ping(byte[] payload)
    {
        ControlPayload = payload;
        return FrameEvent.Ping;
    }

    private FrameEvent OnClose(byte[] payload)
    {
        if (payload.Length == 0)
        {
            CloseCode = 1005;
            return FrameEvent.Close;
        }
        if (payload.Length == 1)
        {
            return FailClosed(ProtocolError, "close frame of one byte");
        }
        int code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        bool valid = (code >= 1000 && code <= 1014 && code is not (1004 or 1005 or 1006)) || (code >= 3000 && code <= 4999);
        if (!valid)
        {
            return FailClosed(ProtocolError, "invalid close code");
        }
        if (!Utf8.IsValid(payload.AsSpan(2)))
        {
            return FailClosed(InvalidPayload, "invalid UTF-8 in the close reason");
        }
        CloseCode = code;
        return FrameEvent.Close;
    }

    /// <summary>The client's own close frame is bad: answered with ours, and nothing more is awaited.</summary>
    private FrameEvent FailClosed(int code, string reason)
    {
        Fail(code, reason);
        ClientClosed = true;
        return FrameEvent.Failed;
    }

    private void Append(ReadOnlySpan<byte> masked)
    {
        int need = _length + masked.Length + (_compressed ? 4 : 0);
        if (_buffer is null || need > _buffer.Length)
        {
            Grow(need);
        }
        var into = _buffer.AsSpan(_length, masked.Length);
        masked.CopyTo(into);
        Unmask(into, _mask, _maskPos);
        _length += masked.Length;
        _maskPos = (_maskPos + masked.Length) & 3;
        _payloadLeft -= masked.Length;
    }

    private void Grow(int need)
    {
        int size = Math.Max(need, InitialBuffer);
        if (_buffer is not null)
        {
            size = Math.Max(size, Math.Min(_buffer.Length * 2, _maxMessage + 4));
        }
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            if (_pooled)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _metrics?.ReceiveBufferReturned();
            }
        }
        _buffer = bigger;
        _pooled = true;
        _metrics?.ReceiveBufferRented();
    }

    private FrameEvent EndMessage()
    {
        _inMessage = false;
        MessageIsText = _text;
        if (_compressed)
        {
            var compressed = _buffer;
            if (compressed is null || compressed.Length < _length + 4)
            {
                Grow(_length + 4);
                compressed = _buffer!;
            }
            var result = _deflate!.Decompress(compressed, _length, _maxMessage, out var inflated);
            if (result == InflateResult.TooBig)
            {
                return Fail(TooBig, "message too big");
            }
            if (result == InflateResult.Corrupt)
            {
                return Fail(InvalidPayload, "invalid compressed data");
            }
            if (_text && !Utf8.IsValid(inflated))
            {
                return Fail(InvalidPayload, "invalid UTF-8 in a text message");
            }
            Release();
            _message = inflated;
            return FrameEvent.Message;
        }
        if (_text && !CheckUtf8(final: true))
        {
            return Fail(InvalidPayload, "invalid UTF-8 in a text message");
        }
        byte[] message;
        if (_buffer is null)
        {
            message = [];
        }
        else if (!_pooled && _buffer.Length == _length)
        {
            message = _buffer;
            _buffer = null;
        }
        else
        {
            message = _buffer.AsSpan(0, _length).ToArray();
        }
        Release();
        _message = message;
        return FrameEvent.Message;
    }

    /// <summary>
    /// Checks the UTF-8 of the message so far from where the last check stopped; an incomplete sequence at the end
    /// is valid while more may come and it can still become valid.
    /// </summary>
    private bool CheckUtf8(bool final)
    {
        if (_buffer is null)
        {
            return true;
        }
        var data = _buffer.AsSpan(_utf8Checked, _length - _utf8Checked);
        if (!Utf8Prefix.IsValid(data, final, out int complete))
        {
            return false;
        }
        _utf8Checked += complete;
        return true;
    }

    private FrameEvent Fail(int code, string reason)
    {
        if (!_failed)
        {
            _failed = true;
            FailureCode = code;
            FailureReason = reason;
        }
        Release();
        _inMessage = false;
        _inPayload = false;
        _payloadLeft = 0;
        return FrameEvent.Failed;
    }

    /// <summary>After a failure: skips frames, whatever they hold, until the client's close frame.</summary>
    private FrameEvent Drain(ref ReadOnlySequence<byte> input)
    {
        Span<byte> h = stackalloc byte[14];
        while (true)
        {
            if (_payloadLeft > 0)
            {
                long take = Math.Min(_payloadLeft, input.Length);
                input = input.Slice(take);
                _payloadLeft -= take;
                if (_payloadLeft > 0)
                {
                    return FrameEvent.NeedMore;
                }
            }
            if (_skip)
            {
                _skip = false;
                if (_closeAfterSkip)
                {
                    return FrameEvent.Close;
                }
            }
            if (input.Length < 2)
            {
                return FrameEvent.NeedMore;
            }
            int have = (int)Math.Min(14, input.Length);
            input.Slice(0, have).CopyTo(h);
            int len7 = h[1] & 0x7F;
            int lengthBytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
            int headerLength = 2 + lengthBytes + ((h[1] & 0x80) != 0 ? 4 : 0);
            if (have < headerLength)
            {
                return FrameEvent.NeedMore;
            }
            ulong length = lengthBytes switch
            {
                2 => BinaryPrimitives.ReadUInt16BigEndian(h[2..]),
                8 => BinaryPrimitives.ReadUInt64BigEndian(h[2..]),
                _ => (ulong)len7,
            };
            input = input.Slice(headerLength);
            _payloadLeft = length > long.MaxValue ? long.MaxValue : (long)length;
            _skip = true;
            _closeAfterSkip = (h[0] & 0x0F) == 8;
        }
    }

    /// <summary>XORs <paramref name="data"/> with the mask, starting <paramref name="pos"/> bytes into it.</summary>
    internal static void Unmask(Span<byte> data, uint mask, int pos)
    {
        if (mask == 0 || data.IsEmpty)
        {
            return;
        }
        uint rotated = pos == 0 ? mask : System.Numerics.BitOperations.RotateRight(mask, 8 * pos);
        ulong wide = ((ulong)rotated << 32) | rotated;
        int words = data.Length / 8;
        var w = MemoryMarshal.Cast<byte, ulong>(data[..(words * 8)]);
        for (int i = 0; i < w.Length; i++)
        {
            w[i] ^= wide;
        }
        for (int j = words * 8; j < data.Length; j++)
        {
            data[j] ^= (byte)(rotated >> (8 * (j & 3)));
        }
    }

    /// <summary>The reason a failure sends, as UTF-8.</summary>
    public byte[] FailureReasonUtf8 => Encoding.UTF8.GetBytes(FailureReason);
}

/// <summary>UTF-8 validation of text that may continue in the next bytes.</summary>
internal static class Utf8Prefix
{
    /// <summary>
    /// Whether <paramref name="data"/> is valid UTF-8, except that (unless <paramref name="final"/>) it may end in
    /// the start of a sequence that more bytes can still complete. <paramref name="complete"/> is the length of the
    /// part made of whole sequences.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> data, bool final, out int complete)
    {
        complete = data.Length;
        if (Utf8.IsValid(data))
        {
            return true;
        }
        if (final)
        {
            return false;
        }
        // Find where a sequence that is still open at the end starts (at most 3 bytes back).
        int cut = data.Length;
        for (int back = 1; back <= Math.Min(3, data.Length); back++)
        {
            byte b = data[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }
            int need = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
            if (need > back)
            {
                cut = data.Length - back;
            }
            break;
        }
        if (cut == data.Length || !Utf8.IsValid(data[..cut]))
        {
            return false;
        }
        // The open sequence must be a valid beginning (Rune says NeedMoreData for one).
        var status = System.Text.Rune.DecodeFromUtf8(data[cut..], out _, out _);
        if (status != OperationStatus.NeedMoreData)
        {
            return false;
        }
        complete = cut;
        return true;
    }
}
