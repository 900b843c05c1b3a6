using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>What an Engine.IO handler saw, in order, for the tests to await.</summary>
public sealed class RecordingHandler : IEngineIoHandler
{
    private readonly Channel<string> _events = Channel.CreateUnbounded<string>();

    /// <summary>Send every message back as it came (text as text, binary as binary).</summary>
    public bool Echo { get; init; }

    public Dictionary<string, CloseReason> Closed { get; } = [];

    private readonly TaskCompletionSource<CloseReason> _firstClose = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<CloseReason> FirstClose => _firstClose.Task;

    public void OnConnect(EngineIoSession session) => _events.Writer.TryWrite("connect");

    public void OnMessage(EngineIoSession session, string text)
    {
        _events.Writer.TryWrite("text:" + text);
        if (Echo)
        {
            session.Send(text);
        }
    }

    public void OnBinary(EngineIoSession session, ReadOnlyMemory<byte> data)
    {
        _events.Writer.TryWrite("binary:" + Convert.ToHexString(data.Span));
        if (Echo)
        {
            session.SendBinary(data.ToArray());
        }
    }

    public void OnDisconnect(EngineIoSession session, CloseReason reason)
    {
        lock (Closed)
        {
            Closed[session.Id] = reason;
        }
        _firstClose.TrySetResult(reason);
        _events.Writer.TryWrite("close:" + reason);
    }

    /// <summary>The next event, skipping "connect".</summary>
    public async Task<string> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        while (true)
        {
            var e = await _events.Reader.ReadAsync(cts.Token);
            if (e != "connect")
            {
                return e;
            }
        }
    }

    /// <summary>True when no further event is queued right now.</summary>
    public bool IsQuiet => !_events.Reader.TryPeek(out _);
}

/// <summary>A running server whose /socket.io/ Engine.IO endpoint talks to a <see cref="RecordingHandler"/>, on fake time.</summary>
public sealed class EngineHarness : IAsyncDisposable
{
    private EngineHarness(TestServer server, FakeTimeProvider time, RecordingHandler handler)
    {
        Server = server;
        Time = time;
        Handler = handler;
        Raw = new EngineIoRaw(server.BaseUri);
    }

    public TestServer Server { get; }

    public FakeTimeProvider Time { get; }

    public RecordingHandler Handler { get; }

    public EngineIoRaw Raw { get; }

    public EngineIoServer Engine => Server.Get<EngineIoServer>();

    public static async Task<EngineHarness> StartAsync(IEnumerable<string>? args = null, bool echo = true)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // A short close handshake bound keeps server shutdown quick when a test leaves sessions open.
        var all = new List<string> { "--EngineIo:CloseTimeout=200" };
        all.AddRange(args ?? []);
        var server = await TestServer.StartAsync(all, b => b.Services.AddSingleton<TimeProvider>(time));
        var handler = new RecordingHandler { Echo = echo };
        server.Get<EngineIoServer>().SetHandler(handler);
        return new EngineHarness(server, time, handler);
    }

    public EngineIoSession Session(string sid)
    {
        NUnit.Framework.Assert.That(Engine.TryGetSession(sid, out var session), NUnit.Framework.Is.True, "session " + sid);
        return session!;
    }

    /// <summary>A v3 JSONP handshake; returns the sid read out of the script.</summary>
    public async Task<string> JsonpHandshakeAsync(string j = "0")
    {
        var (status, script) = await Raw.GetTextAsync(Raw.Query(3, "polling", extra: "j=" + j));
        NUnit.Framework.Assert.That(status, NUnit.Framework.Is.EqualTo(HttpStatusCode.OK), script);
        return System.Text.RegularExpressions.Regex.Match(script, "sid\\\\\":\\\\\"([A-Za-z0-9_-]{20})").Groups[1].Value;
    }

    public bool IsOpen(string sid) => Engine.TryGetSession(sid, out var s) && s!.IsOpen;

    public string Poll(int eio, string sid, string? extra = null) => Raw.Query(eio, "polling", sid, extra);

    public async ValueTask DisposeAsync()
    {
        Raw.Dispose();
        await Server.DisposeAsync();
    }
}

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
