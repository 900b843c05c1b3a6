using System.Globalization;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>
/// Numbers as JavaScript writes them: ECMAScript's Number::toString(10) — the shortest digits that round-trip
/// (.NET's "R" gives the same digits), plain notation from 1e-7 to below 1e21, otherwise <c>1e+21</c> /
/// <c>1.5e-7</c>, and <c>-0</c> written <c>0</c>. JSON.stringify writes a non-finite number as <c>null</c>.
/// </summary>
internal static class EcmaNumber
{
    /// <summary>Longest output: sign, 17 digits, "0." and 6 zeros or a dot and "e-324"; 32 is ample.</summary>
    public const int MaxLength = 32;

    /// <summary>
    /// Whether a JSON number token is already JSON.stringify's text of its value. Integers of up to 15 digits (no
    /// leading zero, not <c>-0</c>) are decided from their text alone; anything else is parsed and written again.
    /// </summary>
    public static bool IsCanonical(ReadOnlySpan<byte> token)
    {
        int i = token.Length > 0 && token[0] == '-' ? 1 : 0;
        int digits = token.Length - i;
        if (digits is > 0 and <= 15)
        {
            bool allDigits = true;
            for (int j = i; j < token.Length; j++)
            {
                if ((uint)(token[j] - '0') > 9)
                {
                    allDigits = false;
                    break;
                }
            }
            if (allDigits)
            {
                // JSON forbids leading zeros, so only "0" and "-0" start with one.
                return !(token[i] == '0' && i == 1);
            }
        }
        Span<byte> canonical = stackalloc byte[MaxLength];
        int written = FormatJson(Parse(token), canonical);
        return canonical[..written].SequenceEqual(token);
    }

    /// <summary>A JSON number token's value (±Infinity past the range of a double, ±0 below it).</summary>
    public static double Parse(ReadOnlySpan<byte> token) =>
        double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>JSON.stringify's text of <paramref name="value"/>: <c>null</c> when it is not finite.</summary>
    public static int FormatJson(double value, Span<byte> into)
    {
        if (!double.IsFinite(value))
        {
            "null"u8.CopyTo(into);
            return 4;
        }
        return Format(value, into);
    }

    /// <summary>Number::toString(10) of a finite value, as UTF-8.</summary>
    public static int Format(double value, Span<byte> into)
    {
        if (value == 0)
        {
            into[0] = (byte)'0';
            return 1;
        }
        Span<byte> shortest = stackalloc byte[MaxLength];
        Math.Abs(value).TryFormat(shortest, out int length, "R", CultureInfo.InvariantCulture);
        // Split .NET's text into its significant digits and n, where the value is 0.digits × 10^n.
        Span<byte> digits = stackalloc byte[MaxLength];
        int k = 0;
        int pointAt = -1;
        int exponent = 0;
        int i = 0;
        for (; i < length; i++)
        {
            byte c = shortest[i];
            if (c == '.')
            {
                pointAt = k;
            }
            else if (c is (byte)'E' or (byte)'e')
            {
                exponent = int.Parse(shortest[(i + 1)..length], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                break;
            }
            else
            {
                digits[k++] = c;
            }
        }
        int n = (pointAt < 0 ? k : pointAt) + exponent;
        int lead = 0;
        while (lead < k - 1 && digits[lead] == '0')
        {
            lead++;
        }
        digits = digits[lead..k];
        n -= lead;
        k = digits.Length;
        while (k > 1 && digits[k - 1] == '0')
        {
            k--;
        }
        digits = digits[..k];

        int at = 0;
        if (value < 0)
        {
            into[at++] = (byte)'-';
        }
        if (k <= n && n <= 21)
        {
            digits.CopyTo(into[at..]);
            at += k;
            into.Slice(at, n - k).Fill((byte)'0');
            return at + n - k;
        }
        if (0 < n && n <= 21)
        {
            digits[..n].CopyTo(into[at..]);
            at += n;
            into[at++] = (byte)'.';
            digits[n..].CopyTo(into[at..]);
            return at + k - n;
        }
        if (-6 < n && n <= 0)
        {
            into[at++] = (byte)'0';
            into[at++] = (byte)'.';
            into.Slice(at, -n).Fill((byte)'0');
            at += -n;
            digits.CopyTo(into[at..]);
            return at + k;
        }
        into[at++] = digits[0];
        if (k > 1)
        {
            into[at++] = (byte)'.';
            digits[1..].CopyTo(into[at..]);
            at += k - 1;
        }
        into[at++] = (byte)'e';
        int e = n - 1;
        into[at++] = e >= 0 ? (byte)'+' : (byte)'-';
        Math.Abs(e).TryFormat(into[at..], out int expLength, default, CultureInfo.InvariantCulture);
        return at + expLength;
    }
}
