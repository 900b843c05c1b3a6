using System.Net;
using System.Net.Sockets;
using System.Text;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>A raw HTTP/1.1 exchange over TCP, for what HttpClient will not send: lying lengths, partial bodies, chunks.</summary>
public sealed class RawHttpConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp = new();
    private NetworkStream? _stream;

    public static async Task<RawHttpConnection> OpenAsync(Uri baseUri)
    {
        var c = new RawHttpConnection();
        await c._tcp.ConnectAsync(IPAddress.Loopback, baseUri.Port).Within();
        c._stream = c._tcp.GetStream();
        return c;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public Task SendAsync(byte[] bytes) => _stream!.WriteAsync(bytes).AsTask().Within();

    /// <summary>Reads one response (status line, headers, body by Content-Length or chunked).</summary>
    public async Task<(int Status, string Headers, string Body)> ReadResponseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var buffer = new List<byte>();
        var chunk = new byte[8192];
        int headerEnd;
        while ((headerEnd = IndexOf(buffer, "\r\n\r\n"u8)) < 0)
        {
            int n = await _stream!.ReadAsync(chunk, cts.Token);
            if (n == 0)
            {
                throw new IOException("connection closed before a response");
            }
            buffer.AddRange(chunk.AsSpan(0, n));
        }
        var head = Encoding.ASCII.GetString(buffer.GetRange(0, headerEnd).ToArray());
        int status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var rest = buffer.GetRange(headerEnd + 4, buffer.Count - headerEnd - 4);
        var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        if (lengthLine is not null)
        {
            int length = int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            while (rest.Count < length)
            {
                int n = await _stream!.ReadAsync(chunk, cts.Token);
                if (n == 0)
                {
                    break;
                }
                rest.AddRange(chunk.AsSpan(0, n));
            }
            return (status, head, Encoding.UTF8.GetString(rest.ToArray(), 0, Math.Min(length, rest.Count)));
        }
        if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (IndexOf(rest, "0\r\n\r\n"u8) < 0)
            {
                int n = await _stream!.ReadAsync(chunk, cts.Token);
                if (n == 0)
                {
                    break;
                }
                rest.AddRange(chunk.AsSpan(0, n));
            }
            return (status, head, DecodeChunked(Encoding.UTF8.GetString(rest.ToArray())));
        }
        return (status, head, "");
    }

    private static string DecodeChunked(string text)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < text.Length)
        {
            int eol = text.IndexOf("\r\n", i, StringComparison.Ordinal);
            int size = Convert.ToInt32(text[i..eol], 16);
            if (size == 0)
            {
                break;
            }
            sb.Append(text, eol + 2, size);
            i = eol + 2 + size + 2;
        }
        return sb.ToString();
    }

    private static int IndexOf(List<byte> haystack, ReadOnlySpan<byte> needle) =>
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(haystack).IndexOf(needle);

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
