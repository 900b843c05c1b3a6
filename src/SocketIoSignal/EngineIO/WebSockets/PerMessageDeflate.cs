using System.Buffers;
using Microsoft.Extensions.Primitives;

namespace SocketIoSignal.EngineIO.WebSockets;

/// <summary>The permessage-deflate parameters agreed with one client (RFC 7692 §7.1).</summary>
internal sealed record DeflateParameters(bool ServerNoContextTakeover, bool ClientNoContextTakeover, int ServerMaxWindowBits, int ClientMaxWindowBits)
{
    /// <summary>The Sec-WebSocket-Extensions response header that accepts the offer.</summary>
    public string ResponseHeader
    {
        get
        {
            var header = "permessage-deflate";
            if (ServerNoContextTakeover)
            {
                header += "; server_no_context_takeover";
            }
            if (ClientNoContextTakeover)
            {
                header += "; client_no_context_takeover";
            }
            if (ServerMaxWindowBits < 15)
            {
                header += "; server_max_window_bits=" + ServerMaxWindowBits;
            }
            if (ClientMaxWindowBits < 15)
            {
                header += "; client_max_window_bits=" + ClientMaxWindowBits;
            }
            return header;
        }
    }
}

/// <summary>
/// permessage-deflate (RFC 7692): the negotiation, and one connection's compressor and decompressor. Without
/// context takeover on a side, that side's zlib stream is one per thread, shared by all connections (reset per
/// message), so such a connection holds no zlib memory at all; with it, the connection holds its own stream,
/// made at its first compressed message.
/// </summary>
internal sealed class PerMessageDeflate : IDisposable
{
    private static readonly byte[] Tail = [0x00, 0x00, 0xFF, 0xFF];

    [ThreadStatic]
    private static ZLibStream?[]? t_sharedDeflaters;

    [ThreadStatic]
    private static ZLibStream?[]? t_sharedInflaters;

    [ThreadStatic]
    private static byte[]? t_deflateScratch;

    private readonly DeflateParameters _parameters;
    private ZLibStream? _deflater;
    private ZLibStream? _inflater;
    private bool _disposed;

    public PerMessageDeflate(DeflateParameters parameters, int threshold)
    {
        _parameters = parameters;
        Threshold = threshold;
    }

    public DeflateParameters Parameters => _parameters;

    /// <summary>Messages shorter than this are sent as they are.</summary>
    public int Threshold { get; }

    /// <summary>
    /// Picks the first acceptable permessage-deflate offer of the client's Sec-WebSocket-Extensions header, or null
    /// (no offer, none acceptable: the connection goes on without the extension).
    /// </summary>
    public static DeflateParameters? Negotiate(StringValues header, EngineIoOptions options)
    {
        foreach (var line in header)
        {
            if (line is null)
            {
                continue;
            }
            foreach (var offer in line.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (TryAccept(offer, options) is { } accepted)
                {
                    return accepted;
                }
            }
        }
        return null;
    }

    private static DeflateParameters? TryAccept(string offer, EngineIoOptions options)
    {
        var parts = offer.Split(';', StringSplitOptions.TrimEntries);
        if (!parts[0].Equals("permessage-deflate", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        bool serverNoTakeover = options.PerMessageDeflateServerNoContextTakeover;
        bool clientNoTakeover = options.PerMessageDeflateClientNoContextTakeover;
        int serverBits = options.PerMessageDeflateServerMaxWindowBits;
        int clientBits = 15;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 1; i < parts.Length; i++)
        {
            var part = parts[i];
            int eq = part.IndexOf('=');
            string name = (eq < 0 ? part : part[..eq]).Trim();
            string? value = eq < 0 ? null : part[(eq + 1)..].Trim().Trim('"');
            if (!seen.Add(name))
            {
                // RFC 7692 §7: a parameter twice makes the offer invalid.
                return null;
            }
            switch (name.ToLowerInvariant())
            {
                case "server_no_context_takeover" when value is null:
                    serverNoTakeover = true;
                    break;
                case "client_no_context_takeover" when value is null:
                    // The client can forget its window; we ask it to when configured so.
                    break;
                case "server_max_window_bits" when value is not null && TryBits(value, out int bits):
                    // zlib's raw deflate has no 8-bit window: an offer that asks for it is declined.
                    if (bits < 9)
                    {
                        return null;
                    }
                    serverBits = Math.Min(serverBits, bits);
                    break;
                case "client_max_window_bits":
                    int offered = 15;
                    if (value is not null && !TryBits(value, out offered))
                    {
                        return null;
                    }
                    clientBits = Math.Min(offered, options.PerMessageDeflateClientMaxWindowBits);
                    break;
                default:
                    return null;
            }
        }
        return new DeflateParameters(serverNoTakeover, clientNoTakeover, serverBits, clientBits);
    }

    private static bool TryBits(string value, out int bits) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out bits) && bits is >= 8 and <= 15;

