using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Signaling;

/// <summary>
/// JavaScript's <c>String(value)</c> for JSON values, as the codelab's <c>'room ' + room</c> computes it:
/// numbers per Number::toString (1e21 → "1e+21", -0 → "0"), objects "[object Object]", arrays joined by ","
/// with null inside an array as "", a missing argument "undefined", binary (a Buffer) decoded as UTF-8.
/// </summary>
public static class JsString
{
    public const string Undefined = "undefined";

    public static string From(JsonNode? value, bool present = true)
    {
        if (!present)
        {
            return Undefined;
        }
        return value switch
        {
            null => "null",
            JsonObject => "[object Object]",
            JsonArray array => JoinArray(array),
            JsonValue v when SocketIoBinary.TryGet(v, out var bytes) => Encoding.UTF8.GetString(bytes.Span),
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => v.GetValue<string>(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Number => Number(v.GetValue<double>()),
                _ => "null",
            },
            _ => "",
        };
    }

    private static string JoinArray(JsonArray array)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < array.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }
            if (array[i] is { } item)
            {
                sb.Append(From(item));
            }
        }
        return sb.ToString();
    }

    /// <summary>ECMAScript Number::toString(10).</summary>
    public static string Number(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }
        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0)
        {
            return "0";
        }
        string sign = d < 0 ? "-" : "";
        // "R" gives the shortest digits that round-trip, as ECMAScript requires.
        string shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        ParseDigits(shortest, out string digits, out int n);
        int k = digits.Length;
        string body;
        if (k <= n && n <= 21)
        {
            body = digits + new string('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            body = digits[..n] + "." + digits[n..];
        }
        else if (-6 < n && n <= 0)
        {
            body = "0." + new string('0', -n) + digits;
        }
        else
        {
            int e = n - 1;
            string exp = (e >= 0 ? "+" : "-") + Math.Abs(e).ToString(CultureInfo.InvariantCulture);
            body = k == 1 ? digits + "e" + exp : digits[..1] + "." + digits[1..] + "e" + exp;
        }
        return sign + body;
    }

    /// <summary>Splits a round-trip string into significant digits and n, where value = 0.digits × 10^n.</summary>
    private static void ParseDigits(string s, out string digits, out int n)
    {
        int exp = 0;
        int e = s.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exp = int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            s = s[..e];
        }
        int dot = s.IndexOf('.');
        string intPart = dot < 0 ? s : s[..dot];
        string frac = dot < 0 ? "" : s[(dot + 1)..];
        string all = intPart + frac;
        int pointPos = intPart.Length + exp;
        int lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0')
        {
            lead++;
        }
        all = all[lead..];
        pointPos -= lead;
        digits = all.TrimEnd('0');
        if (digits.Length == 0)
        {
            digits = "0";
        }
        n = pointPos;
    }
}
