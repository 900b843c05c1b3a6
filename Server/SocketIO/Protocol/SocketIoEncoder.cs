using System.Buffers;
using System.Collections;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>A packet encoded once: its text and the binary attachments that follow it.</summary>
public sealed record EncodedPacket(string Text, IReadOnlyList<ReadOnlyMemory<byte>> Attachments);

/// <summary>
/// Encodes Socket.IO packets. Arguments may be strings, numbers, booleans, null, byte arrays / memory (sent as
/// binary attachments), <see cref="JsonNode"/> (binary nodes included), <see cref="JsonElement"/>, lists, or any
/// object System.Text.Json can serialize. JSON is written as JavaScript's JSON.stringify does: no escaping of
/// non-ASCII text.
/// </summary>
public static class SocketIoEncoder
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

    public static EncodedPacket EncodeEvent(string nsp, string eventName, IReadOnlyList<object?> args, long? ackId = null) =>
        Encode(SocketIoPacketType.Event, nsp, ackId, w =>
        {
            w.WriteStartArray();
            w.WriteStringValue(eventName);
            return args;
        });

    public static EncodedPacket EncodeAck(string nsp, long ackId, IReadOnlyList<object?> args) =>
        Encode(SocketIoPacketType.Ack, nsp, ackId, w =>
        {
            w.WriteStartArray();
            return args;
        });

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

    private static EncodedPacket Encode(SocketIoPacketType type, string nsp, long? ackId, Func<Utf8JsonWriter, IReadOnlyList<object?>> start)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        List<ReadOnlyMemory<byte>>? attachments = null;
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            var args = start(writer);
            foreach (var arg in args)
            {
                WriteValue(writer, arg, ref attachments);
            }
            writer.WriteEndArray();
        }
        int count = attachments?.Count ?? 0;
        if (count > 0)
        {
            type = type == SocketIoPacketType.Ack ? SocketIoPacketType.BinaryAck : SocketIoPacketType.BinaryEvent;
        }
        string text = Header(type, nsp, ackId, count) + Encoding.UTF8.GetString(buffer.WrittenSpan);
        if (buffer.Capacity > 1 << 20)
        {
            t_buffer = null;
        }
        return new EncodedPacket(text, (IReadOnlyList<ReadOnlyMemory<byte>>?)attachments ?? []);
    }

    private static string Header(SocketIoPacketType type, string nsp, long? ackId, int attachments)
    {
        var sb = new StringBuilder(16);
        sb.Append((char)('0' + (int)type));
        if (attachments > 0)
        {
            sb.Append(attachments).Append('-');
        }
        if (nsp != "/")
        {
            sb.Append(nsp).Append(',');
        }
        if (ackId is { } id)
        {
            sb.Append(id);
        }
        return sb.ToString();
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
                w.WriteNumberValue(n);
                break;
            case double d:
                w.WriteNumberValue(d);
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
                element.WriteTo(w);
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
                foreach (var (key, child) in obj)
                {
                    w.WritePropertyName(key);
                    WriteNode(w, child, ref attachments);
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
                else
                {
                    node.WriteTo(w);
                }
                break;
        }
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

    /// <summary>For callers that hold a non-generic list.</summary>
    internal static IReadOnlyList<object?> AsArgs(IEnumerable items) => items.Cast<object?>().ToList();
}
