using System.Text;
using System.Text.Json;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>
/// One pass of <see cref="Utf8JsonReader"/> over a packet's JSON that checks all the parser promises — well-formed,
/// bounded depth, no lone surrogates — without building a tree, tells whether its values need a rewrite to be
/// JSON.stringify's (numbers, key order, duplicate keys: see <see cref="JsonCanonical"/>), and finds the
/// elements of a top-level array with, for each, whether its text is JSON.stringify's own form (no whitespace,
/// only the escapes JSON.stringify writes), so it can be passed on as it is.
/// </summary>
internal static class JsonScan
{
    /// <summary>Objects with more keys than this check duplicates with a set rather than by comparing each pair.</summary>
    private const int LinearKeyLimit = 16;

    private readonly record struct Name(int Start, int Length, byte[]? Unescaped);

    private struct ObjectFrame
    {
        public int FirstName;
        public HashSet<string>? Set;

        /// <summary>The last array-index key of the object (-1: none yet).</summary>
        public long LastIndex;

        /// <summary>Whether a key that is no array index came already.</summary>
        public bool SawName;
    }

    [ThreadStatic]
    private static List<JsonSlice>? t_elements;

    [ThreadStatic]
    private static List<Name>? t_names;

    [ThreadStatic]
    private static List<ObjectFrame>? t_objects;