    /// <summary>
    /// The compressed payload of a message (RFC 7692 §7.2.1, the final 00 00 FF FF removed), or null when it would
    /// not be smaller. The result is the caller's. Without server context takeover it depends on nothing but the
    /// message and the window bits, so it may be shared between connections.
    /// </summary>
    public byte[]? Compress(ReadOnlySpan<byte> message)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ZLibStream deflater;
        int flush;
        if (_parameters.ServerNoContextTakeover)
        {
            var shared = t_sharedDeflaters ??= new ZLibStream?[16];
            deflater = shared[_parameters.ServerMaxWindowBits] ??= ZLibStream.CreateDeflater(_parameters.ServerMaxWindowBits);
            // A full flush: what follows refers to nothing before it, so the stream is as good as new.
            flush = ZLibStream.FullFlush;
        }
        else
        {
            deflater = _deflater ??= ZLibStream.CreateDeflater(_parameters.ServerMaxWindowBits);
            flush = ZLibStream.SyncFlush;
        }
        var scratch = t_deflateScratch ??= new byte[16 * 1024];
        int written = 0;
        var input = message;
        while (true)
        {
            if (written == scratch.Length)
            {
                Array.Resize(ref scratch, scratch.Length * 2);
                if (scratch.Length <= 1 << 20)
                {
                    t_deflateScratch = scratch;
                }
            }
            var status = deflater.Step(ref input, scratch.AsSpan(written), flush, out int produced);
            written += produced;
            if (status == ZLibStream.Status.Corrupt)
            {
                throw new InvalidOperationException("deflate failed");
            }
            if (input.IsEmpty && written < scratch.Length)
            {
                break;
            }
        }
        // The flush ends with an empty stored block, 00 00 FF FF, which the receiver adds back.
        if (written < 4 || !scratch.AsSpan(written - 4, 4).SequenceEqual(Tail))
        {
            throw new InvalidOperationException("deflate flush did not end with an empty stored block");
        }
        written -= 4;
        return written >= message.Length ? null : scratch.AsSpan(0, written).ToArray();
    }

    /// <summary>
    /// Inflates one message's payload (<paramref name="compressed"/>, with room for 4 more bytes after
    /// <paramref name="length"/>) into a new array of at most <paramref name="limit"/> bytes. Stops as soon as the
    /// output would pass the limit (<see cref="InflateResult.TooBig"/>), before inflating further.
    /// </summary>
    public InflateResult Decompress(byte[] compressed, int length, int limit, out byte[]? message)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        message = null;
        ZLibStream inflater;
        if (_parameters.ClientNoContextTakeover)
        {
            var shared = t_sharedInflaters ??= new ZLibStream?[16];
            inflater = shared[_parameters.ClientMaxWindowBits] ??= ZLibStream.CreateInflater(_parameters.ClientMaxWindowBits);
            inflater.ResetInflater();
        }
        else
        {
            inflater = _inflater ??= ZLibStream.CreateInflater(_parameters.ClientMaxWindowBits);
        }
        Tail.CopyTo(compressed.AsSpan(length));
        ReadOnlySpan<byte> input = compressed.AsSpan(0, length + 4);
        var output = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, Math.Max(4096, length * 4)));
        int written = 0;
        try
        {
            while (true)
            {
                int before = input.Length;
                var status = inflater.Step(ref input, output.AsSpan(written, Math.Min(output.Length, limit + 1) - written), ZLibStream.SyncFlush, out int produced);
                written += produced;
                if (status == ZLibStream.Status.Corrupt)
                {
                    return InflateResult.Corrupt;
                }
                if (written > limit)
                {
                    return InflateResult.TooBig;
                }
                if (status == ZLibStream.Status.StreamEnd)
                {
                    // A final block ended the DEFLATE stream; what follows starts a new one.
                    inflater.ResetInflater();
                }
                if (written == output.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, output.Length * 2));
                    output.AsSpan(0, written).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(output);
                    output = bigger;
                    continue;
                }
                if (input.IsEmpty)
                {
                    break;
                }
                if (produced == 0 && input.Length == before && status != ZLibStream.Status.StreamEnd)
                {
                    return InflateResult.Corrupt;
                }
            }
            message = output.AsSpan(0, written).ToArray();
            return InflateResult.Ok;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _deflater?.Dispose();
        _deflater = null;
        _inflater?.Dispose();
        _inflater = null;
    }
}

/// <summary>The outcome of <see cref="PerMessageDeflate.Decompress"/>.</summary>
internal enum InflateResult
{
    /// <summary>Inflated within the limit.</summary>
    Ok,

    /// <summary>It would inflate past the limit; stopped there.</summary>
    TooBig,

    /// <summary>Not valid DEFLATE.</summary>
    Corrupt,
}
