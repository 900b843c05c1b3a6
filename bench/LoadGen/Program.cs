using System.Globalization;
using System.Text.Json;

namespace LoadGen;

public sealed class Config
{
    public string Root { get; set; } = "";
    public string Configuration { get; set; } = "Release";
    public string ServerDll { get; set; } = "";
    public string EchoDll { get; set; } = "";
    public string FloorDll { get; set; } = "";

    /// <summary>The interpreter with Debian's python3-socketio and python3-aiohttp (not a virtualenv's or pyenv's).</summary>
    public string Python { get; set; } = "/usr/bin/python3";
    public bool Pin { get; set; } = true;
    public string ServerCpu { get; set; } = "0";

    /// <summary>(f): node 0 alone on <see cref="ServerCpu"/>; the other nodes and Redis beside the generator, so node 0's CPU is its own work only.</summary>
    public bool GrowthIsolate { get; set; } = true;
    public bool Smoke { get; set; }
    public int Runs { get; set; } = 3;
    public string OutDir { get; set; } = "";
    public string? Only { get; set; }
    public string? Name { get; set; }

    /// <summary>--scenarios a,b,e: which of (a) idle, (b) connect rate, (c) relay, (d) broadcast, (e) heartbeat run; all when null.</summary>
    public string? Scenarios { get; set; }

    /// <summary>
    /// --hold N: after the last idle level, keep the connections open N seconds (to take a gcdump of the server); with
    /// only traffic scenarios, wait N seconds after the server started (to attach a profiler).
    /// </summary>
    public int HoldSeconds { get; set; }

    /// <summary>--compare-dll PATH: another build of our server (e.g. the one before a change), run as "ours-compare".</summary>
    public string? CompareDll { get; set; }

    public bool Wants(char scenario) => Scenarios is null || Scenarios.Split(',').Any(s => s.Trim() == scenario.ToString());

    public int[] IdleLevels { get; set; } = [1000, 5000, 15000];
    public int HeartbeatIntervalMs { get; set; } = 2000;
    public int HeartbeatSeconds { get; set; } = 4;
    public int SettleMs { get; set; } = 1000;
    public int ConnectConcurrency { get; set; } = 100;
    public int ConnectCount { get; set; } = 4000;
    public int ConnectCountPolling { get; set; } = 2000;
    public int[] RelaySizes { get; set; } = [200, 3072];
    public int[] RelayRates { get; set; } = [1000, 5000, 10000, 20000];
    public double RelaySeconds { get; set; } = 2;

    /// <summary>
    /// The fixed-rate window at <see cref="GoalRate"/>, where the CPU-per-message goal is read: longer than the others,
    /// so one hiccup of the machine weighs less in it.
    /// </summary>
    public double GoalRelaySeconds { get; set; } = 6;

    /// <summary>The fixed rate of the CPU-per-message and p99 goals.</summary>
    public const int GoalRate = 10000;

    /// <summary>How long the fixed-rate window at this rate lasts.</summary>
    public double WindowAt(int rate) => rate == GoalRate ? Math.Max(RelaySeconds, GoalRelaySeconds) : RelaySeconds;

    /// <summary>Consecutive windows of <see cref="RelaySeconds"/> in one saturation; the figure is their median.</summary>
    public int SatWindows { get; set; } = 7;

    /// <summary>Rounds of the interleaved CPU-per-message measurement at <see cref="GoalRate"/> (ours and the echo in turn).</summary>
    public int CpuRounds { get; set; } = 5;

    /// <summary>Whether scenario (c) also runs the servers' saturation interleaved (see <see cref="Paired"/>); --no-paired skips it.</summary>
    public bool Paired { get; set; } = true;
    public int WarmupMs { get; set; } = 300;
    public int Window { get; set; } = 32;
    public int[] BroadcastSizes { get; set; } = [10, 50, 100, 200];
    public double BroadcastRate { get; set; } = 100;
    public double BroadcastSeconds { get; set; } = 1.5;

    // (f) scale-out through Redis (--only scaleout)
    public string RedisServer { get; set; } = "redis-server";
    public int ScalePairs { get; set; } = 16;
    public int[] ScaleRates { get; set; } = [1000, 5000, 10000];
    public double ScaleSeconds { get; set; } = 2;
    public int ScaleWindow { get; set; } = 4;
    public int ScaleIdleConns { get; set; } = 2000;

