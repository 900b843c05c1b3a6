using System.Text;

namespace SocketIoSignal.EngineIO.Protocol;

/// <summary>
/// One Engine.IO packet: a type and either text or binary data. Text is held as a string or as the UTF-8
/// bytes of its WebSocket frame (type digit first), whichever it was made from; the other form is made on
/// demand, once. Packets are immutable, so a packet broadcast to many sessions is encoded once.
/// </summary>
internal sealed class EngineIoPacket
{
    private byte[]? _textFrame;
    private byte[]? _v3BinaryFrame;
    private string? _text;
    private DeflatedForm? _deflated;

    /// <summary>A compressed payload made for permessage-deflate without context takeover, and its window.</summary>
    private sealed record DeflatedForm(int WindowBits, byte[]? Data);

    private EngineIoPacket(EngineIoPacketType type, string? text, ReadOnlyMemory<byte> binary, bool isBinary)
    {
        Type = type;
        _text = text;
        Binary = binary;
        IsBinary = isBinary;
    }

    private EngineIoPacket(byte[] textFrame)
    {
        Type = (EngineIoPacketType)(textFrame[0] - '0');
        _textFrame = textFrame;
    }

    public EngineIoPacketType Type { get; }

    /// <summary>The data of a text packet (without the type digit); null for binary packets.</summary>
    public string? Text => IsBinary ? null : _text ??= Encoding.UTF8.GetString(_textFrame.AsSpan(1));

    /// <summary>The data of a text packet as UTF-8 (without the type digit); empty for binary packets.</summary>
    public ReadOnlyMemory<byte> TextUtf8 => IsBinary ? default : TextFrame()[1..];

    /// <summary>Whether the text is held as UTF-8 already (a frame received or encoded as bytes).</summary>
    public bool HoldsUtf8 => _textFrame is not null;

    /// <summary>The data of a binary packet (always of type message).</summary>
    public ReadOnlyMemory<byte> Binary { get; }

    public bool IsBinary { get; }

    public static EngineIoPacket Create(EngineIoPacketType type, string text = "") => new(type, text, default, false);

    public static EngineIoPacket CreateBinary(ReadOnlyMemory<byte> data) => new(EngineIoPacketType.Message, null, data, true);

    public static EngineIoPacket Message(string text) => new(EngineIoPacketType.Message, text, default, false);

    /// <summary>
    /// A text packet over the UTF-8 bytes of its WebSocket frame: <paramref name="frame"/>[0] is the type digit
    /// ('0'–'6'), the rest valid UTF-8. The array is taken as it is (not copied) and must not change afterwards.
    /// </summary>
    public static EngineIoPacket FromTextFrame(byte[] frame)
    {
        if (frame.Length == 0 || frame[0] < '0' || frame[0] > '6')
        {
            throw new ArgumentException("a text frame starts with the packet type digit", nameof(frame));
        }
        return new EngineIoPacket(frame);
    }

    public static readonly EngineIoPacket Noop = Create(EngineIoPacketType.Noop);
    public static readonly EngineIoPacket PingPacket = Create(EngineIoPacketType.Ping);
    public static readonly EngineIoPacket ClosePacket = Create(EngineIoPacketType.Close);

    /// <summary>Approximate bytes this packet occupies on the wire; used for queue accounting.</summary>
    public int WireSize => IsBinary ? Binary.Length + 1 : _textFrame?.Length ?? (_text!.Length + 1);

    /// <summary>The packet as a string: type digit followed by the text data.</summary>
    public string ToWireString()
    {
        if (IsBinary)
        {
            throw new InvalidOperationException("binary packets have no plain string form");
        }
        return string.Concat(((char)('0' + (int)Type)).ToString(), Text);
    }

    /// <summary>UTF-8 bytes of a WebSocket text frame (both protocol versions), computed once.</summary>
    public ReadOnlyMemory<byte> TextFrame()
    {
        var frame = _textFrame;
        if (frame is null)
        {
            var text = _text!;
            frame = GC.AllocateUninitializedArray<byte>(1 + Encoding.UTF8.GetByteCount(text));
            frame[0] = (byte)('0' + (int)Type);
            Encoding.UTF8.GetBytes(text, frame.AsSpan(1));
            _textFrame = frame;
        }
        return frame;
    }

    /// <summary>
    /// Connection state recovery: the bytes just before the text frame's last one (<c>]</c>) that carry the event's
    /// offset argument (<c>,"…"</c>), as the layer above appended it; 0 when there is none. Set once, before the
    /// packet is queued anywhere.
    /// </summary>
    internal int RecoveryOffsetLength { get; set; }

    private byte[]? _withoutOffset;

    /// <summary>
    /// The text frame without the recovery offset argument (<see cref="RecoveryOffsetLength"/>), for a connection
    /// whose client cannot recover: made once, however many such connections it goes to.
    /// </summary>
    internal ReadOnlyMemory<byte> TextFrameWithoutRecoveryOffset()
    {
        int trailer = RecoveryOffsetLength;
        if (trailer == 0)
        {
            return TextFrame();
        }
        var frame = _withoutOffset;
        if (frame is null)
        {
            var full = TextFrame().Span;
            frame = new byte[full.Length - trailer];
            full[..(frame.Length - 1)].CopyTo(frame);
            frame[^1] = full[^1];
            _withoutOffset = frame;
        }
        return frame;
    }

    /// <summary>A WebSocket binary frame: v4 sends the data as is, v3 prefixes the type byte 4.</summary>
    public ReadOnlyMemory<byte> BinaryFrame(int protocol)
    {
        if (protocol >= 4)
        {
            return Binary;
        }
        var frame = _v3BinaryFrame;
        if (frame is null)
        {
            frame = new byte[Binary.Length + 1];
            frame[0] = (byte)EngineIoPacketType.Message;
            Binary.Span.CopyTo(frame.AsSpan(1));
            _v3BinaryFrame = frame;
        }
        return frame;
    }

    /// <summary>
    /// Whether the packet may be compressed (permessage-deflate over WebSocket, when agreed and over the threshold);
    /// false for an emit made with <c>compress(false)</c>.
    /// </summary>
    public bool Compress { get; private init; } = true;

    /// <summary>The same packet (sharing its encoded forms) with <see cref="Compress"/> off.</summary>
    public EngineIoPacket WithoutCompression()
    {
        if (!Compress)
        {
            return this;
        }
        return new EngineIoPacket(this) { Compress = false };
    }

    private EngineIoPacket(EngineIoPacket from)
    {
        Type = from.Type;
        _text = from._text;
        _textFrame = from._textFrame;
        _v3BinaryFrame = from._v3BinaryFrame;
        Binary = from.Binary;
        IsBinary = from.IsBinary;
        RecoveryOffsetLength = from.RecoveryOffsetLength;
        _withoutOffset = from._withoutOffset;
    }

    /// <summary>
    /// The text packet's WebSocket payload compressed by <paramref name="compress"/> with a window of
    /// <paramref name="windowBits"/> (no server context takeover, so the result depends on the window alone and is
    /// made once for every receiver), or null when compressing does not make it smaller.
    /// </summary>
    internal byte[]? Deflated(int windowBits, Func<ReadOnlyMemory<byte>, byte[]?> compress)
    {
        if (_deflated is { } cached && cached.WindowBits == windowBits)
        {
            return cached.Data;
        }
        var data = compress(TextFrame());
        _deflated = new DeflatedForm(windowBits, data);
        return data;
    }

    public override string ToString() => IsBinary ? $"binary({Binary.Length})" : ToWireString();
}
