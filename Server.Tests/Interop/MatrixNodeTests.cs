using System.Text.Json;
using NUnit.Framework;
using SocketIoSignal.Tests.Codelab;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.SocketIOTests.Recovery;

namespace SocketIoSignal.Tests.Interop;

/// <summary>
/// The interop matrix for the Node.js clients (socket.io-client 1.7.4, 2.5.0, 3.1.3, 4.8.1): every feature of
/// Server.Tests/node/matrix.js over polling only, WebSocket only and polling with upgrade, against our server in
/// codelab and rooms mode, and (upgrade and polling) through <see cref="SlowProxy"/>. Each cell gets its own
/// server (restarted on the same port for the restart feature); two cells run at a time.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class MatrixNodeTests
{
    private static readonly string[] Transports = ["polling", "websocket", "upgrade"];

    private static readonly Dictionary<string, string> Versions = new()
    {
        ["1"] = "1.7.4",
        ["2"] = "2.5.0",
        ["3"] = "3.1.3",
        ["4"] = "4.8.1",
    };

    [OneTimeSetUp]
    public void RequireNode() => NodeScripts.RequireNodeModules();

    [TestCase("1", "codelab")]
    [TestCase("2", "codelab")]
    [TestCase("3", "codelab")]
    [TestCase("4", "codelab")]
    [TestCase("1", "rooms")]
    [TestCase("2", "rooms")]
    [TestCase("3", "rooms")]
    [TestCase("4", "rooms")]
    public async Task MatrixNodeClient(string client, string mode)
    {
        var group = mode == "rooms" ? InteropMatrix.Groups[1] : InteropMatrix.Groups[0];
        var cells = await InteropMatrix.RunAsync(Transports.Select(transport => (Func<Task<CellResult>>)(() =>
            RunCellAsync(new CellResult(group, $"socket.io-client {Versions[client]} · {transport}"), client, transport, mode, proxySeed: null))));
        InteropMatrix.AssertAllOk(cells);
    }

    [TestCase("1")]
    [TestCase("2")]
    [TestCase("3")]
    [TestCase("4")]
    public async Task MatrixNodeClientThroughSlowProxy(string client)
    {
        var cells = await InteropMatrix.RunAsync(new[] { "upgrade", "polling" }.Select((transport, i) => (Func<Task<CellResult>>)(() =>
        {
            int seed = (int.Parse(client, System.Globalization.CultureInfo.InvariantCulture) * 100) + i;
            return RunCellAsync(new CellResult(InteropMatrix.Groups[2], $"socket.io-client {Versions[client]} · {transport} (seed {seed})"), client, transport, "codelab", seed);
        })));
        InteropMatrix.AssertAllOk(cells);
    }

    /// <summary>Runs matrix.js for one cell, restarting the server when it asks, and records the outcome.</summary>
    public static async Task<CellResult> RunCellAsync(CellResult cell, string client, string transport, string mode, int? proxySeed)
    {
        // The matrix compares events argument for argument: rooms mode's recovery (an offset appended to each) is off here
        // and tested in SocketIO/Recovery.
        string[] serverArgs = mode == "rooms" ? ["--mode", mode, RecoveryArgs.Off] : ["--mode", mode];
        var server = await MatrixServer.StartAsync(serverArgs);
        SlowProxy? proxy = proxySeed is { } seed ? SlowProxy.Start(server.Server.Port, seed) : null;
        bool restarted = false;
        ChildProcess? process = null;
        try
        {
            process = ChildProcess.Start("node", [Path.Combine(NodeScripts.Folder, "matrix.js"), "--url", proxy?.Url ?? server.Url, "--client", client, "--transport", transport, "--mode", mode]);
            long started = TimeProvider.System.GetTimestamp();
            TimeSpan Left() => TimeSpan.FromTicks(Math.Max(1, (TimeSpan.FromSeconds(60) - TimeProvider.System.GetElapsedTime(started)).Ticks));
            while (await process.ReadLineAsync(Left()) is { } line)
            {
                if (line == "READY-FOR-RESTART")
                {
                    foreach (var problem in server.Problems(kickExpected: true))
                    {
                        cell.Problems.Enqueue("before the restart: " + problem);
                    }
                    server = await MatrixServer.RestartAsync(server, serverArgs);
                    restarted = true;
                    await process.SendLineAsync("RESTARTED");
                }
                else if (line.StartsWith('{'))
                {
                    using var json = JsonDocument.Parse(line);
                    var r = json.RootElement;
                    var detail = r.GetProperty("detail").GetString() ?? "";
                    cell.Set(r.GetProperty("feature").GetString()!, r.GetProperty("ok").GetBoolean(), detail, noteworthy: detail.Contains("quirk", StringComparison.Ordinal));
                }
                else
                {
                    cell.Problems.Enqueue("unexpected output: " + line);
                }
            }
            await process.WaitForExitAsync(Left());
            var errors = string.Join("\n", process.Errors);
            if (errors.Length > 0)
            {
                cell.Problems.Enqueue("matrix.js stderr: " + errors.Trim());
            }
            if (!restarted)
            {
                cell.Problems.Enqueue("matrix.js never asked for the restart");
            }
        }
        catch (TimeoutException)
        {
            cell.Problems.Enqueue("matrix.js did not finish within 60 s");
        }
        finally
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
            if (cell.Features.Values.Any(f => f.State == FeatureState.Failed))
            {
                TestContext.Out.WriteLine($"--- {cell.Row}: log of the last server; /matrix disconnects: " + string.Join(", ", server.Disconnects) + "\n  " + string.Join("\n  ", server.Server.Logs.Lines));
            }
            foreach (var problem in server.Problems(kickExpected: !restarted))
            {
                cell.Problems.Enqueue(problem);
            }
            if (proxy is not null)
            {
                if (proxy.Connections == 0)
                {
                    cell.Problems.Enqueue("nothing went through the proxy");
                }
                await proxy.DisposeAsync();
            }
            await server.Server.DisposeAsync();
        }
        return cell.Finish();
    }
}
