using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>
/// Encodes Socket.IO packets. Arguments may be strings, numbers, booleans, null, byte arrays / memory (sent as
/// binary attachments), <see cref="JsonNode"/> (binary nodes included), <see cref="JsonElement"/>, lists, or any
/// object System.Text.Json can serialize. JSON is written as JavaScript's JSON.stringify does: no escaping of
/// non-ASCII text.
/// </summary>
internal static class SocketIoEncoder
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JsonStringifyEncoder.Instance,
        SkipValidation = true,
    };

    private static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.Web)
    {
        Encoder = JsonStringifyEncoder.Instance,
    };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static EncodedPacket EncodeEvent(string nsp, string eventName, IReadOnlyList<object?> args, long? ackId = null) =>
        Encode(SocketIoPacketType.Event, nsp, ackId, eventName, args);

    public static EncodedPacket EncodeAck(string nsp, long ackId, IReadOnlyList<object?> args) =>
        Encode(SocketIoPacketType.Ack, nsp, ackId, null, args);

    /// <summary>CONNECT as the server sends it: protocol 5 with <c>{"sid":…}</c>, protocol 4 bare.</summary>
    public static EncodedPacket EncodeConnect(string nsp, string? sid) =>
        new(Header(SocketIoPacketType.Connect, nsp, null, 0) + (sid is null ? "" : $"{{\"sid\":\"{sid}\"}}"), []);

    public static EncodedPacket EncodeDisconnect(string nsp) => new(Header(SocketIoPacketType.Disconnect, nsp, null, 0), []);

    /// <summary>The refusal of a CONNECT: protocol 5 <c>44{"message":…}</c>, protocol 4 <c>44"…"</c>.</summary>
    public static EncodedPacket EncodeConnectError(string nsp, string message, JsonNode? data, int protocol)
    {
        string body;
        if (protocol >= 5)
        {
            var obj = new JsonObject { ["message"] = message };
            if (data is not null)
            {
                obj["data"] = data.DeepClone();
            }
            body = obj.ToJsonString(SerializerOptions);
        }
        else
        {
            body = JsonSerializer.Serialize(message, SerializerOptions);
        }
        return new(Header(SocketIoPacketType.ConnectError, nsp, null, 0) + body, []);
    }

    /// <summary>
    /// Writes the JSON array into a reused buffer, then the frame — '4', the header, the JSON — into one array of
    /// its exact size: one allocation for the text whatever the number of receivers.
    /// </summary>
    private static EncodedPacket Encode(SocketIoPacketType type, string nsp, long? ackId, string? eventName, IReadOnlyList<object?> args)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        List<ReadOnlyMemory<byte>>? attachments = null;
        var writer = t_writer;
        if (writer is null)
        {
            writer = t_writer = new Utf8JsonWriter(buffer, WriterOptions);
        }
        else
        {
            writer.Reset(buffer);
        }
        writer.WriteStartArray();
        if (eventName is not null)
        {
            writer.WriteStringValue(eventName);
        }
        for (int i = 0; i < args.Count; i++)
        {
            WriteValue(writer, args[i], ref attachments);
        }
        writer.WriteEndArray();
        writer.Flush();
        int count = attachments?.Count ?? 0;
        if (count > 0)
        {
            type = type == SocketIoPacketType.Ack ? SocketIoPacketType.BinaryAck : SocketIoPacketType.BinaryEvent;
        }
        var json = buffer.WrittenSpan;
        int headerLength = HeaderLength(nsp, ackId, count);
        // Every byte is written below: no zeroing first (which a large frame would pay for).
        var frame = GC.AllocateUninitializedArray<byte>(1 + headerLength + json.Length);
        frame[0] = (byte)'4';
        WriteHeader(frame.AsSpan(1, headerLength), type, nsp, ackId, count);
        json.CopyTo(frame.AsSpan(1 + headerLength));
        if (buffer.Capacity > 1 << 20)
        {
            t_buffer = null;
            t_writer = null;
        }
        return new EncodedPacket(frame, (IReadOnlyList<ReadOnlyMemory<byte>>?)attachments ?? []);
    }

    private static int HeaderLength(string nsp, long? ackId, int attachments)
    {
        int length = 1;
        if (attachments > 0)
        {
            length += DigitCount(attachments) + 1;
        }
        if (nsp != "/")
        {
            length += Encoding.UTF8.GetByteCount(nsp) + 1;
        }
        if (ackId is { } id)
        {
            length += DigitCount(id);
        }
        return length;
    }

    /// <summary>Writes the packet's header into exactly <see cref="HeaderLength"/> bytes.</summary>
    private static void WriteHeader(Span<byte> into, SocketIoPacketType type, string nsp, long? ackId, int attachments)
    {
        into[0] = (byte)('0' + (int)type);
        int at = 1;
        if (attachments > 0)
        {
            attachments.TryFormat(into[at..], out int written, default, CultureInfo.InvariantCulture);
            at += written;
            into[at++] = (byte)'-';
        }
        if (nsp != "/")
        {
            at += Encoding.UTF8.GetBytes(nsp, into[at..]);
            into[at++] = (byte)',';
        }
        if (ackId is { } id)
        {
            id.TryFormat(into[at..], out int written, default, CultureInfo.InvariantCulture);
        }
    }

    private static int DigitCount(long value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }
        return digits;
    }

    /// <summary>
    /// The packet's header as text: the type digit, the attachment count and '-', the namespace and ',' (unless
    /// "/"), the ack id. Written by <see cref="WriteHeader"/>, the one writer of the header.
    /// </summary>
    internal static string Header(SocketIoPacketType type, string nsp, long? ackId, int attachments)
    {
        int length = HeaderLength(nsp, ackId, attachments);
        Span<byte> bytes = length <= 256 ? stackalloc byte[length] : new byte[length];
        WriteHeader(bytes, type, nsp, ackId, attachments);
        return Encoding.UTF8.GetString(bytes);
    }

    private static void WriteValue(Utf8JsonWriter w, object? value, ref List<ReadOnlyMemory<byte>>? attachments)
    {
        switch (value)
        {
            case null:
                w.WriteNullValue();
                break;
            case string s:
                w.WriteStringValue(s);
                break;
            case bool b:
                w.WriteBooleanValue(b);
                break;
            case int n:
                w.WriteNumberValue(n);
                break;
            case long n:
                // As given: a handler's long is written exactly (also past 2^53, where JavaScript would round it).
                w.WriteNumberValue(n);
                break;
            case double d:
                JsonCanonical.WriteDouble(w, d);
                break;
            case float f:
                JsonCanonical.WriteDouble(w, f);
                break;
            case byte[] bytes:
                WritePlaceholder(w, bytes, ref attachments);
                break;
            case ReadOnlyMemory<byte> memory:
                WritePlaceholder(w, memory, ref attachments);
                break;
            case SocketIoBinary binary:
                WritePlaceholder(w, binary.Data, ref attachments);
                break;
            case JsonNode node:
                WriteNode(w, node, ref attachments);
                break;
            case JsonElement element:
                JsonCanonical.Write(w, element);
                break;
            case RawJson raw:
                raw.WriteTo(w);
                break;
            case object?[] array:
                // Before the general case: an array's own loop allocates no enumerator.
                w.WriteStartArray();
                for (int i = 0; i < array.Length; i++)
                {
                    WriteValue(w, array[i], ref attachments);
                }
                w.WriteEndArray();
                break;
            case IEnumerable<object?> list:
                w.WriteStartArray();
                foreach (var item in list)
                {
                    WriteValue(w, item, ref attachments);
                }
                w.WriteEndArray();
                break;
            default:
                WriteNode(w, JsonSerializer.SerializeToNode(value, value.GetType(), SerializerOptions), ref attachments);
                break;
        }
    }

    private static void WriteNode(Utf8JsonWriter w, JsonNode? node, ref List<ReadOnlyMemory<byte>>? attachments)
    {
        switch (node)
        {
            case null:
                w.WriteNullValue();
                break;
            case JsonObject obj:
                w.WriteStartObject();
                if (KeysInV8Order(obj))
                {
                    foreach (var (key, child) in obj)
                    {
                        w.WritePropertyName(key);
                        WriteNode(w, child, ref attachments);
                    }
                }
                else
                {
                    var keys = obj.Select(p => p.Key).ToList();
                    foreach (int i in JsonCanonical.Order(keys))
                    {
                        w.WritePropertyName(keys[i]);
                        WriteNode(w, obj[keys[i]], ref attachments);
                    }
                }
                w.WriteEndObject();
                break;
            case JsonArray arr:
                w.WriteStartArray();
                foreach (var child in arr)
                {
                    WriteNode(w, child, ref attachments);
                }
                w.WriteEndArray();
                break;
            default:
                if (SocketIoBinary.TryGet(node, out var data))
                {
                    WritePlaceholder(w, data, ref attachments);
                }
                else if (node.GetValueKind() == JsonValueKind.Number)
                {
                    WriteNumberNode(w, (JsonValue)node);
                }
                else
                {
                    node.WriteTo(w);
                }
                break;
        }
    }

    /// <summary>A number as JSON.stringify writes it, whether the tree holds parsed JSON or a .NET number.</summary>
    private static void WriteNumberNode(Utf8JsonWriter w, JsonValue value)
    {
        if (value.TryGetValue(out JsonElement element))
        {
            JsonCanonical.WriteNumber(w, element);
        }
        else if (value.TryGetValue(out int i))
        {
            w.WriteNumberValue(i);
        }
        else if (value.TryGetValue(out long l))
        {
            w.WriteNumberValue(l);
        }
        else if (value.TryGetValue(out double d))
        {
            JsonCanonical.WriteDouble(w, d);
        }
        else
        {
            value.WriteTo(w);
        }
    }

    /// <summary>Whether the object's array-index keys (if any) already come first, in ascending order.</summary>
    private static bool KeysInV8Order(JsonObject obj)
    {
        long last = -1;
        bool sawName = false;
        foreach (var (key, _) in obj)
        {
            if (key.Length > 0 && char.IsAsciiDigit(key[0]) && JsonCanonical.IsArrayIndex(key, out uint index))
            {
                if (sawName || index <= last)
                {
                    return false;
                }
                last = index;
            }
            else
            {
                sawName = true;
            }
        }
        return true;
    }

    private static void WritePlaceholder(Utf8JsonWriter w, ReadOnlyMemory<byte> data, ref List<ReadOnlyMemory<byte>>? attachments)
    {
        attachments ??= [];
        w.WriteStartObject();
        w.WriteBoolean("_placeholder", true);
        w.WriteNumber("num", attachments.Count);
        w.WriteEndObject();
        attachments.Add(data);
    }
}
