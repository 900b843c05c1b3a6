using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.SocketIOTests;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>Records every response with a 5xx status and every exception that escapes the pipeline.</summary>
public sealed class ServerErrorWatch : IStartupFilter
{
    public ConcurrentQueue<string> Failures { get; } = new();

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, inner) =>
        {
            try
            {
                await inner(context);
            }
            catch (Exception ex)
            {
                Failures.Enqueue($"{context.Request.Path}{context.Request.QueryString}: unhandled {ex.GetType().Name}: {ex.Message}");
                throw;
            }
            if (context.Response.StatusCode >= 500)
            {
                Failures.Enqueue($"{context.Request.Path}{context.Request.QueryString}: {context.Response.StatusCode}");
            }
        });
        next(app);
    };
}

/// <summary>
/// A real server under attack: the test's hostile clients, plus a <see cref="Canary"/> pair that must keep talking
/// throughout. <see cref="FinishAsync"/> asserts the guarantees every hostile test shares: the canary lost nothing,
/// the server logged no error, answered no 5xx and let no exception escape.
/// </summary>
public sealed class HostileServer : IAsyncDisposable
{
    private HostileServer(TestServer server, ServerErrorWatch watch, Canary canary)
    {
        Server = server;
        Watch = watch;
        Canary = canary;
        Raw = new EngineIoRaw(server.BaseUri);
    }

    public TestServer Server { get; }

    public ServerErrorWatch Watch { get; }

    public Canary Canary { get; }

    public EngineIoRaw Raw { get; }

    public EngineIoServer Engine => Server.Get<EngineIoServer>();

    public int Port => Server.Port;

    public static async Task<HostileServer> StartAsync(params string[] args)
    {
        var watch = new ServerErrorWatch();
        // Rooms mode: the canary's messages stay in its room (codelab mode would copy them to every hostile client).
        var all = new List<string> { "--EngineIo:CloseTimeout=500", "--mode", "rooms" };
        all.AddRange(args);
        var server = await TestServer.StartAsync(all, b => b.Services.AddSingleton<IStartupFilter>(watch));
        var canary = await Canary.StartAsync(server);
        return new HostileServer(server, watch, canary);
    }

    /// <summary>The shared guarantees; call at the end of the test (after the attack).</summary>
    public async Task FinishAsync()
    {
        await Canary.AssertAliveAsync();
        await Canary.StopAsync();
        Assert.That(Watch.Failures, Is.Empty, "5xx or unhandled exceptions");
        Server.AssertNoErrors();
    }