    /// <param name="json">One packet's JSON, UTF-8.</param>
    /// <param name="maxDepth">The deepest nesting allowed.</param>
    /// <param name="collectElements">Whether to record where each top-level array element lies.</param>
    /// <param name="root">The kind of the top-level value.</param>
    /// <param name="elements">Where each top-level array element lies, when collected.</param>
    /// <param name="error">Why the JSON was refused.</param>
    /// <param name="rewrite">Set when the JSON is valid but its values are not JSON.stringify's (a number not in
    /// ECMAScript's form or out of range, array-index keys not first in ascending order, a key given twice): the
    /// caller then takes <see cref="JsonCanonical.Rewrite"/> of it instead.</param>
    public static bool TryScan(ReadOnlySpan<byte> json, int maxDepth, bool collectElements, out JsonTokenType root, out JsonSlice[]? elements, out string error, out bool rewrite)
    {
        rewrite = false;
        root = JsonTokenType.None;
        elements = null;
        error = "";
        var found = t_elements ??= [];
        var names = t_names ??= [];
        var objects = t_objects ??= [];
        found.Clear();
        names.Clear();
        objects.Clear();
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
            if (!reader.Read())
            {
                error = "invalid JSON";
                return false;
            }
            root = reader.TokenType;
            bool collect = collectElements && root == JsonTokenType.StartArray;
            int elementStart = -1;
            bool elementCanonical = true;
            long previousEnd = reader.BytesConsumed;
            if (!Check(ref reader, json, names, objects, out bool tokenCanonical, out error, ref rewrite))
            {
                return false;
            }
            while (reader.Read())
            {
                var type = reader.TokenType;
                int depth = reader.CurrentDepth;
                int start = (int)reader.TokenStartIndex;
                bool opensElement = depth == 1 && type is JsonTokenType.StartObject or JsonTokenType.StartArray;
                if (elementStart >= 0 && !opensElement && HasWhitespace(json[(int)previousEnd..start]))
                {
                    elementCanonical = false;
                }
                if (!Check(ref reader, json, names, objects, out tokenCanonical, out error, ref rewrite))
                {
                    return false;
                }
                previousEnd = reader.BytesConsumed;
                if (!collect)
                {
                    continue;
                }
                if (opensElement)
                {
                    elementStart = start;
                    elementCanonical = true;
                }
                else if (depth == 1 && type is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    found.Add(new JsonSlice(elementStart, (int)previousEnd - elementStart, elementCanonical));
                    elementStart = -1;
                }
                else if (depth == 1)
                {
                    found.Add(new JsonSlice(start, (int)previousEnd - start, tokenCanonical));
                }
                else
                {
                    elementCanonical &= tokenCanonical;
                }
            }
        }
        catch (JsonException)
        {
            error = "invalid JSON";
            return false;
        }
        catch (InvalidOperationException)
        {
            error = "invalid JSON";
            return false;
        }
        if (collectElements && root == JsonTokenType.StartArray)
        {
            elements = found.Count == 0 ? [] : [.. found];
        }
        return true;
    }

    /// <summary>Checks the token the reader is on; canonical: whether its text is JSON.stringify's form.</summary>
    private static bool Check(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, List<Name> names, List<ObjectFrame> objects, out bool canonical, out string error, ref bool rewrite)
    {
        canonical = true;
        error = "";
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                if (reader.ValueIsEscaped && !CheckEscapes(reader.ValueSpan, out canonical))
                {
                    error = "invalid JSON value";
                    return false;
                }
                return true;
            case JsonTokenType.PropertyName:
                if (reader.ValueIsEscaped && !CheckEscapes(reader.ValueSpan, out canonical))
                {
                    error = "invalid JSON value";
                    return false;
                }
                AddName(ref reader, json, names, objects, ref rewrite);
                return true;
            case JsonTokenType.Number:
                // Any number Node's JSON.parse takes is taken: one not in ECMAScript's form (1E5, 1.0, -0, 1e21,
                // 1e400…) sends the JSON to the rewrite.
                if (!EcmaNumber.IsCanonical(reader.ValueSpan))
                {
                    rewrite = true;
                }
                return true;
            case JsonTokenType.StartObject:
                objects.Add(new ObjectFrame { FirstName = names.Count, LastIndex = -1 });
                return true;
            case JsonTokenType.EndObject:
                names.RemoveRange(objects[^1].FirstName, names.Count - objects[^1].FirstName);
                objects.RemoveAt(objects.Count - 1);
                return true;
            default:
                return true;
        }
    }

    /// <summary>
    /// Records a key of the current object. A key the object has already, or an array-index key after another key
    /// that V8 would list after it, sets <paramref name="rewrite"/>.
    /// </summary>
    private static void AddName(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, List<Name> names, List<ObjectFrame> objects, ref bool rewrite)
    {
        byte[]? unescaped = reader.ValueIsEscaped ? Encoding.UTF8.GetBytes(reader.GetString()!) : null;
        ReadOnlySpan<byte> name = unescaped ?? reader.ValueSpan;
        var frame = objects[^1];
        if (name.Length > 0 && (uint)(name[0] - '0') <= 9 && JsonCanonical.IsArrayIndex(name, out uint index))
        {
            if (frame.SawName || index <= frame.LastIndex)
            {
                rewrite = true;
            }
            frame.LastIndex = index;
        }
        else
        {
            frame.SawName = true;
        }
        objects[^1] = frame;
        if (frame.Set is not null)
        {
            if (!frame.Set.Add(Encoding.UTF8.GetString(name)))
            {
                rewrite = true;
            }
            return;
        }
        for (int n = frame.FirstName; n < names.Count; n++)
        {
            var other = names[n].Unescaped ?? json.Slice(names[n].Start, names[n].Length);
            if (other.SequenceEqual(name))
            {
                // JSON.parse keeps the last value: the rewrite does the same.
                rewrite = true;
                return;
            }
        }
        names.Add(new Name((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length, unescaped));
        if (names.Count - frame.FirstName > LinearKeyLimit)
        {
            frame.Set = new HashSet<string>(StringComparer.Ordinal);
            for (int n = frame.FirstName; n < names.Count; n++)
            {
                frame.Set.Add(Encoding.UTF8.GetString(names[n].Unescaped ?? json.Slice(names[n].Start, names[n].Length)));
            }
            objects[^1] = frame;
        }
    }

    /// <summary>
    /// Walks the escapes of a string's raw text (already well-formed per the reader): false for a lone surrogate;
    /// canonical is false for any escape JSON.stringify would not write (<c>\/</c>, <c>\u00e9</c>, surrogate pairs,
    /// upper-case hex, <c>\u000a</c> for <c>\n</c>…).
    /// </summary>
    internal static bool CheckEscapes(ReadOnlySpan<byte> raw, out bool canonical)
    {
        canonical = true;
        bool pendingHigh = false;
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '\\')
            {
                if (pendingHigh)
                {
                    return false;
                }
                continue;
            }
            byte kind = raw[i + 1];
            if (kind != 'u')
            {
                if (pendingHigh)
                {
                    return false;
                }
                if (kind == '/')
                {
                    canonical = false;
                }
                i++;
                continue;
            }
            var hex = raw.Slice(i + 2, 4);
            int value = 0;
            bool lower = true;
            foreach (byte h in hex)
            {
                value = (value << 4) | HexValue(h);
                lower &= h is not (>= (byte)'A' and <= (byte)'F');
            }
            i += 5;
            if (value is >= 0xD800 and <= 0xDBFF)
            {
                if (pendingHigh)
                {
                    return false;
                }
                pendingHigh = true;
                canonical = false;
            }
            else if (value is >= 0xDC00 and <= 0xDFFF)
            {
                if (!pendingHigh)
                {
                    return false;
                }
                pendingHigh = false;
            }
            else
            {
                if (pendingHigh)
                {
                    return false;
                }
                if (value >= 0x20 || value is '\b' or '\t' or '\n' or '\f' or '\r' || !lower)
                {
                    canonical = false;
                }
            }
        }
        return !pendingHigh;
    }

    private static int HexValue(byte h) => h switch
    {
        >= (byte)'0' and <= (byte)'9' => h - '0',
        >= (byte)'a' and <= (byte)'f' => h - 'a' + 10,
        _ => h - 'A' + 10,
    };

    private static bool HasWhitespace(ReadOnlySpan<byte> gap)
    {
        foreach (byte b in gap)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
            {
                return true;
            }
        }
        return false;
    }
}
