using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>
/// Server.Tests/node/reference-index.js (the seed's index.js, socket.io 2.5.1, node-static on public/) on a
/// free port. It prints nothing, so readiness is a successful TCP connect.
/// </summary>
public sealed class ReferenceServer : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private ReferenceServer(ChildProcess process, int port)
    {
        _process = process;
        Url = $"http://127.0.0.1:{port}";
    }

    public string Url { get; }

    public static async Task<ReferenceServer> StartAsync()
    {
        int port = FreePort.Find();
        var process = ChildProcess.Start("node", [Path.Combine(NodeScripts.Folder, "reference-index.js")],
            new Dictionary<string, string> { ["PORT"] = port.ToString(CultureInfo.InvariantCulture), ["STATIC_ROOT"] = "public" });
        var server = new ReferenceServer(process, port);
        try
        {
            // Node is still loading socket.io until it listens; a connect that succeeds is the only sign it gives.
            await Eventually.UntilAsync(() => AcceptsAsync(process, port), TimeSpan.FromSeconds(15), "the reference server listens");
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private static async Task<bool> AcceptsAsync(ChildProcess process, int port)
    {
        if (process.Process.HasExited)
        {
            throw new InvalidOperationException("the reference server exited: " + string.Join("\n", process.Errors));
        }
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