    public async ValueTask DisposeAsync()
    {
        await Canary.DisposeAsync();
        Raw.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// Two raw clients (protocol 4 over EIO 4, protocol 4 over EIO 3) in room "canary" that ping-pong numbered
/// <c>message</c> events in the background; every number must come back, in order, without a timeout.
/// </summary>
public sealed class Canary : IAsyncDisposable
{
    private readonly SioWs _a;
    private readonly SioWs _b;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<int> _completed = [];
    private readonly string _tag = "canary-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4));
    private Task? _loop;
    private string? _failure;

    private Canary(SioWs a, SioWs b)
    {
        _a = a;
        _b = b;
    }

    public int Completed
    {
        get
        {
            lock (_completed)
            {
                return _completed.Count;
            }
        }
    }

    public static async Task<Canary> StartAsync(TestServer server)
    {
        var (a, _) = await SioWs.ConnectAsync(server, 4, "/");
        var (b, _) = await SioWs.ConnectAsync(server, 3, "/");
        var canary = new Canary(a, b);
        await a.SendAsync("2[\"create or join\",\"canary\"]");
        await canary.ExpectEventAsync(a, "created");
        await b.SendAsync("2[\"create or join\",\"canary\"]");
        await canary.ExpectEventAsync(b, "joined");
        canary._loop = Task.Run(canary.LoopAsync);
        return canary;
    }

    /// <summary>Waits (bounded) for the next event of this name, skipping everything else (logs, others' messages).</summary>
    private async Task<JsonElement> ExpectEventAsync(SioWs client, string name, string? arg = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"canary: no {name} {arg}");
            }
            var frame = await client.NextAsync(left);
            if (frame.Text is not { } text || !text.StartsWith("2[", StringComparison.Ordinal))
            {
                continue;
            }
            using var doc = JsonDocument.Parse(text[1..]);
            var array = doc.RootElement;
            if (array[0].GetString() != name)
            {
                continue;
            }
            if (arg is not null && (array.GetArrayLength() < 2 || array[1].ValueKind != JsonValueKind.String || array[1].GetString() != arg))
            {
                continue;
            }
            return array.GetArrayLength() > 1 ? array[1].Clone() : default;
        }
    }

    private async Task LoopAsync()
    {
        var lastPing = DateTime.UtcNow;
        try
        {
            for (int n = 1; !_stop.IsCancellationRequested; n++)
            {
                await _a.SendAsync($"2[\"message\",\"{_tag}:{n}\"]");
                await ExpectEventAsync(_b, "message", $"{_tag}:{n}");
                await _b.SendAsync($"2[\"message\",\"{_tag}-back:{n}\"]");
                await ExpectEventAsync(_a, "message", $"{_tag}-back:{n}");
                lock (_completed)
                {
                    _completed.Add(n);
                }
                if (DateTime.UtcNow - lastPing > TimeSpan.FromMilliseconds(100))
                {
                    // The EIO 3 client pings (the server answers); short heartbeat settings must not drop it.
                    await _b.SendRawAsync("2");
                    lastPing = DateTime.UtcNow;
                }
                // Pacing, not waiting for a condition: keep the canary light on two cores.
                await Task.Delay(10);
            }
        }
        catch (Exception ex) when (!_stop.IsCancellationRequested)
        {
            _failure = ex.GetType().Name + ": " + ex.Message;
        }
        catch (Exception)
        {
            // Stopped mid-round: the round in flight is not counted.
        }
    }

    /// <summary>At least <paramref name="rounds"/> more round trips complete (bounded): the canary still talks now.</summary>
    public async Task AssertAliveAsync(int rounds = 3)
    {
        int target = Completed + rounds;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Completed < target && _failure is null && !_loop!.IsCompleted)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the canary stalled");
            await Task.Delay(5);
        }
        Assert.That(_failure, Is.Null, "the canary failed");
        Assert.That(Completed, Is.GreaterThanOrEqualTo(target), "the canary stopped");
    }

    public async Task StopAsync()
    {
        _stop.Cancel();
        await _loop!.Within();
        Assert.That(_failure, Is.Null, "the canary failed");
        int[] done;
        lock (_completed)
        {
            done = [.. _completed];
        }
        Assert.That(done, Is.EqualTo(Enumerable.Range(1, done.Length)), "canary numbers in order, none lost");
        Assert.That(done, Is.Not.Empty);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        if (_loop is not null)
        {
            await Task.WhenAny(_loop, Task.Delay(5000));
        }
    }
}

