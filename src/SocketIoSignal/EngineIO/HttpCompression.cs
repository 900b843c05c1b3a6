using System.Globalization;
using System.IO.Compression;

namespace SocketIoSignal.EngineIO;

/// <summary>The content coding of a compressed polling response.</summary>
internal enum ContentCoding
{
    Identity,
    Gzip,
    Deflate,
    Brotli,
}

/// <summary>
/// Polling response compression as engine.io does it: the coding chosen from <c>Accept-Encoding</c> among gzip and
/// deflate exactly as its negotiator chooses (quality, then an exact name over <c>*</c>, then the header's order,
/// then gzip before deflate; no header means identity), and the body compressed at zlib's default level.
/// </summary>
internal static class HttpCompression
{
    /// <summary>What engine.io offers for polling responses, in its order.</summary>
    private static readonly ContentCoding[] PollingCodings = [ContentCoding.Gzip, ContentCoding.Deflate];

    /// <summary>What socket.io offers for the client bundle, in its order.</summary>
    internal static readonly ContentCoding[] BundleCodings = [ContentCoding.Brotli, ContentCoding.Gzip, ContentCoding.Deflate];

    /// <summary>gzip or deflate when <paramref name="acceptEncoding"/> accepts one, else identity.</summary>
    public static ContentCoding Choose(string? acceptEncoding) => Choose(acceptEncoding, PollingCodings);

    /// <summary>The coding of <paramref name="provided"/> (in the server's order of preference) the request prefers; identity if none.</summary>
    public static ContentCoding Choose(string? acceptEncoding, ContentCoding[] provided)
    {
        if (string.IsNullOrEmpty(acceptEncoding))
        {
            return ContentCoding.Identity;
        }
        var entries = Parse(acceptEncoding);
        int best = -1;
        Priority bestPriority = default;
        for (int i = 0; i < provided.Length; i++)
        {
            var priority = PriorityOf(Name(provided[i]), i, entries);
            if (!(priority.Q > 0))
            {
                continue;
            }
            if (best < 0 || Compare(priority, bestPriority) < 0)
            {
                best = i;
                bestPriority = priority;
            }
        }
        return best < 0 ? ContentCoding.Identity : provided[best];
    }

    public static string Name(ContentCoding coding) => coding switch
    {
        ContentCoding.Gzip => "gzip",
        ContentCoding.Deflate => "deflate",
        ContentCoding.Brotli => "br",
        _ => "identity",
    };

    /// <summary>
    /// The body compressed with <paramref name="coding"/> at Node's zlib defaults: gzip and deflate (zlib's format,
    /// as Node's createDeflate) at level 6, brotli at quality 11.
    /// </summary>
    public static byte[] Compress(ReadOnlySpan<byte> body, ContentCoding coding)
    {
        var output = new MemoryStream(body.Length / 2 + 64);
        using (Stream zip = coding switch
        {
            ContentCoding.Gzip => new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true),
            ContentCoding.Brotli => new BrotliStream(output, CompressionLevel.SmallestSize, leaveOpen: true),
            _ => new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true),
        })
        {
            zip.Write(body);
        }
        return output.ToArray();
    }

    private readonly record struct Entry(string Coding, double Q, int Index);

    /// <summary>Specificity (1 exact, 0 <c>*</c>), quality, the entry's place in the header, the coding's place in ours.</summary>
    private readonly record struct Priority(int S, double Q, int O, int I);

    private static int Compare(Priority a, Priority b)
    {
        int c = b.Q.CompareTo(a.Q);
        if (c == 0)
        {
            c = b.S.CompareTo(a.S);
        }
        if (c == 0)
        {
            c = a.O.CompareTo(b.O);
        }
        return c != 0 ? c : a.I.CompareTo(b.I);
    }

    /// <summary>The entry that speaks for <paramref name="coding"/>: the most specific, then the highest quality, then the last.</summary>
    private static Priority PriorityOf(string coding, int index, List<Entry> entries)
    {
        var priority = new Priority(0, 0, -1, index);
        foreach (var entry in entries)
        {
            int s;
            if (string.Equals(entry.Coding, coding, StringComparison.OrdinalIgnoreCase))
            {
                s = 1;
            }
            else if (entry.Coding == "*")
            {
                s = 0;
            }
            else
            {
                continue;
            }
            var candidate = new Priority(s, entry.Q, entry.Index, index);
            bool better = priority.S != candidate.S ? priority.S < candidate.S
                : priority.Q != candidate.Q ? priority.Q < candidate.Q
                : priority.O < candidate.O;
            if (better)
            {
                priority = candidate;
            }
        }
        return priority;
    }

    private static List<Entry> Parse(string header)
    {
        var entries = new List<Entry>();
        var parts = header.Split(',');
        for (int i = 0; i < parts.Length; i++)
        {
            var part = parts[i].AsSpan().Trim();
            int semi = part.IndexOf(';');
            var coding = (semi < 0 ? part : part[..semi]).Trim();
            if (coding.IsEmpty || coding.ContainsAny(' ', '\t'))
            {
                continue;
            }
            double q = 1;
            if (semi >= 0)
            {
                foreach (var parameter in part[(semi + 1)..].ToString().Split(';'))
                {
                    var kv = parameter.Trim().Split('=');
                    if (kv[0] == "q")
                    {
                        q = kv.Length > 1 ? LeadingNumber(kv[1]) : double.NaN;
                        break;
                    }
                }
            }
            entries.Add(new Entry(coding.ToString(), q, i));
        }
        return entries;
    }

    /// <summary>The number at the start of <paramref name="text"/> as JavaScript's parseFloat reads it (NaN if none).</summary>
    private static double LeadingNumber(string text)
    {
        var span = text.AsSpan().TrimStart();
        int end = 0;
        while (end < span.Length && (char.IsAsciiDigit(span[end]) || span[end] == '.' || (end == 0 && span[end] is '+' or '-')))
        {
            end++;
        }
        for (; end > 0; end--)
        {
            if (double.TryParse(span[..end], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
            {
                return value;
            }
        }
        return double.NaN;
    }
}
