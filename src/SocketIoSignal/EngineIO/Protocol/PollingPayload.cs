using System.Buffers;
using System.Text;

namespace SocketIoSignal.EngineIO.Protocol;

/// <summary>
/// Engine.IO polling payloads: v4 records separated by <c>\x1e</c>; v3 <c>&lt;length&gt;:&lt;packet&gt;</c> text
/// framing (length in UTF-16 code units) and the v3 binary framing used by XHR2 clients.
/// Decoders enforce a packet-count bound and never allocate from an announced length.
/// </summary>
internal static class PollingPayload
{
    public const char RecordSeparator = '\x1e';

    /// <summary>More length digits than any payload within maxHttpBufferSize can need.</summary>
    private const int MaxLengthDigits = 9;


    // ---- decoding ----

    public static DecodeError TryDecodeV4(string body, int maxPackets, List<EngineIoPacket> packets)
    {
        if (body.Length == 0)
        {
            return DecodeError.Empty;
        }
        var rest = body.AsSpan();
        while (true)
        {
            int sep = rest.IndexOf(RecordSeparator);
            var record = sep < 0 ? rest : rest[..sep];
            if (packets.Count >= maxPackets)
            {
                return DecodeError.TooManyPackets;
            }
            var error = PacketCodec.TryDecode(record, 4, allowBase64: true, out var packet);
            if (error != DecodeError.None)
            {
                return error;
            }
            packets.Add(packet!);
            if (sep < 0)
            {
                return DecodeError.None;
            }
            rest = rest[(sep + 1)..];
        }
    }

    public static DecodeError TryDecodeV3Text(string body, int maxPackets, List<EngineIoPacket> packets)
    {
        if (body.Length == 0)
        {
            return DecodeError.Empty;
        }
        var rest = body.AsSpan();
        while (!rest.IsEmpty)
        {
            int colon = rest.IndexOf(':');
            if (colon <= 0 || colon > MaxLengthDigits)
            {
                return DecodeError.BadLength;
            }
            int length = 0;
            foreach (char c in rest[..colon])
            {
                if (c < '0' || c > '9')
                {
                    return DecodeError.BadLength;
                }
                length = (length * 10) + (c - '0');
            }
            rest = rest[(colon + 1)..];
            if (length > rest.Length)
            {
                return DecodeError.Truncated;
            }
            if (length > 0)
            {
                if (packets.Count >= maxPackets)
                {
                    return DecodeError.TooManyPackets;
                }
                var error = PacketCodec.TryDecode(rest[..length], 3, allowBase64: true, out var packet);
                if (error != DecodeError.None)
                {
                    return error;
                }
                packets.Add(packet!);
            }
            rest = rest[length..];
        }
        return DecodeError.None;
    }

    public static DecodeError TryDecodeV3Binary(ReadOnlySpan<byte> body, int maxPackets, List<EngineIoPacket> packets)
    {
        if (body.IsEmpty)
        {
            return DecodeError.Empty;
        }
        while (!body.IsEmpty)
        {
            byte kind = body[0];
            if (kind > 1)
            {
                return DecodeError.UnknownType;
            }
            int i = 1;
            int length = 0;
            while (true)
            {
                if (i >= body.Length)
                {
                    return DecodeError.Truncated;
                }
                byte digit = body[i];
                if (digit == 0xFF)
                {
                    break;
                }
                if (digit > 9 || i > MaxLengthDigits)
                {
                    return DecodeError.BadLength;
                }
                length = (length * 10) + digit;
                i++;
            }
            if (i == 1)
            {
                return DecodeError.BadLength;
            }
            body = body[(i + 1)..];
            if (length > body.Length)
            {
                return DecodeError.Truncated;
            }
            if (packets.Count >= maxPackets)
            {
                return DecodeError.TooManyPackets;
            }
            var data = body[..length];
            body = body[length..];
            EngineIoPacket? packet;
            DecodeError error;
            if (kind == 0)
            {
                string text;
                try
                {
                    text = StrictUtf8.Encoding.GetString(data);
                }
                catch (DecoderFallbackException)
                {
                    return DecodeError.BadUtf8;
                }
                error = PacketCodec.TryDecode(text, 3, allowBase64: true, out packet);
            }
            else
            {
                error = PacketCodec.TryDecodeV3BinaryFrame(data, out packet);
            }
            if (error != DecodeError.None)
            {
                return error;
            }
            packets.Add(packet!);
        }
        return DecodeError.None;
    }

