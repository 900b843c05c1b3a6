using SocketIoSignal.EngineIO.Protocol;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>
/// Decodes and encodes Socket.IO packet strings (<c>&lt;type&gt;[&lt;n&gt;-][/nsp,][id][json]</c>) for protocols 4 and 5,
/// with strict validation: an event name is a string (or number) and not reserved, placeholders are exact,
/// attachment counts and ids are bounded, JSON depth is bounded, strings are valid UTF-16, numbers finite.
/// </summary>
internal static class SocketIoParser
{
    /// <summary>Decodes a packet from its string form (polling); see the UTF-8 overload.</summary>
    public static bool TryDecode(string text, int protocol, SocketIoParserLimits limits, out SocketIoPacket? packet, out string error)
    {
        byte[] utf8;
        try
        {
            utf8 = StrictUtf8.Encoding.GetBytes(text);
        }
        catch (EncoderFallbackException)
        {
            packet = null;
            error = "invalid UTF-16";
            return false;
        }
        return TryDecode(utf8, protocol, limits, out packet, out error);
    }

    /// <summary>
    /// Decodes a packet from valid UTF-8 that stays unchanged while the packet lives (the packet keeps slices of
    /// it rather than copies). The JSON is checked in one pass and parsed into a tree only when asked for.
    /// </summary>
    public static bool TryDecode(ReadOnlyMemory<byte> utf8, int protocol, SocketIoParserLimits limits, out SocketIoPacket? packet, out string error)
    {
        packet = null;
        error = "";
        var text = utf8.Span;
        if (text.Length == 0 || text[0] < '0' || text[0] > '6')
        {
            error = "unknown packet type";
            return false;
        }
        var type = (SocketIoPacketType)(text[0] - '0');
        int i = 1;
        int attachments = 0;
        if (type is SocketIoPacketType.BinaryEvent or SocketIoPacketType.BinaryAck)
        {
            int start = i;
            while (i < text.Length && char.IsAsciiDigit((char)text[i]) && i - start <= 3)
            {
                attachments = (attachments * 10) + (text[i] - '0');
                i++;
            }
            if (i == start || i >= text.Length || text[i] != '-')
            {
                error = "illegal attachments";
                return false;
            }
            if (attachments < 1 || attachments > limits.MaxAttachments)
            {
                error = "too many attachments";
                return false;
            }
            i++;
        }
        string nsp = "/";
        string? query = null;
        if (i < text.Length && text[i] == '/')
        {
            int comma = text[i..].IndexOf((byte)',');
            int end = comma < 0 ? text.Length : i + comma;
            var name = text[i..end];
            int q = name.IndexOf((byte)'?');
            if (q >= 0)
            {
                query = Encoding.UTF8.GetString(name[(q + 1)..]);
                name = name[..q];
            }
            nsp = name.Length == 1 ? "/" : Encoding.UTF8.GetString(name);
            i = comma < 0 ? text.Length : end + 1;
        }
        long? ackId = null;
        if (i < text.Length && char.IsAsciiDigit((char)text[i]))
        {
            int start = i;
            long id = 0;
            while (i < text.Length && char.IsAsciiDigit((char)text[i]))
            {
                if (i - start >= limits.MaxAckIdDigits)
                {
                    error = "ack id too long";
                    return false;
                }
                id = (id * 10) + (text[i] - '0');
                i++;
            }
            ackId = id;
        }
        bool hasData = i < text.Length;
        var root = JsonTokenType.None;
        JsonSlice[]? elements = null;
        var data = hasData ? utf8[i..] : default;
        if (hasData)
        {
            bool isEvent = type is SocketIoPacketType.Event or SocketIoPacketType.BinaryEvent;
            if (!JsonScan.TryScan(data.Span, limits.MaxJsonDepth, isEvent, out root, out elements, out error, out bool rewrite))
            {
                return false;
            }
            if (rewrite)
            {
                // Valid JSON whose values JSON.stringify would write otherwise: from here on the packet carries
                // JSON.stringify(JSON.parse(data)), as the reference's would (relayed, parsed into trees, re-encoded).
                data = JsonCanonical.Rewrite(data.Span, limits.MaxJsonDepth);
                if (!JsonScan.TryScan(data.Span, limits.MaxJsonDepth, isEvent, out root, out elements, out error, out _))
                {
                    return false;
                }
            }
        }
        if (!IsPayloadValid(type, protocol, hasData, root, data.Span, elements, ackId, out string? eventName, out error))
        {
            return false;
        }
        packet = new SocketIoPacket
        {
            Type = type,
            Namespace = nsp,
            Query = query,
            AckId = ackId,
            RawData = data,
            MaxJsonDepth = limits.MaxJsonDepth,
            EventName = eventName,
            Elements = elements,
            Attachments = attachments,
        };
        return true;
    }

