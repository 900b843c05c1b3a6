using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>Limits every decode enforces; the defaults are the reference parser's where it has one.</summary>
public sealed record SocketIoParserLimits(int MaxAttachments = 10, int MaxJsonDepth = 64, int MaxAckIdDigits = 15);

/// <summary>
/// Decodes and encodes Socket.IO packet strings (<c>&lt;type&gt;[&lt;n&gt;-][/nsp,][id][json]</c>) for protocols 4 and 5,
/// with strict validation: an event name is a string (or number) and not reserved, placeholders are exact,
/// attachment counts and ids are bounded, JSON depth is bounded, strings are valid UTF-16, numbers finite.
/// </summary>
public static class SocketIoParser
{
    /// <summary>Names the client may never send as events (the reference's list, plus "error").</summary>
    public static readonly IReadOnlySet<string> ReservedEvents = new HashSet<string>(StringComparer.Ordinal)
    {
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener", "error",
    };

    public static bool TryDecode(string text, int protocol, SocketIoParserLimits limits, out SocketIoPacket? packet, out string error)
    {
        packet = null;
        error = "";
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
            while (i < text.Length && char.IsAsciiDigit(text[i]) && i - start <= 3)
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
            int comma = text.IndexOf(',', i);
            int end = comma < 0 ? text.Length : comma;
            nsp = text[i..end];
            int q = nsp.IndexOf('?');
            if (q >= 0)
            {
                query = nsp[(q + 1)..];
                nsp = nsp[..q];
            }
            i = comma < 0 ? text.Length : comma + 1;
        }
        long? ackId = null;
        if (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            int start = i;
            long id = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
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
        JsonNode? data = null;
        bool hasData = i < text.Length;
        if (hasData)
        {
            if (!TryParseJson(text.AsSpan(i), limits.MaxJsonDepth, out data, out error))
            {
                return false;
            }
        }
        if (!IsPayloadValid(type, protocol, hasData, data, ackId, out error))
        {
            return false;
        }
        packet = new SocketIoPacket
        {
            Type = type,
            Namespace = nsp,
            Query = query,
            AckId = ackId,
            Data = data,
            Attachments = attachments,
        };
        return true;
    }

    private static bool IsPayloadValid(SocketIoPacketType type, int protocol, bool hasData, JsonNode? data, long? ackId, out string error)
    {
        error = "invalid payload";
        switch (type)
        {
            case SocketIoPacketType.Connect:
                // protocol 5 may carry an auth object; protocol 4 clients send none.
                return ackId is null && (!hasData || (protocol >= 5 && data is JsonObject));
            case SocketIoPacketType.Disconnect:
                return ackId is null && !hasData;
            case SocketIoPacketType.Event:
            case SocketIoPacketType.BinaryEvent:
                if (data is not JsonArray array || array.Count == 0)
                {
                    return false;
                }
                var name = array[0];
                if (name is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                {
                    if (ReservedEvents.Contains(v.GetValue<string>()))
                    {
                        error = "reserved event name";
                        return false;
                    }
                    return true;
                }
                return name is JsonValue n && n.GetValueKind() == JsonValueKind.Number;
            case SocketIoPacketType.Ack:
            case SocketIoPacketType.BinaryAck:
                return ackId is not null && data is JsonArray;
            default:
                // Clients never send ERROR / CONNECT_ERROR.
                return false;
        }
    }

    private static bool TryParseJson(ReadOnlySpan<char> json, int maxDepth, out JsonNode? node, out string error)
    {
        node = null;
        error = "";
        try
        {
            node = JsonNode.Parse(json.ToString(), documentOptions: new JsonDocumentOptions { MaxDepth = maxDepth });
            if (!Validate(node))
            {
                error = "invalid JSON value";
                return false;
            }
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            error = "invalid JSON";
            return false;
        }
    }

    /// <summary>Reads every string and number once, so a bad value fails here rather than in a handler later.</summary>
    private static bool Validate(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return true;
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    if (!Validate(child))
                    {
                        return false;
                    }
                }
                return true;
            case JsonArray arr:
                foreach (var child in arr)
                {
                    if (!Validate(child))
                    {
                        return false;
                    }
                }
                return true;
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        var s = value.GetValue<string>();
                        return !HasLoneSurrogate(s);
                    case JsonValueKind.Number:
                        return double.IsFinite(value.GetValue<double>());
                    default:
                        return true;
                }
            default:
                return true;
        }
    }

    private static bool HasLoneSurrogate(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]))
                {
                    return true;
                }
                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return true;
            }
        }
        return false;
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
