using System.Net;
using System.Net.Sockets;

namespace SocketIoSignal.Tests.SocketIOTests.Recovery;

/// <summary>
/// A loopback TCP proxy whose network can fail: <see cref="Cut"/> resets every connection through it and refuses new
/// ones (as a dropped Wi-Fi does) until <see cref="Restore"/>. Both ends see their connection die without a close
/// handshake, so the server takes it for a transport failure and the client reconnects on its own. Given several
/// upstreams it is a load balancer without stickiness: each new connection goes to the next one in turn (round robin),
/// so a client that reconnects lands on another node.
/// </summary>
public sealed class CuttableProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int[] _upstreamPorts;
    private int _next;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(Socket A, Socket B)> _live = [];
    private readonly Task _accepting;
    private volatile bool _down;
    private int _accepted;

    public CuttableProxy(params int[] upstreamPorts)
    {
        _upstreamPorts = upstreamPorts;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptLoopAsync();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Connections let through so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>The network goes down: every connection is reset, new ones are refused.</summary>
    public void Cut()
    {
        _down = true;
        lock (_live)
        {
            foreach (var (a, b) in _live)
            {
                Reset(a);
                Reset(b);
            }
            _live.Clear();
        }
    }

    /// <summary>The network is back.</summary>
    public void Restore() => _down = false;

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (ObjectDisposedException)
        {
        }
    }

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
            if (_down)
            {
                Reset(client);
                continue;
            }
            var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                int port = _upstreamPorts[_next++ % _upstreamPorts.Length];
                await upstream.ConnectAsync(IPAddress.Loopback, port, _stop.Token);
            }
            catch (Exception)
            {
                Reset(client);
                upstream.Dispose();
                continue;
            }
            client.NoDelay = true;
            Interlocked.Increment(ref _accepted);
            lock (_live)
            {
                _live.Add((client, upstream));
            }
            _ = PumpAsync(client, upstream);
            _ = PumpAsync(upstream, client);
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception)
        {
            // A cut or a closed end: the other side is reset too.
            Reset(from);
            Reset(to);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Cut();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
