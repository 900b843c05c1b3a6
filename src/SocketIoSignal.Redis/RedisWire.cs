using SocketIoSignal.SocketIO.Adapter;
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Redis;

/// <summary>A broadcast read from another node.</summary>
internal sealed record RemoteBroadcast(string Namespace, EncodedPacket Packet, BroadcastTarget Target);

/// <summary>
/// The messages of Node's <c>@socket.io/redis-adapter</c> 8.x on its broadcast channels
/// (<c>{prefix}#{nsp}#</c> and <c>{prefix}#{nsp}#{room}#</c>): MessagePack of
/// <c>[uid, {type, data, nsp}, {rooms, except, flags}]</c>, where <c>data</c> is the event array with binary
/// values in place (no placeholders) and <c>type</c> is 2 (EVENT) even when it carries binary.
/// </summary>
internal static class RedisWire
{
    private const int EventType = 2;
    private const int BinaryEventType = 5;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    /// <summary>The channel a broadcast goes to: the room's own channel when it names exactly one room.</summary>
    public static string Channel(string prefix, string nsp, BroadcastTarget target)
    {
        if (target.Rooms.Count == 1)
        {
            foreach (var room in target.Rooms)
            {
                return string.Concat(prefix, "#", nsp, "#", room, "#");
            }
        }
        return string.Concat(prefix, "#", nsp, "#");
    }

    /// <summary>Encodes one broadcast as the Node adapter does: one array, ready to PUBLISH.</summary>
    public static byte[] EncodeBroadcast(string uid, string nsp, EncodedPacket packet, BroadcastTarget target)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(3);
        w.WriteString(uid);

        w.WriteMapHeader(3);
        w.WriteString("type"u8);
        w.WriteInteger(EventType);
        w.WriteString("data"u8);
        WriteData(ref w, packet);
        w.WriteString("nsp"u8);
        w.WriteString(nsp);

        w.WriteMapHeader(3);
        w.WriteString("rooms"u8);
        w.WriteArrayHeader(target.Rooms.Count);
        foreach (var room in target.Rooms)
        {
            w.WriteString(room);
        }
        w.WriteString("except"u8);
        w.WriteArrayHeader(target.Except.Count);
        foreach (var room in target.Except)
        {
            w.WriteString(room);
        }
        w.WriteString("flags"u8);
        w.WriteMapHeader(0);

