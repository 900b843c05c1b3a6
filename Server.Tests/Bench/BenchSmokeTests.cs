using System.Text.Json;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Bench;

/// <summary>
/// Keeps the benchmark harness working: runs bench/LoadGen in smoke mode (tiny counts, one run, unpinned)
/// against our server, the Node references when node_modules is there, python-socketio when Debian's packages are
/// installed, and the echo server, then checks that
/// it wrote a results file with sane numbers. Not a measurement; the real run is bench/run.sh.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class BenchSmokeTests
{
    /// <summary>Debian's python3-socketio and python3-aiohttp, which ./test.sh installs, under the interpreter LoadGen uses.</summary>
    private static bool PythonSocketIoInstalled()
    {
        try
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", ["-c", "import socketio, aiohttp"])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            });
            if (p is null || !p.WaitForExit(30_000))
            {
                return false;
            }
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    [Test]
    [CancelAfter(300_000)]
    public async Task SmokeRunProducesSaneNumbers()
    {
        var (exit, outDir) = await RunSmokeAsync();
        try
        {
            Assert.That(exit, Is.Zero, "LoadGen --smoke failed");
            Assert.That(File.Exists(Path.Combine(outDir, "smoke.md")), "results file");
            Assert.That(File.ReadAllText(Path.Combine(outDir, "smoke.svg")), Does.StartWith("<svg"));
            using var raw = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "raw", "smoke.json")));
            var servers = raw.RootElement.EnumerateObject().Select(p => p.Name).ToList();
            Assert.That(servers, Does.Contain("ours-codelab"));
            if (Directory.Exists(RepoPaths.Combine("node_modules", "socket.io-4")))
            {
                Assert.That(servers, Does.Contain("node-4.8.1"));
            }
            if (PythonSocketIoInstalled())
            {
                Assert.That(servers, Does.Contain("python-5.7"));
                // The interleaved saturation ran every Socket.IO server and compared each with Node 4.8.1.
                var ours = raw.RootElement.GetProperty("ours-codelab")[0];
                Assert.That(ours.GetProperty("relay.200.paired.per_core").GetDouble(), Is.GreaterThan(0), "interleaved saturation measured");
                Assert.That(raw.RootElement.GetProperty("python-5.7")[0].TryGetProperty("relay.200.paired.ratio_n4", out _), "python compared with Node 4.8.1");
            }
            // The CPU per message at the goal's rate, ours and the echo interleaved, with the ratio taken within a round.
            var codelab = raw.RootElement.GetProperty("ours-codelab")[0];
            Assert.That(codelab.GetProperty("relay.200.cpu_paired.us_per_msg").GetDouble(), Is.GreaterThan(0), "interleaved CPU per message measured");
            Assert.That(codelab.GetProperty("relay.200.cpu_paired.ratio_echo").GetDouble(), Is.GreaterThan(0), "interleaved CPU per message compared with the echo");
            Assert.That(raw.RootElement.GetProperty("echo")[0].GetProperty("relay.200.cpu_paired.us_per_msg").GetDouble(), Is.GreaterThan(0), "the echo in the CPU rounds");
            foreach (var server in raw.RootElement.EnumerateObject())
            {
                var m = server.Value[0];
                double Get(string key) => m.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
                Assert.Multiple(() =>
                {
                    // Measured, not judged: 50 connections move RSS less than the runtime's own heap trimming can, so the
                    // difference from the start may come out below zero.
                    Assert.That(Get("idle.50.rss_kb_per_conn"), Is.GreaterThan(-10_000).And.LessThan(10_000), server.Name + " idle RSS");
                    Assert.That(Get("conn.ws.rate"), Is.GreaterThan(0), server.Name + " connect rate");
                    Assert.That(Get("conn.ws.failed"), Is.Zero, server.Name + " connect failures");
                    Assert.That(Get("relay.200.1000.p99_ms"), Is.GreaterThan(0).And.LessThan(5_000), server.Name + " relay p99");
                    // Measured, not judged: a 0.5 s unpinned saturation window on a busy test machine can come out 0.
                    Assert.That(Get("relay.200.sat.msgs_per_s"), Is.GreaterThanOrEqualTo(0), server.Name + " saturation measured");
                    Assert.That(Get("hb.conns"), Is.EqualTo(50), server.Name + " connections alive through the heartbeat");
                });
                if (server.Name.StartsWith("ours", StringComparison.Ordinal))
                {
                    Assert.That(Get("idle.50.heap_kb_per_conn"), Is.Not.NaN, "diagnostics endpoint answered");
                }
            }
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    [Test]
    [CancelAfter(300_000)]
    public async Task TheFloorServerConnectsRelaysAndIsMeasuredBesideOursAndTheEcho()
    {
        var (exit, outDir) = await RunSmokeAsync("--only", "floor,ours-codelab,echo", "--scenarios", "b,c");
        try
        {
            Assert.That(exit, Is.Zero, "LoadGen --smoke --only floor,... failed");
            using var raw = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "raw", "smoke.json")));
            var floor = raw.RootElement.GetProperty("floor")[0];
            double Get(string key) => floor.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
            Assert.Multiple(() =>
            {
                Assert.That(Get("conn.ws.rate"), Is.GreaterThan(0), "connect + create or join");
                Assert.That(Get("conn.ws.failed"), Is.Zero, "connect failures");
                Assert.That(Get("relay.200.1000.p99_ms"), Is.GreaterThan(0).And.LessThan(5_000), "relayed and timed");
                Assert.That(Get("relay.200.cpu_paired.us_per_msg"), Is.GreaterThan(0), "in the CPU rounds with ours and the echo");
                Assert.That(floor.TryGetProperty("conn.poll.rate", out _), Is.False, "no polling: the floor speaks WebSocket only");
            });
        }
        finally
        {
            if (Directory.Exists(outDir))
            {
                Directory.Delete(outDir, recursive: true);
            }
        }
    }

    /// <summary>Runs bench/LoadGen in smoke mode with <paramref name="extra"/> arguments; its exit code and its output folder.</summary>
    private static async Task<(int Exit, string OutDir)> RunSmokeAsync(params string[] extra)
    {
        // The solution builds LoadGen, EchoServer and FloorServer in the same configuration as the tests.
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string loadGen = RepoPaths.Combine("bench", "LoadGen", "bin", configuration, "net10.0", "LoadGen.dll");
        if (!File.Exists(loadGen))
        {
            Assert.Fail($"{loadGen} not built: Server.Tests references bench/LoadGen so that it is");
        }
        string outDir = Path.Combine(Path.GetTempPath(), "bench-smoke-" + Guid.NewGuid().ToString("N"));
        await using var process = ChildProcess.Start("dotnet",
            [loadGen, "--smoke", "--no-pin", "--configuration", configuration, "--out", outDir, "--root", RepoPaths.Root, .. extra]);
        int exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(290));
        TestContext.Out.WriteLine(string.Join("\n", process.Output));
        TestContext.Out.WriteLine(string.Join("\n", process.Errors));
        return (exit, outDir);
    }
}
