using System.Text;

namespace SocketIoSignal.EngineIO.Protocol;

/// <summary>Engine.IO packet types; the wire form is the digit of the value.</summary>
public enum EngineIoPacketType : byte
{
    Open = 0,
    Close = 1,
    Ping = 2,
    Pong = 3,
    Message = 4,
    Upgrade = 5,
    Noop = 6,
}

/// <summary>
/// One Engine.IO packet: a type and either text or binary data. Outgoing packets are immutable and
/// cache their WebSocket frame bytes, so a packet broadcast to many sessions is encoded once.
/// </summary>
public sealed class EngineIoPacket
{
    private byte[]? _textFrame;
    private byte[]? _v3BinaryFrame;

    private EngineIoPacket(EngineIoPacketType type, string? text, ReadOnlyMemory<byte> binary, bool isBinary)
    {
        Type = type;
        Text = text;
        Binary = binary;
        IsBinary = isBinary;
    }

    public EngineIoPacketType Type { get; }

    /// <summary>The data of a text packet (without the type digit); null for binary packets.</summary>
    public string? Text { get; }

    /// <summary>The data of a binary packet (always of type message).</summary>
    public ReadOnlyMemory<byte> Binary { get; }

    public bool IsBinary { get; }

    public static EngineIoPacket Create(EngineIoPacketType type, string text = "") => new(type, text, default, false);

    public static EngineIoPacket CreateBinary(ReadOnlyMemory<byte> data) => new(EngineIoPacketType.Message, null, data, true);

    public static EngineIoPacket Message(string text) => new(EngineIoPacketType.Message, text, default, false);

    public static readonly EngineIoPacket Noop = Create(EngineIoPacketType.Noop);
    public static readonly EngineIoPacket PingPacket = Create(EngineIoPacketType.Ping);
    public static readonly EngineIoPacket PongPacket = Create(EngineIoPacketType.Pong);
    public static readonly EngineIoPacket ClosePacket = Create(EngineIoPacketType.Close);

    /// <summary>Approximate bytes this packet occupies on the wire; used for queue accounting.</summary>
    public int WireSize => IsBinary ? Binary.Length + 1 : (Text!.Length + 1);

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
            var text = Text!;
            frame = new byte[1 + Encoding.UTF8.GetByteCount(text)];
            frame[0] = (byte)('0' + (int)Type);
            Encoding.UTF8.GetBytes(text, frame.AsSpan(1));
            _textFrame = frame;
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

    public override string ToString() => IsBinary ? $"binary({Binary.Length})" : ToWireString();
}
