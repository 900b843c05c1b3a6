using System.Buffers;
using System.Text.Json;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>
/// Writes JSON as <c>JSON.stringify(JSON.parse(x))</c> gives it in V8: numbers in ECMAScript's form
/// (<see cref="EcmaNumber"/>; out of range → <c>null</c> or <c>0</c>), in each object the integer-like keys
/// (canonical array indices, below 2^32 − 1) first in ascending order and then the others in the order they came,
/// a key given twice keeping its first position and its last value, strings escaped as JSON.stringify escapes them.
/// Used only for JSON that <see cref="JsonScan"/> found not already in that form.
/// </summary>
internal static class JsonCanonical
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JsonStringifyEncoder.Instance,
        SkipValidation = true,
    };

    /// <summary>The canonical text of one JSON value (already checked by <see cref="JsonScan"/>).</summary>
    public static byte[] Rewrite(ReadOnlySpan<byte> json, int maxDepth)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        using var document = JsonDocument.ParseValue(ref reader);
        var buffer = new ArrayBufferWriter<byte>(json.Length + 16);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, document.RootElement);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes <paramref name="element"/> in JSON.stringify's form.</summary>
    public static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(writer, element);
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValueKind.Number:
                WriteNumber(writer, element);
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>A number element: its text as sent when that is canonical, else JSON.stringify's text of its value.</summary>
    public static void WriteNumber(Utf8JsonWriter writer, JsonElement number)
    {
        var raw = JsonMarshalRaw(number);
        if (EcmaNumber.IsCanonical(raw))
        {
            writer.WriteRawValue(raw, skipInputValidation: true);
            return;
        }
        WriteDouble(writer, EcmaNumber.Parse(raw));
    }

    /// <summary>A double as JSON.stringify writes it (<c>null</c> when not finite).</summary>
    public static void WriteDouble(Utf8JsonWriter writer, double value)
    {
        Span<byte> text = stackalloc byte[EcmaNumber.MaxLength];
        int length = EcmaNumber.FormatJson(value, text);
        writer.WriteRawValue(text[..length], skipInputValidation: true);
    }

    private static ReadOnlySpan<byte> JsonMarshalRaw(JsonElement element) =>
        System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);

    private static void WriteObject(Utf8JsonWriter writer, JsonElement obj)
    {
        var names = new List<string>();
        var values = new List<JsonElement>();
        Dictionary<string, int>? positions = null;
        foreach (var property in obj.EnumerateObject())
        {
            string name = property.Name;
            positions ??= new Dictionary<string, int>(StringComparer.Ordinal);
            if (positions.TryGetValue(name, out int at))
            {
                // JSON.parse: the later value replaces the earlier, which keeps its place.
                values[at] = property.Value;
                continue;
            }
            positions[name] = names.Count;
            names.Add(name);
            values.Add(property.Value);
        }
        writer.WriteStartObject();
        foreach (int i in Order(names))
        {
            writer.WritePropertyName(names[i]);
            Write(writer, values[i]);
        }
        writer.WriteEndObject();
    }

    /// <summary>The order V8 gives an object's own keys: array indices ascending, then the rest as inserted.</summary>
    public static IEnumerable<int> Order(IReadOnlyList<string> names)
    {
        List<(uint Index, int At)>? indices = null;
        for (int i = 0; i < names.Count; i++)
        {
            if (IsArrayIndex(names[i], out uint index))
            {
                (indices ??= []).Add((index, i));
            }
        }
        if (indices is null)
        {
            for (int i = 0; i < names.Count; i++)
            {
                yield return i;
            }
            yield break;
        }
        indices.Sort((a, b) => a.Index.CompareTo(b.Index));
        foreach (var (_, at) in indices)
        {
            yield return at;
        }
        for (int i = 0; i < names.Count; i++)
        {
            if (!IsArrayIndex(names[i], out _))
            {
                yield return i;
            }
        }
    }

    /// <summary>
    /// Whether a key is a canonical array index: "0", or digits without a leading zero, below 2^32 − 1 (V8 lists
    /// such keys first, in ascending order).
    /// </summary>
    public static bool IsArrayIndex(ReadOnlySpan<char> name, out uint index)
    {
        index = 0;
        if (name.Length == 0 || name.Length > 10 || (name[0] == '0' && name.Length > 1))
        {
            return false;
        }
        ulong value = 0;
        foreach (char c in name)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            value = (value * 10) + (uint)(c - '0');
        }
        index = (uint)value;
        return value < uint.MaxValue;
    }

    /// <summary>The same test on a key's UTF-8 text (unescaped).</summary>
    public static bool IsArrayIndex(ReadOnlySpan<byte> name, out uint index)
    {
        index = 0;
        if (name.Length == 0 || name.Length > 10 || (name[0] == '0' && name.Length > 1))
        {
            return false;
        }
        ulong value = 0;
        foreach (byte c in name)
        {
            if ((uint)(c - '0') > 9)
            {
                return false;
            }
            value = (value * 10) + (uint)(c - '0');
        }
        index = (uint)value;
        return value < uint.MaxValue;
    }
}
