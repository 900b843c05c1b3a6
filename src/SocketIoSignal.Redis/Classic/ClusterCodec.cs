using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Redis.Classic;

/// <summary>The request types of <c>@socket.io/redis-adapter</c> 8.x (classic mode), by their wire number.</summary>
internal enum ClusterRequestType
{
    Sockets = 0,
    AllRooms = 1,
    RemoteJoin = 2,
    RemoteLeave = 3,
    RemoteDisconnect = 4,
    RemoteFetch = 5,
    ServerSideEmit = 6,
    Broadcast = 7,
    BroadcastClientCount = 8,
    BroadcastAck = 9,
}

/// <summary>A request or response read from Redis: its fields as JSON, binary values as placeholders.</summary>
internal sealed record ClusterMessage(JsonObject Root, IReadOnlyList<ReadOnlyMemory<byte>> Attachments)
{
    public string? String(string name) => Root[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>The request type, or -1 when absent or not a small integer.</summary>
    public int Type => Root["type"] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out int t) ? t : -1;

    public string? RequestId => Id(Root["requestId"]);

    public string? Uid => Id(Root["uid"]);

    /// <summary>Node's uid2 ids are strings; a number is accepted as its decimal text, as JavaScript compares it.</summary>
    private static string? Id(JsonNode? node) => node is JsonValue v
        ? v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.Number => v.ToJsonString(),
            _ => null,
        }
        : null;
}

/// <summary>
/// The Node adapter's request and response messages: it writes most as JSON text and the acknowledged broadcast
/// (request and acknowledgements) as MessagePack; it reads either (a message starting with <c>{</c> is JSON).
/// </summary>
internal static class ClusterCodec
{
    /// <summary>
    /// A packet of this server as the cluster adapters carry it: <c>{type: 2, data, nsp}</c>, its data parsed with
    /// the same depth limit as every message read from Redis.
    /// </summary>
    public static JsonObject PacketJson(EncodedPacket packet, string nsp)
    {
        string text = packet.Text;
        var data = JsonNode.Parse(text.AsSpan(RedisWire.JsonStart(text)).ToString(), documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth });
        return new JsonObject { ["type"] = 2, ["data"] = data, ["nsp"] = nsp };
    }

    private const int MaxDepth = MessagePackReader.MaxDepth;

    internal static readonly JsonSerializerOptions Json = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = MaxDepth,
    };

    /// <summary>Reads a message; throws <see cref="FormatException"/> when it is not a JSON or MessagePack object.</summary>
    public static ClusterMessage Decode(ReadOnlySpan<byte> payload, int maxBytes)
    {
        if (payload.Length == 0)
        {
            throw new FormatException("empty message");
        }
        if (payload.Length > maxBytes)
        {
            throw new FormatException($"message of {payload.Length} bytes over the limit of {maxBytes}");
        }
        IReadOnlyList<ReadOnlyMemory<byte>> attachments = [];
        JsonNode? root;
        try
        {
            if (payload[0] == (byte)'{')
            {
                root = JsonNode.Parse(payload, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth });
            }
            else
            {
                var parts = RedisWire.ToJson(payload);
                attachments = parts.Attachments;
                root = JsonNode.Parse(parts.Json, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth });
            }
        }
        catch (JsonException ex)
        {
            throw new FormatException("malformed JSON: " + ex.Message, ex);
        }
        catch (InvalidOperationException ex)
        {
            // Utf8JsonWriter refuses what it cannot write (e.g. nesting beyond its depth).
            throw new FormatException("malformed MessagePack: " + ex.Message, ex);
        }
        return root is JsonObject o ? new ClusterMessage(o, attachments) : throw new FormatException("an object expected");
    }

    /// <summary>JSON text, as the Node adapter's <c>JSON.stringify</c> of a request or response.</summary>
    public static byte[] EncodeJson(JsonObject message) => JsonSerializer.SerializeToUtf8Bytes(message, Json);

    /// <summary>The same object as MessagePack (notepack's encoding); placeholders become the attachments.</summary>
    public static byte[] EncodeMessagePack(JsonObject message, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        using var doc = JsonSerializer.SerializeToDocument(message, Json);
        var buffer = new ArrayBufferWriter<byte>(256);
        var w = new MessagePackWriter(buffer);
        RedisWire.WriteElement(ref w, doc.RootElement, attachments);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An array of room names as JavaScript has them (numbers are rooms too, as their text).</summary>
    public static HashSet<string> Rooms(JsonNode? node)
    {
        var rooms = new HashSet<string>(StringComparer.Ordinal);
        if (node is JsonArray array)
        {
            foreach (var item in array)
            {
                if (item is JsonValue v)
                {
                    switch (v.GetValueKind())
                    {
                        case JsonValueKind.String:
                            rooms.Add(v.GetValue<string>());
                            break;
                        case JsonValueKind.Number:
                            rooms.Add(v.ToJsonString());
                            break;
                    }
                }
            }
        }
        return rooms;
    }

    public static JsonArray RoomArray(IEnumerable<string> rooms)
    {
        var array = new JsonArray();
        foreach (var room in rooms)
        {
            array.Add(room);
        }
        return array;
    }

    /// <summary>A random request id; longer than the Node adapter's six characters so ids of two nodes do not meet.</summary>
    public static string NewId()
    {
        Span<byte> bytes = stackalloc byte[12];
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
        var text = new StringBuilder(12);
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        foreach (byte b in bytes)
        {
            text.Append(Alphabet[b % Alphabet.Length]);
        }
        return text.ToString();
    }
}