    private static bool IsPayloadValid(SocketIoPacketType type, int protocol, bool hasData, JsonTokenType root, ReadOnlySpan<byte> data,
        JsonSlice[]? elements, long? ackId, out string? eventName, out string error)
    {
        error = "invalid payload";
        eventName = null;
        switch (type)
        {
            case SocketIoPacketType.Connect:
                // protocol 5 may carry an auth object; protocol 4 clients send none.
                return ackId is null && (!hasData || (protocol >= 5 && root == JsonTokenType.StartObject));
            case SocketIoPacketType.Disconnect:
                return ackId is null && !hasData;
            case SocketIoPacketType.Event:
            case SocketIoPacketType.BinaryEvent:
                if (elements is null || elements.Length == 0)
                {
                    return false;
                }
                var first = elements[0];
                var name = data.Slice(first.Start, first.Length);
                if (name[0] == '"')
                {
                    eventName = ReadString(name);
                    if (ReservedEvents.FromClient.Contains(eventName))
                    {
                        error = "reserved event name";
                        return false;
                    }
                    return true;
                }
                if (name[0] == '-' || char.IsAsciiDigit((char)name[0]))
                {
                    // A number as the name: its text as sent, as the reference uses it.
                    eventName = Encoding.UTF8.GetString(name);
                    return true;
                }
                return false;
            case SocketIoPacketType.Ack:
            case SocketIoPacketType.BinaryAck:
                return ackId is not null && root == JsonTokenType.StartArray;
            default:
                // Clients never send ERROR / CONNECT_ERROR.
                return false;
        }
    }

    /// <summary>The value of one JSON string token (its quotes included in <paramref name="token"/>).</summary>
    private static string ReadString(ReadOnlySpan<byte> token)
    {
        var content = token[1..^1];
        if (content.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(content);
        }
        var reader = new Utf8JsonReader(token);
        reader.Read();
        return reader.GetString()!;
    }

    /// <summary>
    /// Puts the attachments where the placeholders are. Only <c>{"_placeholder":true,"num":N}</c> with an
    /// integer N in range counts; any other use of <c>_placeholder: true</c> is an error.
    /// </summary>
    public static bool TryReconstruct(SocketIoPacket packet, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        try
        {
            packet.Data = Replace(packet.Data, attachments);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static JsonNode? Replace(JsonNode? node, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj.TryGetPropertyValue("_placeholder", out var flag) && flag is JsonValue fv && fv.GetValueKind() == JsonValueKind.True)
                {
                    if (obj["num"] is JsonValue num && num.GetValueKind() == JsonValueKind.Number
                        && num.TryGetValue<int>(out int index) && index >= 0 && index < attachments.Count)
                    {
                        return SocketIoBinary.ToNode(attachments[index]);
                    }
                    throw new FormatException("illegal attachments");
                }
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    var child = obj[key];
                    var replaced = Replace(child, attachments);
                    if (!ReferenceEquals(replaced, child))
                    {
                        obj[key] = replaced;
                    }
                }
                return obj;
            case JsonArray arr:
                for (int i = 0; i < arr.Count; i++)
                {
                    var child = arr[i];
                    var replaced = Replace(child, attachments);
                    if (!ReferenceEquals(replaced, child))
                    {
                        arr[i] = replaced;
                    }
                }
                return arr;
            default:
                return node;
        }
    }
}