    /// <summary>Decodes a JSONP POST body (<c>d=&lt;payload&gt;</c>, form-encoded) into the v3 text payload it carries.</summary>
    public static bool TryReadJsonpBody(string formBody, out string payload)
    {
        payload = "";
        string? d = null;
        foreach (var pair in formBody.Split('&'))
        {
            int eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            if (Uri.UnescapeDataString(key.Replace('+', ' ')) == "d")
            {
                if (d is not null)
                {
                    return false;
                }
                d = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            }
        }
        if (d is null)
        {
            return false;
        }
        // The client escapes newlines as the two characters '\' 'n'; an escaped backslash before them stays.
        var sb = new StringBuilder(d.Length);
        for (int i = 0; i < d.Length; i++)
        {
            if (d[i] == '\\' && i + 1 < d.Length)
            {
                if (d[i + 1] == '\\' && i + 2 < d.Length && d[i + 2] == 'n')
                {
                    sb.Append("\\n");
                    i += 2;
                    continue;
                }
                if (d[i + 1] == 'n')
                {
                    sb.Append('\n');
                    i++;
                    continue;
                }
            }
            sb.Append(d[i]);
        }
        payload = sb.ToString();
        return true;
    }

    // ---- encoding ----

    /// <summary>The encoding a poll response takes, chosen from the protocol, b64 and JSONP flags.</summary>
    public enum Encoding3Or4
    {
        V4,
        V3Text,
        V3Binary,
    }

    public static Encoding3Or4 ChooseEncoding(int protocol, bool supportsBinary, IReadOnlyList<EngineIoPacket> packets)
    {
        if (protocol >= 4)
        {
            return Encoding3Or4.V4;
        }
        if (supportsBinary)
        {
            foreach (var p in packets)
            {
                if (p.IsBinary)
                {
                    return Encoding3Or4.V3Binary;
                }
            }
        }
        return Encoding3Or4.V3Text;
    }

    public static string EncodeV4(IReadOnlyList<EngineIoPacket> packets)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < packets.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(RecordSeparator);
            }
            var p = packets[i];
            if (p.IsBinary)
            {
                sb.Append('b').Append(Convert.ToBase64String(p.Binary.Span));
            }
            else
            {
                sb.Append((char)('0' + (int)p.Type)).Append(p.Text);
            }
        }
        return sb.ToString();
    }

    public static string EncodeV3Text(IReadOnlyList<EngineIoPacket> packets)
    {
        var sb = new StringBuilder();
        foreach (var p in packets)
        {
            if (p.IsBinary)
            {
                string b64 = Convert.ToBase64String(p.Binary.Span);
                sb.Append(b64.Length + 2).Append(":b4").Append(b64);
            }
            else
            {
                sb.Append(p.Text!.Length + 1).Append(':').Append((char)('0' + (int)p.Type)).Append(p.Text);
            }
        }
        return sb.ToString();
    }

    public static void EncodeV3Binary(IReadOnlyList<EngineIoPacket> packets, IBufferWriter<byte> output)
    {
        Span<byte> digits = stackalloc byte[12];
        foreach (var p in packets)
        {
            int length = p.IsBinary ? p.Binary.Length + 1 : Encoding.UTF8.GetByteCount(p.Text!) + 1;
            int n = 0;
            foreach (char c in length.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                digits[n++] = (byte)(c - '0');
            }
            var head = output.GetSpan(n + 2);
            head[0] = p.IsBinary ? (byte)1 : (byte)0;
            digits[..n].CopyTo(head[1..]);
            head[n + 1] = 0xFF;
            output.Advance(n + 2);
            if (p.IsBinary)
            {
                var span = output.GetSpan(length);
                span[0] = (byte)EngineIoPacketType.Message;
                p.Binary.Span.CopyTo(span[1..]);
                output.Advance(length);
            }
            else
            {
                var span = output.GetSpan(length);
                span[0] = (byte)('0' + (int)p.Type);
                Encoding.UTF8.GetBytes(p.Text, span[1..]);
                output.Advance(length);
            }
        }
    }

    /// <summary>Wraps a v3 text payload as a JSONP script: <c>___eio[j]("…");</c>.</summary>
    public static string EncodeJsonp(string payload, string index)
    {
        // JSON string escaping, plus U+2028/U+2029 which are line terminators in older JavaScript.
        var json = System.Text.Json.JsonSerializer.Serialize(payload, JsonpContext.Options)
            .Replace("\u2028", "\\u2028", StringComparison.Ordinal)
            .Replace("\u2029", "\\u2029", StringComparison.Ordinal);
        return $"___eio[{index}]({json});";
    }

    private static class JsonpContext
    {
        public static readonly System.Text.Json.JsonSerializerOptions Options = new()
        {
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
    }
}
