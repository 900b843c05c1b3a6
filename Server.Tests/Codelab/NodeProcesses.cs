using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>The Node side of the differential test: the seed's index.js on socket.io 2.5.1, and scenario.js.</summary>
public static class NodeProcesses
{
    public static string NodeFolder => RepoPaths.Combine("Server.Tests", "node");

    /// <summary>Fails clearly when `npm ci` has not been run.</summary>
    public static void RequireNodeModules()
    {
        foreach (var package in new[] { "socket.io", "node-static", "socket.io-client-1", "socket.io-client-2", "socket.io-client-3", "socket.io-client-4" })
        {
            if (!Directory.Exists(RepoPaths.Combine("node_modules", package)))
            {
                throw new InvalidOperationException($"node_modules/{package} is missing: run `npm ci` at the repository root (test.sh does)");
            }
        }
    }

    /// <summary>Runs one scenario; returns its exit code, the transcript (stdout) and stderr.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunScenarioAsync(string url, string client, string transport, string scenario)
    {
        using var process = Start("node", [Path.Combine(NodeFolder, "scenario.js"), "--url", url, "--client", client, "--transport", transport, "--scenario", scenario], null);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().Within(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout.Within(), await stderr.Within());
    }

    public static Process Start(string file, IEnumerable<string> args, IDictionary<string, string>? env)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        return Process.Start(info) ?? throw new InvalidOperationException("could not start " + file);
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

/// <summary>
/// Server.Tests/node/reference-index.js (the seed's index.js, socket.io 2.5.1, node-static on public/) on a
/// free port. It prints nothing, so readiness is a successful TCP connect.
/// </summary>
public sealed class ReferenceServer : IAsyncDisposable
{
    private readonly Process _process;

    private ReferenceServer(Process process, int port)
    {
        _process = process;
        Url = $"http://127.0.0.1:{port}";
    }

    public string Url { get; }

    public static async Task<ReferenceServer> StartAsync()
    {
        int port = NodeProcesses.FreePort();
        var process = NodeProcesses.Start("node", [Path.Combine(NodeProcesses.NodeFolder, "reference-index.js")],
            new Dictionary<string, string> { ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["STATIC_ROOT"] = "public" });
        var server = new ReferenceServer(process, port);
        try
        {
            await WaitUntilListeningAsync(process, port).Within(TimeSpan.FromSeconds(15));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private static async Task WaitUntilListeningAsync(Process process, int port)
    {
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException("the reference server exited: " + await process.StandardError.ReadToEndAsync());
            }
            using var tcp = new TcpClient();
            try
            {
                await tcp.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                // Not listening yet: node is still loading socket.io. Polling is the only readiness signal it gives.
                await Task.Delay(25);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().Within();
        }
        _process.Dispose();
    }
}