/// <summary>A raw TCP connection for what no client library sends; it can end with a reset (RST).</summary>
public sealed class RawTcp : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<byte> _pending = [];

    public static async Task<RawTcp> ConnectAsync(int port, int receiveBuffer = 0)
    {
        var c = new RawTcp();
        if (receiveBuffer > 0)
        {
            c._socket.ReceiveBufferSize = receiveBuffer;
        }
        await c._socket.ConnectAsync(IPAddress.Loopback, port).Within();
        return c;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] data)
    {
        await _socket.SendAsync(data, SocketFlags.None).Within();
    }

    /// <summary>Closes with linger 0: the kernel sends RST instead of FIN.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    /// <summary>True when the peer ends the connection (FIN or RST) within the bound; what it sent is discarded.</summary>
    public async Task<bool> EndsAsync(TimeSpan? timeout = null)
    {
        try
        {
            await ReadToEndAsync(timeout);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Reads until the peer closes or the timeout passes; returns everything read.</summary>
    public async Task<byte[]> ReadToEndAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n == 0)
                {
                    break;
                }
                _pending.AddRange(buffer.AsSpan(0, n));
            }
        }
        catch (SocketException)
        {
            // reset by the server: it ended the connection
        }
        var all = _pending.ToArray();
        _pending.Clear();
        return all;
    }

    /// <summary>Reads (bounded) until the bytes received contain <paramref name="marker"/>; returns them as text.</summary>
    public async Task<string> ReadUntilAsync(string marker, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var buffer = new byte[8192];
        var needle = Encoding.UTF8.GetBytes(marker);
        while (IndexOf(needle) < 0)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                throw new IOException("closed before " + marker);
            }
            _pending.AddRange(buffer.AsSpan(0, n));
        }
        var text = Encoding.Latin1.GetString(_pending.ToArray());
        _pending.Clear();
        return text;
    }

    /// <summary>Reads the status line and headers (and a Content-Length body) of one response.</summary>
    public async Task<(int Status, string Head, string Body)> ReadResponseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var buffer = new byte[8192];
        int end;
        while ((end = IndexOf("\r\n\r\n"u8)) < 0)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                throw new IOException("closed before a response");
            }
            _pending.AddRange(buffer.AsSpan(0, n));
        }
        var head = Encoding.ASCII.GetString(_pending.GetRange(0, end).ToArray());
        _pending.RemoveRange(0, end + 4);
        int status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        int length = lengthLine is null ? 0 : int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        while (_pending.Count < length)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                break;
            }
            _pending.AddRange(buffer.AsSpan(0, n));
        }
        var body = Encoding.UTF8.GetString(_pending.GetRange(0, Math.Min(length, _pending.Count)).ToArray());
        _pending.RemoveRange(0, Math.Min(length, _pending.Count));
        return (status, head, body);
    }

    /// <summary>Sends a WebSocket upgrade request and reads the answer's head.</summary>
    public async Task<int> UpgradeAsync(string pathAndQuery, string? extraHeaders = null)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await SendAsync($"GET {pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}\r\n");
        var (status, _, _) = await ReadResponseAsync();
        return status;
    }

    /// <summary>One client WebSocket frame (masked unless told otherwise).</summary>
    public Task SendFrameAsync(int opcode, byte[] payload, bool fin = true, bool mask = true)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | opcode) };
        byte maskBit = mask ? (byte)0x80 : (byte)0;
        if (payload.Length < 126)
        {
            frame.Add((byte)(maskBit | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            for (int i = 7; i >= 0; i--)
            {
                frame.Add((byte)((long)payload.Length >> (8 * i)));
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
        return SendAsync([.. frame]);
    }

    /// <summary>Reads one server frame (unmasked, as servers send them): its first byte and its payload.</summary>
    public async Task<(int B0, byte[] Payload)> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        await FillAsync(2, cts.Token);
        int b0 = _pending[0];
        int len = _pending[1] & 0x7F;
        int header = 2;
        if (len == 126)
        {
            await FillAsync(4, cts.Token);
            len = (_pending[2] << 8) | _pending[3];
            header = 4;
        }
        else if (len == 127)
        {
            await FillAsync(10, cts.Token);
            len = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(_pending.GetRange(2, 8).ToArray());
            header = 10;
        }
        await FillAsync(header + len, cts.Token);
        var payload = _pending.GetRange(header, len).ToArray();
        _pending.RemoveRange(0, header + len);
        return (b0, payload);
    }

    /// <summary>Reads frames until a close frame; returns its code (0 when it had none) and reason.</summary>
    public async Task<(int Code, string Reason)> ReadCloseFrameAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var (b0, payload) = await ReadFrameAsync(timeout);
            if ((b0 & 0x0F) == 8)
            {
                return payload.Length < 2 ? (0, "") : ((payload[0] << 8) | payload[1], Encoding.UTF8.GetString(payload, 2, payload.Length - 2));
            }
        }
    }

    /// <summary>
    /// Half-closes our side and reads until the server ends the connection: true for a FIN, false for a reset.
    /// </summary>
    public async Task<bool> EndsWithFinAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var buffer = new byte[8192];
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
            while (await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
            {
            }
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task FillAsync(int count, CancellationToken token)
    {
        var buffer = new byte[8192];
        while (_pending.Count < count)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, token);
            if (n == 0)
            {
                throw new IOException($"closed after {_pending.Count} of {count} bytes");
            }
            _pending.AddRange(buffer.AsSpan(0, n));
        }
    }

    private int IndexOf(ReadOnlySpan<byte> needle) =>
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending).IndexOf(needle);

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Bounded checks of server state that no event announces.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TaskTimeouts.Default);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("not reached: " + what);
            }
            await Task.Delay(5);
        }
    }

    /// <summary>Sessions, sockets, rooms, timers and queued bytes of the server, as its own counters say.</summary>
    public static (long Sessions, long Sockets, long Rooms, long Timers, long Queued) Counters(TestServer server)
    {
        var engine = server.Get<EngineIoServer>();
        var io = server.Get<SocketIoServer>();
        long rooms = io.Namespaces.Sum(n => (long)n.Adapter.LocalRoomCount);
        long timers = engine.Metrics.Timers.Live + io.Metrics.Timers.Live;
        long queued = engine.Sessions.Sum(s => s.QueuedBytes);
        return (Math.Max(engine.SessionCount, engine.Metrics.ActiveSessions), io.Metrics.ConnectedSockets, rooms, timers, queued);
    }
}
