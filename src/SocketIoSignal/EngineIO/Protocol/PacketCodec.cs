using System.Buffers.Text;

namespace SocketIoSignal.EngineIO.Protocol;

/// <summary>Decodes single Engine.IO packets from their string form (polling records and WebSocket text frames).</summary>
internal static class PacketCodec
{
    /// <summary>
    /// Decodes one packet string. <paramref name="protocol"/> 4 reads <c>b&lt;base64&gt;</c> as a binary message;
    /// protocol 3 reads <c>b4&lt;base64&gt;</c> (only inside polling payloads, <paramref name="allowBase64"/>).
    /// </summary>
    public static DecodeError TryDecode(ReadOnlySpan<char> wire, int protocol, bool allowBase64, out EngineIoPacket? packet)
    {
        packet = null;
        if (wire.IsEmpty)
        {
            return DecodeError.Empty;
        }
        char first = wire[0];
        if (first == 'b' && allowBase64)
        {
            var base64 = wire[1..];
            if (protocol < 4)
            {
                // v3: "b" then the packet type digit, then base64 data.
                if (base64.IsEmpty || base64[0] != '4')
                {
                    return DecodeError.UnknownType;
                }
                base64 = base64[1..];
            }
            return TryDecodeBase64(base64, out packet);
        }
        if (first < '0' || first > '6')
        {
            return DecodeError.UnknownType;
        }
        packet = EngineIoPacket.Create((EngineIoPacketType)(first - '0'), wire[1..].ToString());
        return DecodeError.None;
    }

    /// <summary>
    /// Decodes a WebSocket text frame from its UTF-8 bytes without making a string: the packet holds one copy of
    /// the frame. Base64 binary (<c>b…</c>) goes through <see cref="TryDecode"/>.
    /// </summary>
    public static DecodeError TryDecodeTextFrame(ReadOnlySpan<byte> frame, int protocol, out EngineIoPacket? packet) =>
        TryDecodeTextFrame(frame, null, protocol, out packet);

    /// <summary>As the span overload, with the frame's own array taken as the packet's (not copied): it must not change afterwards.</summary>
    public static DecodeError TryDecodeTextFrame(byte[] frame, int protocol, out EngineIoPacket? packet) =>
        TryDecodeTextFrame(frame, frame, protocol, out packet);

    private static DecodeError TryDecodeTextFrame(ReadOnlySpan<byte> frame, byte[]? owned, int protocol, out EngineIoPacket? packet)
    {
        packet = null;
        if (frame.IsEmpty)
        {
            return DecodeError.Empty;
        }
        if (!System.Text.Unicode.Utf8.IsValid(frame))
        {
            return DecodeError.BadUtf8;
        }
        byte first = frame[0];
        if (first == 'b')
        {
            return TryDecode(System.Text.Encoding.UTF8.GetString(frame), protocol, allowBase64: true, out packet);
        }
        if (first < '0' || first > '6')
        {
            return DecodeError.UnknownType;
        }
        packet = EngineIoPacket.FromTextFrame(owned ?? frame.ToArray());
        return DecodeError.None;
    }

    private static DecodeError TryDecodeBase64(ReadOnlySpan<char> base64, out EngineIoPacket? packet)
    {
        packet = null;
        int max = Base64.GetMaxDecodedFromUtf8Length(base64.Length);
        var buffer = new byte[max];
        if (!Convert.TryFromBase64Chars(base64, buffer, out int written))
        {
            return DecodeError.BadBase64;
        }
        packet = EngineIoPacket.CreateBinary(buffer.AsMemory(0, written));
        return DecodeError.None;
    }

    /// <summary>Decodes a v3 WebSocket binary frame: the first byte is the packet type.</summary>
    public static DecodeError TryDecodeV3BinaryFrame(ReadOnlySpan<byte> frame, out EngineIoPacket? packet)
    {
        packet = null;
        if (frame.IsEmpty)
        {
            return DecodeError.Empty;
        }
        if (frame[0] != (byte)EngineIoPacketType.Message)
        {
            return DecodeError.UnknownType;
        }
        packet = EngineIoPacket.CreateBinary(frame[1..].ToArray());
        return DecodeError.None;
    }
}
