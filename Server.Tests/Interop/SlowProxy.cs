using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Interop;

/// <summary>
/// A loopback TCP proxy for a slow, fragmenting network: every read is written on in random chunks (1 to 16 bytes
/// half of the time, up to 1400 otherwise), each after a random delay of 0 to 3 ms, so HTTP bodies, WebSocket
/// frames and Engine.IO payloads arrive torn at arbitrary byte boundaries. Chunking is seeded: connection n uses
/// seed + n (per direction), so a failing seed can be replayed. Bytes and their order are preserved. When the
/// upstream is down (a server restart), an accepted connection is closed at once.
/// </summary>
public sealed class SlowProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _upstreamPort;
    private readonly int _seed;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly Task _accepting;
    private int _connections;
    private long _reads;
    private long _writes;

    private SlowProxy(int upstreamPort, int seed)
    {
        _upstreamPort = upstreamPort;
        _seed = seed;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptLoopAsync();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public int Seed => _seed;

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Reads done on either side, and the chunks they were written on in.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    public long Writes => Interlocked.Read(ref _writes);

    public static SlowProxy Start(int upstreamPort, int seed) => new(upstreamPort, seed);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            int n = Interlocked.Increment(ref _connections);
            lock (_tasks)
            {
                _tasks.RemoveAll(t => t.IsCompleted);
                _tasks.Add(HandleAsync(client, n));
            }
        }
    }

    private async Task HandleAsync(Socket client, int n)
    {
        using var _ = client;
        client.NoDelay = true;
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token);
        }
        catch (Exception)
        {
            // upstream down (restarting): the client sees its connection close, as with no server at all
            return;
        }
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var up = PumpAsync(client, upstream, new Random(unchecked(_seed + (n * 2))), both);
        var down = PumpAsync(upstream, client, new Random(unchecked(_seed + (n * 2) + 1)), both);
        await Task.WhenAll(up, down);
    }

    /// <summary>Copies from → to in random chunks with random delays; on end of stream half-closes the other side.</summary>
    private async Task PumpAsync(Socket from, Socket to, Random random, CancellationTokenSource both)
    {
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, both.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                Interlocked.Increment(ref _reads);
                int offset = 0;
                while (offset < read)
                {
                    int max = random.Next(2) == 0 ? 16 : 1400;
                    int size = Math.Min(read - offset, random.Next(1, max + 1));
                    int wait = random.Next(4);
                    if (wait > 0)
                    {
                        await Task.Delay(wait, both.Token);
                    }
                    await SendAllAsync(to, buffer.AsMemory(offset, size), both.Token);
                    Interlocked.Increment(ref _writes);
                    offset += size;
                }
            }
        }
        catch (Exception)
        {
            // a reset or the proxy stopping: tear down both directions
            await both.CancelAsync();
            try
            {
                from.Close(0);
                to.Close(0);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (!data.IsEmpty)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None, token);
            data = data[sent..];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.Within();
        Task[] running;
        lock (_tasks)
        {
            running = [.. _tasks];
        }
        await Task.WhenAll(running).Within();
        _stop.Dispose();
    }
}
