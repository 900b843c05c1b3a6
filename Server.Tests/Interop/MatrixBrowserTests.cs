using System.Text.Json;
using Microsoft.Playwright;
using NUnit.Framework;
using SocketIoSignal.Tests.Browser;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Interop;

/// <summary>
/// The interop matrix in headless Chromium with each bundle our server serves at /socket.io/socket.io.js
/// (--client 1, 2, 4): Server.Tests/node/matrix.js runs in the page (Server.Tests/Interop/matrix.html, both
/// served from a temporary --root), binary as ArrayBuffer, polling only / WebSocket only / polling with upgrade.
/// The restart feature stops and starts the server on the same port while the page stays open.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class MatrixBrowserTests
{
    private static readonly Dictionary<string, string> Versions = new() { ["1"] = "1.7.4", ["2"] = "2.5.0", ["4"] = "4.8.1" };

    /// <summary>Another name of 127.0.0.1 for the browser (a host resolver rule).</summary>
    private const string SecondHost = "matrix.test";

    private ChromiumHost _chromium = null!;
    private string _root = null!;

    [OneTimeSetUp]
    public async Task LaunchAsync()
    {
        _root = Directory.CreateTempSubdirectory("matrix-root-").FullName;
        File.Copy(RepoPaths.Combine("Server.Tests", "Interop", "matrix.html"), Path.Combine(_root, "matrix.html"));
        File.Copy(RepoPaths.Combine("Server.Tests", "node", "matrix.js"), Path.Combine(_root, "matrix.js"));
        // A second name for the server, so the page's clients spread over two hosts' connection pools.
        _chromium = await ChromiumHost.LaunchAsync($"--host-resolver-rules=MAP {SecondHost} 127.0.0.1");
    }

    [OneTimeTearDown]
    public async Task CloseAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }
        Directory.Delete(_root, recursive: true);
    }

    [TestCase("1")]
    [TestCase("2")]
    [TestCase("4")]
    public async Task MatrixChromiumBundle(string client)
    {
        var cells = await InteropMatrix.RunAsync(new[] { "polling", "websocket", "upgrade" }.Select(transport => (Func<Task<CellResult>>)(() =>
            RunCellAsync(new CellResult(InteropMatrix.Groups[3], $"bundle {Versions[client]} (--client {client}) · {transport}"), client, transport))));
        InteropMatrix.AssertAllOk(cells);
    }

    private async Task<CellResult> RunCellAsync(CellResult cell, string client, string transport)
    {
        // The port known in advance: the clients on the second host name are cross-origin, and the page's origin
        // must be allowed for them (with credentials, as the 1.x/2.x bundles send them).
        int port = FreePort.Find();
        string[] args = ["--client", client, "--root", _root, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--EngineIo:AllowedOrigins:0", $"http://127.0.0.1:{port}"];
        var server = await MatrixServer.StartAsync(args);
        bool restarted = false;
        await using var context = await _chromium.Browser.NewContextAsync().WaitAsync(TimeSpan.FromSeconds(15));
        try
        {
            var page = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(15));
            var console = new List<string>();
            page.Console += (_, m) =>
            {
                lock (console)
                {
                    console.Add(m.Text);
                }
            };
            await page.ExposeFunctionAsync("__matrixReport", (string line) =>
            {
                using var json = JsonDocument.Parse(line);
                var r = json.RootElement;
                var detail = r.GetProperty("detail").GetString() ?? "";
                cell.Set(r.GetProperty("feature").GetString()!, r.GetProperty("ok").GetBoolean(), detail, noteworthy: detail.Contains("quirk", StringComparison.Ordinal));
            }).WaitAsync(TimeSpan.FromSeconds(15));
            await page.ExposeFunctionAsync("__matrixRestart", async () =>
            {
                foreach (var problem in server.Problems(kickExpected: true))
                {
                    cell.Problems.Enqueue("before the restart: " + problem);
                }
                server = await MatrixServer.RestartAsync(server, args);
                restarted = true;
                return true;
            }).WaitAsync(TimeSpan.FromSeconds(15));
            var response = await page.GotoAsync(server.Url + "/matrix.html", new PageGotoOptions { Timeout = 15000 });
            Assert.That(response?.Status, Is.EqualTo(200));
            bool ok = await page.EvaluateAsync<bool>("""
                ([client, transport]) => runMatrix({
                  io: window.io, url: location.origin, urls: [location.origin, 'http://matrix.test:' + location.port], client, transport, browser: true, mode: 'codelab', timeout: 5000, idle: 1500,
                  bin: bytes => new Uint8Array(bytes).buffer,
                  report: r => window.__matrixReport(JSON.stringify(r)),
                  readyForRestart: () => window.__matrixRestart()
                })
                """, new[] { client, transport }).WaitAsync(TimeSpan.FromSeconds(60));
            if (!ok && cell.Features.Values.All(f => f.State != FeatureState.Failed))
            {
                cell.Problems.Enqueue("the page's run failed; console: " + string.Join(" | ", console));
            }
            if (!restarted)
            {
                cell.Problems.Enqueue("the page never asked for the restart");
            }
        }
        catch (Exception e) when (e is TimeoutException or PlaywrightException)
        {
            cell.Problems.Enqueue("the page did not finish: " + e.Message);
        }
        finally
        {
            foreach (var problem in server.Problems(kickExpected: !restarted))
            {
                cell.Problems.Enqueue(problem);
            }
            await server.Server.DisposeAsync();
        }
        return cell.Finish();
    }
}