    // (f), cluster growth (--only scaleout-growth): node 0's own rate, the others' multiples of it, pairs per side
    public int GrowthOwnRate { get; set; } = 500;
    public int[] GrowthSteps { get; set; } = [1, 2, 4, 8];
    public int GrowthPairs { get; set; } = 8;
    public double GrowthWarmupSeconds { get; set; } = 5;

    public void MakeSmoke()
    {
        Smoke = true;
        Runs = 1;
        IdleLevels = [20, 50];
        HeartbeatIntervalMs = 500;
        HeartbeatSeconds = 1;
        SettleMs = 200;
        ConnectConcurrency = 10;
        ConnectCount = 20;
        ConnectCountPolling = 10;
        RelaySizes = [200];
        RelayRates = [1000];
        RelaySeconds = 0.5;
        GoalRelaySeconds = 0.5;
        SatWindows = 1;
        CpuRounds = 1;
        WarmupMs = 100;
        BroadcastSizes = [4, 8];
        BroadcastRate = 50;
        BroadcastSeconds = 0.5;
        ScalePairs = 2;
        ScaleRates = [500];
        ScaleSeconds = 0.3;
        ScaleIdleConns = 20;
        GrowthOwnRate = 100;
        GrowthSteps = [1, 2];
        GrowthPairs = 2;
        GrowthWarmupSeconds = 0.5;
    }

    /// <summary>--only names the scale-out scenario (f): it runs only when asked.</summary>
    public bool WantsScaleOut => Only is not null && Only.Split(',').Contains(ScaleOut.Name);

    /// <summary>--only names the growth half of scenario (f).</summary>
    public bool WantsGrowth => Only is not null && Only.Split(',').Contains(ScaleOut.GrowthName);

    /// <summary>--only names nothing but the scale-out scenarios: no per-server run.</summary>
    public bool OnlyScaleOut => (WantsScaleOut || WantsGrowth) && Only!.Split(',').All(n => n == ScaleOut.Name || n == ScaleOut.GrowthName);
}

public static class Program
{
    public static readonly ServerDef[] AllServers =
    [
        new("ours-codelab", "ours (codelab)", ServerKind.Ours, 4, true, Mode: "codelab"),
        new("ours-rooms", "ours (rooms)", ServerKind.Ours, 4, true, Mode: "rooms"),
        new("node-4.8.1", "Node socket.io 4.8.1", ServerKind.Node, 4, true, Script: "Server.Tests/node/reference-index-v4.js"),
        new("node-2.5.1", "Node socket.io 2.5.1 (seed)", ServerKind.Node, 3, true, Script: "Server.Tests/node/reference-index.js"),
        new("python-5.7", "python-socketio 5.7 (aiohttp)", ServerKind.Python, 4, true, Script: "bench/python/server.py"),
        new("echo", "Kestrel WebSocket echo", ServerKind.Echo, 0, false),
        new("floor", "floor (bare sockets, fixed answers)", ServerKind.Floor, 4, false),
    ];

