using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LoadGen;

/// <summary>
/// One client: a WebSocket over a raw socket (our own HTTP upgrade, then WebSocket.CreateFromStream), speaking
/// Engine.IO 3 or 4 + Socket.IO just enough for the benchmark, or plain frames (Eio = 0) for the echo server.
/// </summary>
public sealed class Conn
{
    private readonly SemaphoreSlim _send = new(1, 1);
    private byte[] _buf = new byte[8192];
    private static readonly byte[] Pong = "3"u8.ToArray();
    private static readonly byte[] Ping = "2"u8.ToArray();

    public WebSocket Ws { get; private set; } = null!;
    public int Eio { get; init; }
    public string? Sid { get; private set; }
    public int PingIntervalMs { get; private set; }
    public bool Closed { get; private set; }
    public Action<Conn, ReadOnlySpan<byte>>? OnEvent { get; set; }

    public static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        UseCookies = false,
        MaxConnectionsPerServer = 4096,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5),
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>TCP connect + HTTP/1.1 upgrade by hand; leftover bytes after the 101 go to the WebSocket.</summary>
    public static async Task<WebSocket> OpenWebSocketAsync(int port, string pathAndQuery, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
            var stream = new NetworkStream(socket, ownsSocket: true);
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = $"GET {pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                          $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), ct);
            var head = new byte[4096];
            int n = 0;
            int end;
            while ((end = head.AsSpan(0, n).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (n == head.Length)
                {
                    throw new IOException("upgrade response too long");
                }
                int r = await stream.ReadAsync(head.AsMemory(n), ct);
                if (r == 0)
                {
                    throw new IOException("closed during upgrade");
                }
                n += r;
            }
            if (!head.AsSpan().StartsWith("HTTP/1.1 101"u8))
            {
                throw new IOException("upgrade refused: " + Encoding.ASCII.GetString(head, 0, Math.Min(n, 60)));
            }
            Stream s = stream;
            int rest = n - (end + 4);
            if (rest > 0)
            {
                s = new PrefixStream(head.AsSpan(end + 4, rest).ToArray(), stream);
            }
            return WebSocket.CreateFromStream(s, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects over WebSocket and completes the Socket.IO handshake for "/" (Eio 0: a bare WebSocket).</summary>
    public static async Task<Conn> ConnectWebSocketAsync(int port, int eio, CancellationToken ct)
    {
        var c = new Conn { Eio = eio };
        c.Ws = await OpenWebSocketAsync(port, eio == 0 ? "/" : $"/socket.io/?EIO={eio}&transport=websocket", ct);
        if (eio == 0)
        {
            return c;
        }
        try
        {
            string open = await c.ReceiveTextAsync(ct);
            c.ParseOpen(open);
            if (eio == 4)
            {
                await c.SendAsync("40"u8.ToArray(), ct);
            }
            while (!(await c.ReceiveTextAsync(ct)).StartsWith("40", StringComparison.Ordinal))
            {
            }
        }
        catch
        {
            c.Abort();
            throw;
        }
        return c;
    }

    /// <summary>Handshake over HTTP long-polling, then the WebSocket upgrade (2probe / 3probe / 5).</summary>
    public static async Task<Conn> ConnectPollingUpgradeAsync(int port, int eio, CancellationToken ct)
    {
        var c = new Conn { Eio = eio };
        string baseUrl = $"http://127.0.0.1:{port}/socket.io/?EIO={eio}&transport=polling";
        string body = await Http.GetStringAsync(baseUrl, ct);
        string open;
        if (eio == 3)
        {
            int colon = body.IndexOf(':', StringComparison.Ordinal);
            int len = int.Parse(body.AsSpan(0, colon), System.Globalization.CultureInfo.InvariantCulture);
            open = body.Substring(colon + 1, len);
            c.ParseOpen(open);
            string rest = body[(colon + 1 + len)..];
            if (!rest.Contains(":40", StringComparison.Ordinal))
            {
                await Http.GetStringAsync(baseUrl + "&sid=" + c.Sid, ct);
            }
        }
        else
        {
            open = body.Split('\x1e')[0];
            c.ParseOpen(open);
            using var post = await Http.PostAsync(baseUrl + "&sid=" + c.Sid, new StringContent("40", Encoding.UTF8, "text/plain"), ct);
            post.EnsureSuccessStatusCode();
            string connect = await Http.GetStringAsync(baseUrl + "&sid=" + c.Sid, ct);
            if (!connect.StartsWith("40", StringComparison.Ordinal))
            {
                throw new IOException("no connect packet: " + connect);
            }
        }
        c.Ws = await OpenWebSocketAsync(port, $"/socket.io/?EIO={eio}&transport=websocket&sid={c.Sid}", ct);
        try
        {
            await c.SendAsync("2probe"u8.ToArray(), ct);
            while (await c.ReceiveTextAsync(ct) != "3probe")
            {
            }
            await c.SendAsync("5"u8.ToArray(), ct);
        }
        catch
        {
            c.Abort();
            throw;
        }
        return c;
    }

    private void ParseOpen(string open)
    {
        if (!open.StartsWith('0'))
        {
            throw new IOException("expected the open packet, got " + open);
        }
        using var doc = JsonDocument.Parse(open.AsMemory(1));
        Sid = doc.RootElement.GetProperty("sid").GetString();
        PingIntervalMs = doc.RootElement.GetProperty("pingInterval").GetInt32();
    }

    /// <summary>Emits <c>create or join</c> and waits for created / joined / full; returns which.</summary>
    public async Task<string> CreateOrJoinAsync(string room, CancellationToken ct)
    {
        await SendAsync(Encoding.UTF8.GetBytes("42[\"create or join\",\"" + room + "\"]"), ct);
        while (true)
        {
            string frame = await ReceiveTextAsync(ct);
            foreach (var answer in (ReadOnlySpan<string>)["created", "joined", "full"])
            {
                if (frame.StartsWith("42[\"" + answer + "\"", StringComparison.Ordinal))
                {
                    return answer;
                }
            }
        }
    }

    /// <summary>One whole text message, answering v4 pings on the way (connect phase only).</summary>
    public async Task<string> ReceiveTextAsync(CancellationToken ct)
    {
        while (true)
        {
            int n = await ReceiveMessageAsync(ct);
            if (n < 0)
            {
                throw new IOException("closed");
            }
            if (Eio == 4 && n == 1 && _buf[0] == (byte)'2')
            {
                await SendAsync(Pong, ct);
                continue;
            }
            return Encoding.UTF8.GetString(_buf, 0, n);
        }
    }

    /// <summary>Receives one message into _buf; its length, or -1 on close.</summary>
    private async ValueTask<int> ReceiveMessageAsync(CancellationToken ct)
    {
        int count = 0;
        while (true)
        {
            if (count == _buf.Length)
            {
                Array.Resize(ref _buf, _buf.Length * 2);
            }
            var r = await Ws.ReceiveAsync(_buf.AsMemory(count), ct);
            if (r.MessageType == WebSocketMessageType.Close)
            {
                return -1;
            }
            count += r.Count;
            if (r.EndOfMessage)
            {
                return count;
            }
        }
    }

    /// <summary>The background loop: answers pings, hands 42-events (every frame for Eio 0) to OnEvent.</summary>
    public void StartLoop() => _ = LoopAsync();

    private async Task LoopAsync()
    {
        try
        {
            while (true)
            {
                int n = await ReceiveMessageAsync(CancellationToken.None);
                if (n < 0)
                {
                    break;
                }
                if (Eio == 4 && n == 1 && _buf[0] == (byte)'2')
                {
                    await SendAsync(Pong, CancellationToken.None);
                }
                else if (Eio == 0 || (n > 2 && _buf[0] == (byte)'4' && _buf[1] == (byte)'2'))
                {
                    OnEvent?.Invoke(this, _buf.AsSpan(0, n));
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        Closed = true;
    }

    public Task SendPingAsync() => SendAsync(Ping, CancellationToken.None);

    public async Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        await _send.WaitAsync(ct);
        try
        {
            await Ws.SendAsync(data, WebSocketMessageType.Text, true, ct);
        }
        finally
        {
            _send.Release();
        }
    }

    public void Abort()
    {
        Closed = true;
        try
        {
            Ws?.Abort();
            Ws?.Dispose();
        }
        catch (Exception)
        {
            // already gone
        }
    }

    /// <summary>Reads the bytes that came with the 101 response first, then the socket.</summary>
    private sealed class PrefixStream(byte[] prefix, Stream inner) : Stream
    {
        private int _pos;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_pos < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _pos);
                prefix.AsSpan(_pos, n).CopyTo(buffer.Span);
                _pos += n;
                return ValueTask.FromResult(n);
            }
            return inner.ReadAsync(buffer, ct);
        }
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => inner.WriteAsync(buffer, ct);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => inner.WriteAsync(buffer, offset, count, ct);
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>The relay payload: a fixed-size message with a 19-digit Stopwatch timestamp written in place.</summary>
public sealed class Payload
{
    private readonly byte[] _template;
    private readonly int _tOffset;
    private static readonly byte[] TMarker = "\"t\":\""u8.ToArray();
    private static readonly byte[] MessagePrefix = "42[\"message\","u8.ToArray();

    public Payload(int eio, int size)
    {
        string prefix = eio == 0 ? "" : "42";
        string head = prefix + "[\"message\",{\"t\":\"";
        string mid = new('0', 19);
        string tail1 = "\",\"p\":\"";
        string tail2 = "\"}]";
        int pad = Math.Max(0, size - (head.Length + mid.Length + tail1.Length + tail2.Length));
        _template = Encoding.ASCII.GetBytes(head + mid + tail1 + new string('x', pad) + tail2);
        _tOffset = head.Length;
    }

    public int Size => _template.Length;

    /// <summary>A fresh buffer for one sender.</summary>
    public byte[] NewBuffer() => (byte[])_template.Clone();

    public void Stamp(byte[] buffer, long ticks) => Utf8Formatter.TryFormat(ticks, buffer.AsSpan(_tOffset, 19), out _, new System.Buffers.StandardFormat('D', 19));

    /// <summary>The timestamp of a relayed message; false for anything else (the "log" echo, joins…).</summary>
    public static bool TryReadStamp(ReadOnlySpan<byte> frame, bool raw, out long ticks)
    {
        ticks = 0;
        if (!raw && !frame.StartsWith(MessagePrefix))
        {
            return false;
        }
        int i = frame.IndexOf(TMarker);
        return i >= 0 && frame.Length >= i + TMarker.Length + 19
            && Utf8Parser.TryParse(frame.Slice(i + TMarker.Length, 19), out ticks, out _);
    }
}
