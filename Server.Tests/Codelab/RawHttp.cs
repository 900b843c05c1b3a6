using System.Net.Sockets;
using System.Text;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>
/// One HTTP/1.1 request with the request-target sent exactly as given (HttpClient would normalize "..",
/// "%2e" and friends away before they reach the server).
/// </summary>
public static class RawHttp
{
    public static async Task<(int Status, string Head, byte[] Body)> SendAsync(Uri server, string target, string method = "GET")
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port).Within();
        var stream = tcp.GetStream();
        var request = $"{method} {target} HTTP/1.1\r\nHost: {server.Authority}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request)).AsTask().Within();
        using var response = new MemoryStream();
        await stream.CopyToAsync(response).Within();
        var bytes = response.ToArray();
        int end = IndexOf(bytes, "\r\n\r\n"u8);
        if (end < 0)
        {
            throw new InvalidOperationException("no complete response head: " + Encoding.Latin1.GetString(bytes));
        }
        var head = Encoding.Latin1.GetString(bytes, 0, end);
        int status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, head, bytes[(end + 4)..]);
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}