    public static async Task<int> Main(string[] args)
    {
        var cfg = new Config();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => args[++i];
            switch (args[i])
            {
                case "--smoke": cfg.MakeSmoke(); break;
                case "--runs": cfg.Runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--out": cfg.OutDir = Next(); break;
                case "--root": cfg.Root = Next(); break;
                case "--configuration": cfg.Configuration = Next(); break;
                case "--server-dll": cfg.ServerDll = Next(); break;
                case "--echo-dll": cfg.EchoDll = Next(); break;
                case "--python": cfg.Python = Next(); break;
                case "--no-pin": cfg.Pin = false; break;
                case "--server-cpu": cfg.ServerCpu = Next(); break;
                case "--only": cfg.Only = Next(); break;
                case "--name": cfg.Name = Next(); break;
                case "--scenarios": cfg.Scenarios = Next(); break;
                case "--heartbeat-seconds": cfg.HeartbeatSeconds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--compare-dll": cfg.CompareDll = Next(); break;
                case "--hold": cfg.HoldSeconds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--relay-seconds": cfg.RelaySeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--cpu-rounds": cfg.CpuRounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--goal-relay-seconds": cfg.GoalRelaySeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--sat-windows": cfg.SatWindows = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--no-paired": cfg.Paired = false; break;
                case "--idle": cfg.IdleLevels = [.. Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--rates": cfg.RelayRates = [.. Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--sizes": cfg.RelaySizes = [.. Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--redis-server": cfg.RedisServer = Next(); break;
                case "--scale-rates": cfg.ScaleRates = [.. Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--scale-pairs": cfg.ScalePairs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--scale-seconds": cfg.ScaleSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--scale-idle": cfg.ScaleIdleConns = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--growth-rate": cfg.GrowthOwnRate = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--growth-steps": cfg.GrowthSteps = [.. Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--growth-shared-cpu": cfg.GrowthIsolate = false; break;
                case "--growth-pairs": cfg.GrowthPairs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]}");
                    Console.Error.WriteLine("usage: LoadGen [--smoke] [--runs N] [--out DIR] [--root REPO] [--configuration Release] [--no-pin] [--only a,b|scaleout|scaleout-growth] [--scale-seconds S] [--scale-idle N] [--growth-rate N] [--growth-steps 1,2,4,8] [--growth-pairs N] [--scenarios a,b,c,d,e] [--heartbeat-seconds N] [--hold SECONDS] [--compare-dll PATH] [--python PATH] [--sat-windows N] [--relay-seconds S] [--goal-relay-seconds S] [--cpu-rounds N] [--no-paired] [--name NAME] [--redis-server PATH]");
                    return 2;
            }
        }
        if (cfg.Root == "")
        {
            cfg.Root = FindRoot();
        }
        if (cfg.ServerDll == "")
        {
            cfg.ServerDll = Path.Combine(cfg.Root, "Server", "bin", cfg.Configuration, "net10.0", "SocketIoSignal.Server.dll");
        }
        if (cfg.EchoDll == "")
        {
            cfg.EchoDll = Path.Combine(cfg.Root, "bench", "EchoServer", "bin", cfg.Configuration, "net10.0", "EchoServer.dll");
        }
        if (cfg.FloorDll == "")
        {
            cfg.FloorDll = Path.Combine(cfg.Root, "bench", "FloorServer", "bin", cfg.Configuration, "net10.0", "FloorServer.dll");
        }
        if (cfg.OutDir == "")
        {
            cfg.OutDir = Path.Combine(cfg.Root, "bench", "results");
        }
        int scaleOutExit = 0;
        if (cfg.WantsScaleOut)
        {
            scaleOutExit = await ScaleOut.RunAsync(cfg);
        }
        if (cfg.WantsGrowth)
        {
            scaleOutExit = Math.Max(scaleOutExit, await ScaleOut.RunGrowthAsync(cfg));
        }
        if (cfg.WantsScaleOut || cfg.WantsGrowth)
        {
            if (cfg.OnlyScaleOut)
            {
                return scaleOutExit;
            }
        }
        var all = cfg.CompareDll is null
            ? AllServers
            : [.. AllServers, new ServerDef("ours-compare", "ours (codelab, --compare-dll build)", ServerKind.Ours, 4, true, Mode: "codelab", Dll: cfg.CompareDll)];
        var servers = all.Where(s => Available(s, cfg, out _)).ToList();
        foreach (var s in all.Except(servers))
        {
            Available(s, cfg, out var why);
            Console.WriteLine($"skipping {s.Name}: {why}");
        }
        if (servers.Count == 0)
        {
            Console.Error.WriteLine("no server available");
            return 1;
        }
        var results = servers.ToDictionary(s => s.Name, _ => new List<Metrics>());
        var started = DateTime.UtcNow;
        for (int run = 0; run < cfg.Runs; run++)
        {
            // alternate: every run goes through all servers, starting one further along each time
            for (int j = 0; j < servers.Count; j++)
            {
                var def = servers[(j + run) % servers.Count];
                Console.WriteLine($"run {run + 1}/{cfg.Runs}: {def.Label}");
                var m = new Metrics();
                try
                {
                    if (cfg.Wants('a') || cfg.Wants('e'))
                    {
                        await Scenarios.IdleAndHeartbeatAsync(def, cfg, m);
                    }
                    if (cfg.Wants('b') || cfg.Wants('c') || cfg.Wants('d'))
                    {
                        await Scenarios.TrafficAsync(def, cfg, m);
                    }
                }
                catch (Exception ex)
                {
                    Console.Error.WriteLine($"  {def.Name} failed: {ex}");
                    m.Set("error", 1);
                }
                results[def.Name].Add(m);
            }
            var cpuRounds = servers.Where(LoadGen.Paired.InCpuRounds).ToList();
            if (cfg.Wants('c') && cfg.Paired && cpuRounds.Count > 1 && cpuRounds.Any(s => s.Kind == ServerKind.Echo))
            {
                await InterleavedAsync(cpuRounds, $"CPU per message at {Config.GoalRate}/s", "CPU rounds", LoadGen.Paired.CpuAtGoalRateAsync);
            }
            var socketIo = servers.Where(s => s.Kind != ServerKind.Echo).ToList();
            if (cfg.Wants('c') && cfg.Paired && socketIo.Count > 1)
            {
                await InterleavedAsync(socketIo, "relay saturation", "saturation", LoadGen.Paired.RunAsync);
            }

            async Task InterleavedAsync(List<ServerDef> defs, string what, string failure,
                Func<IReadOnlyList<ServerDef>, Config, IReadOnlyDictionary<string, Metrics>, int, Task> measure)
            {
                Console.WriteLine($"run {run + 1}/{cfg.Runs}: {what}, servers interleaved");
                try
                {
                    await measure(defs, cfg, defs.ToDictionary(s => s.Name, s => results[s.Name][^1]), run);
                }
                catch (Exception ex)
                {
                    Console.Error.WriteLine($"  interleaved {failure} failed: {ex}");
                    results[defs[0].Name][^1].Set("error", 1);
                }
            }
        }
        var finished = DateTime.UtcNow;
        var name = cfg.Name ?? (cfg.Smoke ? "smoke" : started.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(Path.Combine(cfg.OutDir, "raw"));
        await File.WriteAllTextAsync(Path.Combine(cfg.OutDir, "raw", name + ".json"),
            JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        var report = new Report(cfg, servers, results, started, finished);
        await File.WriteAllTextAsync(Path.Combine(cfg.OutDir, name + ".svg"), report.Svg());
        await File.WriteAllTextAsync(Path.Combine(cfg.OutDir, name + ".md"), report.Markdown(name + ".svg"));
        Console.WriteLine($"wrote {Path.Combine(cfg.OutDir, name + ".md")} in {(finished - started).TotalSeconds:F0} s");
        return results.Values.All(l => l.All(m => !m.ContainsKey("error"))) && scaleOutExit == 0 ? 0 : 1;
    }

    private static bool Available(ServerDef s, Config cfg, out string why)
    {
        why = "";
        if (cfg.Only is not null && !cfg.Only.Split(',').Contains(s.Name))
        {
            why = "not in --only";
            return false;
        }
        switch (s.Kind)
        {
            case ServerKind.Floor when cfg.Only is null:
                why = "only with --only floor";
                return false;
            case ServerKind.Floor when !File.Exists(cfg.FloorDll):
                why = cfg.FloorDll + " not built";
                return false;
            case ServerKind.Ours when !File.Exists(s.Dll ?? cfg.ServerDll):
                why = (s.Dll ?? cfg.ServerDll) + " not built";
                return false;
            case ServerKind.Echo when !File.Exists(cfg.EchoDll):
                why = cfg.EchoDll + " not built";
                return false;
            case ServerKind.Node when !Directory.Exists(Path.Combine(cfg.Root, "node_modules", s.Eio == 3 ? "socket.io" : "socket.io-4")):
                why = "node_modules missing (npm ci)";
                return false;
            case ServerKind.Node when Report.Run("node", "--version") is null:
                why = "node not on PATH";
                return false;
            case ServerKind.Python when Report.Run(cfg.Python, "-c", "import socketio, aiohttp") is null:
                why = $"{cfg.Python} cannot import socketio and aiohttp (apt-get install python3-socketio python3-aiohttp)";
                return false;
        }
        return true;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SocketIoSignal.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }
}