        var result = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > 1 << 20)
        {
            t_buffer = null;
        }
        return result;
    }

    /// <summary>The JSON part of an encoded EVENT packet as a MessagePack array, attachments in place.</summary>
    internal static void WriteData(ref MessagePackWriter w, EncodedPacket packet)
    {
        // A connection state recovery offset is this node's store's alone: no other node can resolve it (nor does
        // the Node adapter send one), so the event goes to the cluster without it.
        string text = packet.TextWithoutRecoveryOffset;
        int start = JsonStart(text);
        int max = Encoding.UTF8.GetMaxByteCount(text.Length - start);
        byte[] rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            int length = Encoding.UTF8.GetBytes(text.AsSpan(start), rented);
            using var doc = JsonDocument.Parse(rented.AsMemory(0, length), new JsonDocumentOptions { MaxDepth = 256 });
            WriteElement(ref w, doc.RootElement, packet.Attachments);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Where the JSON of a packet's text begins: after type, attachment count, namespace and ack id.</summary>
    internal static int JsonStart(string text)
    {
        int i = 1;
        if (text.Length > 0 && (text[0] == '5' || text[0] == '6'))
        {
            int dash = text.IndexOf('-', i);
            i = dash < 0 ? i : dash + 1;
        }
        if (i < text.Length && text[i] == '/')
        {
            int comma = text.IndexOf(',', i);
            i = comma < 0 ? text.Length : comma + 1;
        }
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }
        return i;
    }

    /// <summary>A JSON value as MessagePack; placeholders naming one of <paramref name="attachments"/> become binary.</summary>
    internal static void WriteElement(ref MessagePackWriter w, JsonElement e, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                if (attachments.Count > 0 && IsPlaceholder(e, attachments.Count, out int num))
                {
                    w.WriteBinary(attachments[num].Span);
                    return;
                }
                int count = 0;
                foreach (var _ in e.EnumerateObject())
                {
                    count++;
                }
                w.WriteMapHeader(count);
                foreach (var property in e.EnumerateObject())
                {
                    w.WriteString(property.Name);
                    WriteElement(ref w, property.Value, attachments);
                }
                break;
            case JsonValueKind.Array:
                w.WriteArrayHeader(e.GetArrayLength());
                foreach (var item in e.EnumerateArray())
                {
                    WriteElement(ref w, item, attachments);
                }
                break;
            case JsonValueKind.String:
                w.WriteString(e.GetString()!);
                break;
            case JsonValueKind.Number:
                if (e.TryGetInt64(out long n))
                {
                    w.WriteInteger(n);
                }
                else
                {
                    w.WriteNumber(e.GetDouble());
                }
                break;
            case JsonValueKind.True:
                w.WriteBoolean(true);
                break;
            case JsonValueKind.False:
                w.WriteBoolean(false);
                break;
            default:
                w.WriteNil();
                break;
        }
    }

    private static bool IsPlaceholder(JsonElement e, int attachmentCount, out int num)
    {
        num = -1;
        if (e.TryGetProperty("_placeholder", out var flag) && flag.ValueKind == JsonValueKind.True
            && e.TryGetProperty("num", out var n) && n.TryGetInt32(out num))
        {
            return num >= 0 && num < attachmentCount;
        }
        return false;
    }

    // ---- from other nodes ----

    /// <summary>
    /// Reads a broadcast; null when it is this node's own (same uid), not an event, or not for a namespace this
    /// node knows. Throws <see cref="FormatException"/> on malformed input.
    /// </summary>
    public static RemoteBroadcast? DecodeBroadcast(ReadOnlySpan<byte> message, ReadOnlySpan<byte> ownUid, Func<string, bool> knownNamespace)
    {
        var r = new MessagePackReader(message);
        if (r.ReadArrayHeader() < 3)
        {
            throw new FormatException("broadcast: [uid, packet, opts] expected");
        }
        if (r.PeekType() == MessagePackType.String)
        {
            if (r.ReadStringBytes().SequenceEqual(ownUid))
            {
                return null;
            }
        }
        else
        {
            r.Skip();
        }

        int type = -1;
        string nsp = "/";
        EncodedPacketParts? data = null;
        for (int n = r.ReadMapHeader(); n > 0; n--)
        {
            var key = ReadKey(ref r);
            if (key.SequenceEqual("type"u8) && r.PeekType() == MessagePackType.Integer)
            {
                type = (int)r.ReadInteger();
            }
            else if (key.SequenceEqual("nsp"u8) && r.PeekType() == MessagePackType.String)
            {
                nsp = r.ReadString();
            }
            else if (key.SequenceEqual("data"u8) && r.PeekType() == MessagePackType.Array)
            {
                data = ReadData(ref r);
            }
            else
            {
                r.Skip();
            }
        }
        if ((type != EventType && type != BinaryEventType) || data is null || !knownNamespace(nsp))
        {
            return null;
        }

        var rooms = new HashSet<string>(StringComparer.Ordinal);
        var except = new HashSet<string>(StringComparer.Ordinal);
        bool local = false;
        for (int n = r.ReadMapHeader(); n > 0; n--)
        {
            var key = ReadKey(ref r);
            if (key.SequenceEqual("rooms"u8) && r.PeekType() == MessagePackType.Array)
            {
                ReadRooms(ref r, rooms);
            }
            else if (key.SequenceEqual("except"u8) && r.PeekType() == MessagePackType.Array)
            {
                ReadRooms(ref r, except);
            }
            else if (key.SequenceEqual("flags"u8) && r.PeekType() == MessagePackType.Map)
            {
                for (int f = r.ReadMapHeader(); f > 0; f--)
                {
                    var flag = ReadKey(ref r);
                    if (flag.SequenceEqual("local"u8) && r.PeekType() == MessagePackType.Boolean)
                    {
                        local = r.ReadBoolean();
                    }
                    else
                    {
                        r.Skip();
                    }
                }
            }
            else
            {
                r.Skip();
            }
        }
        if (local)
        {
            return null;
        }
        int attachments = data.Value.Attachments.Count;
        var packetType = attachments > 0 ? SocketIoPacketType.BinaryEvent : SocketIoPacketType.Event;
        string text = SocketIoEncoder.Header(packetType, nsp, null, attachments) + data.Value.Json;
        return new RemoteBroadcast(nsp, new EncodedPacket(text, data.Value.Attachments), new BroadcastTarget(rooms, except));
    }

    internal readonly record struct EncodedPacketParts(string Json, IReadOnlyList<ReadOnlyMemory<byte>> Attachments);

    private static ReadOnlySpan<byte> ReadKey(ref MessagePackReader r)
    {
        if (r.PeekType() == MessagePackType.String)
        {
            return r.ReadStringBytes();
        }
        r.Skip();
        return default;
    }

    private static void ReadRooms(ref MessagePackReader r, HashSet<string> into)
    {
        for (int n = r.ReadArrayHeader(); n > 0; n--)
        {
            switch (r.PeekType())
            {
                case MessagePackType.String:
                    into.Add(r.ReadString());
                    break;
                case MessagePackType.Integer when !r.PeekIsLargeUnsigned():
                    into.Add(r.ReadInteger().ToString(CultureInfo.InvariantCulture));
                    break;
                case MessagePackType.Float:
                    into.Add(JsNumber(r.ReadDouble()));
                    break;
                default:
                    r.Skip();
                    break;
            }
        }
    }

    /// <summary>A whole MessagePack value as JSON text (binary values as placeholders, in order) and the binaries.</summary>
    internal static EncodedPacketParts ToJson(ReadOnlySpan<byte> message)
    {
        var r = new MessagePackReader(message);
        return ReadData(ref r);
    }

    private static EncodedPacketParts ReadData(ref MessagePackReader r)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        List<ReadOnlyMemory<byte>>? attachments = null;
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteJson(ref r, writer, ref attachments, 0);
        }
        string json = Encoding.UTF8.GetString(buffer.WrittenSpan);
        if (buffer.Capacity > 1 << 20)
        {
            t_buffer = null;
        }
        return new EncodedPacketParts(json, (IReadOnlyList<ReadOnlyMemory<byte>>?)attachments ?? []);
    }

    /// <summary>One MessagePack value as JavaScript's JSON.stringify writes it; binary becomes a placeholder.</summary>
    private static void WriteJson(ref MessagePackReader r, Utf8JsonWriter w, ref List<ReadOnlyMemory<byte>>? attachments, int depth)
    {
        if (depth > 256)
        {
            throw new FormatException("broadcast: nested too deeply");
        }
        switch (r.PeekType())
        {
            case MessagePackType.Nil:
                r.ReadNil();
                w.WriteNullValue();
                break;
            case MessagePackType.Boolean:
                w.WriteBooleanValue(r.ReadBoolean());
                break;
            case MessagePackType.Integer when r.PeekIsLargeUnsigned():
                w.WriteRawValue(JsNumber(r.ReadDouble()), skipInputValidation: true);
                break;
            case MessagePackType.Integer:
                w.WriteNumberValue(r.ReadInteger());
                break;
            case MessagePackType.Float:
                double d = r.ReadDouble();
                if (double.IsFinite(d))
                {
                    w.WriteRawValue(JsNumber(d), skipInputValidation: true);
                }
                else
                {
                    w.WriteNullValue();
                }
                break;
            case MessagePackType.String:
                w.WriteStringValue(r.ReadStringBytes());
                break;
            case MessagePackType.Binary:
                attachments ??= [];
                w.WriteStartObject();
                w.WriteBoolean("_placeholder"u8, true);
                w.WriteNumber("num"u8, attachments.Count);
                w.WriteEndObject();
                attachments.Add(r.ReadBinary().ToArray());
                break;
            case MessagePackType.Extension:
                var ext = r.ReadExtension(out sbyte extType);
                WriteExtension(extType, ext, w);
                break;
            case MessagePackType.Array:
                w.WriteStartArray();
                for (int n = r.ReadArrayHeader(); n > 0; n--)
                {
                    WriteJson(ref r, w, ref attachments, depth + 1);
                }
                w.WriteEndArray();
                break;
            case MessagePackType.Map:
                w.WriteStartObject();
                for (int n = r.ReadMapHeader(); n > 0; n--)
                {
                    string key = r.PeekType() switch
                    {
                        MessagePackType.String => r.ReadString(),
                        MessagePackType.Integer when !r.PeekIsLargeUnsigned() => r.ReadInteger().ToString(CultureInfo.InvariantCulture),
                        _ => SkipKey(ref r),
                    };
                    if (IsUndefined(ref r))
                    {
                        r.Skip();
                        continue;
                    }
                    w.WritePropertyName(key);
                    WriteJson(ref r, w, ref attachments, depth + 1);
                }
                w.WriteEndObject();
                break;
        }
    }

    private static string SkipKey(ref MessagePackReader r)
    {
        r.Skip();
        return "";
    }

    /// <summary>notepack's undefined: fixext 1, type 0, data 0.</summary>
    private static bool IsUndefined(ref MessagePackReader r)
    {
        if (r.PeekType() != MessagePackType.Extension)
        {
            return false;
        }
        var copy = r;
        var data = copy.ReadExtension(out sbyte type);
        return type == 0 && data.Length == 1 && data[0] == 0;
    }

    private static void WriteExtension(sbyte type, ReadOnlySpan<byte> data, Utf8JsonWriter w)
    {
        // -1 is MessagePack's timestamp: notepack reads it as a Date, which JSON.stringify writes as ISO 8601.
        if (type == -1 && TryTimestamp(data, out var time))
        {
            w.WriteStringValue(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            return;
        }
        w.WriteNullValue();
    }

    private static bool TryTimestamp(ReadOnlySpan<byte> data, out DateTimeOffset time)
    {
        time = default;
        long seconds;
        long nanos;
        switch (data.Length)
        {
            case 4:
                seconds = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data);
                nanos = 0;
                break;
            case 8:
                ulong v = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(data);
                nanos = (long)(v >> 34);
                seconds = (long)(v & 0x3_ffff_ffffUL);
                break;
            case 12:
                nanos = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data);
                seconds = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(data[4..]);
                break;
            default:
                return false;
        }
        try
        {
            time = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanos / 100);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>A double as JavaScript's Number#toString writes it (shortest round trip, JS exponent rules).</summary>
    internal static string JsNumber(double value)
    {
        if (value == 0)
        {
            return "0";
        }
        double abs = Math.Abs(value);
        if (Math.Floor(value) == value && abs < 1e21)
        {
            return new System.Numerics.BigInteger(value).ToString(CultureInfo.InvariantCulture);
        }
        string r = value.ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOf('E');
        if (e < 0)
        {
            return r;
        }
        // "1.5E-07" -> mantissa and exponent, then JavaScript's form.
        string mantissa = r[..e];
        int exponent = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        if (abs >= 1e21 || abs < 1e-6)
        {
            return mantissa + "e" + (exponent >= 0 ? "+" : "-") + Math.Abs(exponent).ToString(CultureInfo.InvariantCulture);
        }
        return value.ToString("0.#############################", CultureInfo.InvariantCulture);
    }
}
