using System.IO.Compression;
using System.Security.Cryptography;

namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>
/// WebSocket frames as a client writes them (RFC 6455 §5.2), for tests that talk raw TCP: masked unless told
/// otherwise, with a length that may be announced differently from the payload sent (to test the limits).
/// </summary>
internal static class ClientFrames
{
    /// <summary>One frame: first byte as given (FIN, RSV bits and opcode), the payload masked with a fresh key.</summary>
    public static byte[] Frame(int b0, byte[] payload, bool mask = true, ulong? announced = null)
    {
        var frame = new List<byte>(payload.Length + 14) { (byte)b0 };
        ulong length = announced ?? (ulong)payload.Length;
        byte maskBit = mask ? (byte)0x80 : (byte)0;
        if (length < 126)
        {
            frame.Add((byte)(maskBit | (byte)length));
        }
        else if (length <= ushort.MaxValue)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(length >> 8));
            frame.Add((byte)length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            for (int i = 7; i >= 0; i--)
            {
                frame.Add((byte)(length >> (8 * i)));
            }
        }
        var key = RandomNumberGenerator.GetBytes(4);
        if (mask)
        {
            frame.AddRange(key);
        }
        for (int i = 0; i < payload.Length; i++)
        {
            frame.Add(mask ? (byte)(payload[i] ^ key[i % 4]) : payload[i]);
        }
        return [.. frame];
    }

    /// <summary>A close frame with a status code and an optional reason.</summary>
    public static byte[] Close(int code, byte[]? reason = null) => Frame(0x88, [(byte)(code >> 8), (byte)code, .. reason ?? []]);

    /// <summary>Several frames written as one.</summary>
    public static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>
    /// Raw DEFLATE of <paramref name="data"/> as permessage-deflate sends it: sync flush, the trailing 00 00 FF FF
    /// removed (RFC 7692 §7.2.1); an empty message is one empty stored block, 00 (§7.2.3.6).
    /// </summary>
    public static byte[] DeflateRaw(byte[] data, CompressionLevel level = CompressionLevel.Optimal)
    {
        if (data.Length == 0)
        {
            return [0x00];
        }
        using var ms = new MemoryStream();
        using var deflate = new DeflateStream(ms, level, leaveOpen: true);
        deflate.Write(data);
        deflate.Flush();
        var bytes = ms.ToArray();
        if (!bytes.AsSpan(bytes.Length - 4).SequenceEqual((byte[])[0, 0, 0xFF, 0xFF]))
        {
            throw new InvalidOperationException("a sync flush ends with 00 00 FF FF");
        }
        return bytes[..^4];
    }
}
