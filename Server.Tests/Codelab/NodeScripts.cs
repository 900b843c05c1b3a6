using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>The Node side of the tests: Server.Tests/node/, its packages, and scenario.js runs.</summary>
public static class NodeScripts
{
    public static string Folder => RepoPaths.Combine("Server.Tests", "node");

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
        await using var process = ChildProcess.Start("node", [Path.Combine(Folder, "scenario.js"), "--url", url, "--client", client, "--transport", transport, "--scenario", scenario]);
        int exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, string.Join("\n", process.Output), string.Join("\n", process.Errors));
    }
}
