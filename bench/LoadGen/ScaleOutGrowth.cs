using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LoadGen;

/// <summary>
/// (f), the cluster-growth half: four nodes on one Redis, in classic mode and in sharded mode. Node 0 carries its
/// own room pairs (both peers on it) at a constant rate; the other three carry pairs split between them, at 1×, 2×,
/// 4×, 8× that rate. What node 0 spends per own message at each step shows whether a node pays for traffic it has
/// no member for: in classic mode every node receives every room broadcast (pattern subscription); in sharded mode
/// (dynamic subscriptions) only the nodes with members in the room do. Then a footprint step: idle room pairs
/// over the four nodes, Redis memory per connection. Runs with <c>--only scaleout-growth</c>; writes
/// <c>&lt;name&gt;-scenario-f.md</c>.
/// </summary>
public static partial class ScaleOut
{
    public const string GrowthName = "scaleout-growth";
    private static readonly string[] GrowthModes = ["classic", "sharded", Control];

    /// <summary>
    /// The control: node 0 on no Redis at all (its own pairs only), nodes 1–3 a classic cluster carrying the same
    /// foreign traffic. Node 0 does the same work at every step, so whatever its CPU per own message does is the
    /// machine's doing (the other core's load reaching this one), which the other modes' figures are divided by.
    /// </summary>
    private const string Control = "alone";

    private static ServerDef GrowthDef(int i) => new($"node-{i}", $"node {i} (rooms)", ServerKind.Ours, 4, true, Mode: "rooms");

    public static async Task<int> RunGrowthAsync(Config cfg)
    {
        if (!File.Exists(cfg.ServerDll))
        {
            Console.Error.WriteLine($"scale-out growth: {cfg.ServerDll} not built");
            return 1;
        }
        string? version = Report.Run(cfg.RedisServer, "--version")?.Trim();
        if (version is null)
        {
            Console.Error.WriteLine($"scale-out growth: {cfg.RedisServer} not found (--redis-server PATH)");
            return 1;
        }
        var results = GrowthModes.ToDictionary(mode => mode, _ => new List<Metrics>());
        var started = DateTime.UtcNow;
        string loadBefore = LoadAverage();
        for (int run = 0; run < cfg.Runs; run++)
        {
            for (int j = 0; j < GrowthModes.Length; j++)
            {
                string mode = GrowthModes[(j + run) % GrowthModes.Length];
                Console.WriteLine($"scale-out growth run {run + 1}/{cfg.Runs}: {mode}");
                var m = new Metrics();
                try
                {
                    await MeasureGrowthAsync(mode, cfg, m);
                }
                catch (Exception ex)
                {
                    Console.Error.WriteLine($"  {mode} failed: {ex}");
                    m.Set("error", 1);
                }
                results[mode].Add(m);
            }
        }
        var finished = DateTime.UtcNow;
        var name = (cfg.Name ?? (cfg.Smoke ? "smoke" : started.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))) + "-scenario-f";
        Directory.CreateDirectory(Path.Combine(cfg.OutDir, "raw"));
        await File.WriteAllTextAsync(Path.Combine(cfg.OutDir, "raw", name + ".json"),
            JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        await File.WriteAllTextAsync(Path.Combine(cfg.OutDir, name + ".md"), GrowthMarkdown(cfg, results, started, finished, version, loadBefore, LoadAverage()));
        Console.WriteLine($"wrote {Path.Combine(cfg.OutDir, name + ".md")} in {(finished - started).TotalSeconds:F0} s");
        return results.Values.All(l => l.All(m => !m.ContainsKey("error"))) ? 0 : 1;
    }

    private static async Task MeasureGrowthAsync(string mode, Config cfg, Metrics m)
    {
        // Isolated, node 0's CPU clock counts its own work only, not the cache and scheduler cost of sharing a core with
        // the nodes whose traffic grows.
        string? rest = cfg.GrowthIsolate ? OtherCpu(cfg.ServerCpu) : null;
        using var redis = await RedisProcess.StartAsync(cfg, rest);
        var nodes = new List<ServerProcess>();
        var conns = new List<Conn>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                string[] args = mode == Control
                    ? i == 0 ? [] : ["--redis", redis.Endpoint, "--Redis:Mode", "classic"]
                    : ["--redis", redis.Endpoint, "--Redis:Mode", mode];
                nodes.Add(await ServerProcess.StartAsync(GrowthDef(i), cfg, null, args, i == 0 ? null : rest));
                await WaitHealthyAsync(nodes[^1]);
            }
            double mem0 = await redis.InfoAsync("memory", "used_memory");
            var own = new List<Pair>();
            var others = new List<Pair>();
            for (int i = 0; i < cfg.GrowthPairs; i++)
            {
                own.Add(await ConnectPairAsync(nodes[0], nodes[0], $"own-{i}"));
                // The others' pairs cross between nodes 1..3, so each of their messages goes through Redis.
                others.Add(await ConnectPairAsync(nodes[1 + i % 3], nodes[1 + (i + 1) % 3], $"other-{i}"));
            }
            foreach (var p in own.Concat(others))
            {
                conns.Add(p.A);
                conns.Add(p.B);
            }
            await Task.Delay(cfg.SettleMs);
            double mem1 = await redis.InfoAsync("memory", "used_memory");
            m.Set("g.pairs_redis_b_per_conn", (mem1 - mem0) / conns.Count);
            await GrowthStepsAsync(own, others, nodes, redis, cfg, m);
            if (mode != Control)
            {
                await FootprintAsync(nodes, redis, cfg, m, conns);
            }
        }
        finally
        {
            foreach (var c in conns)
            {
                c.Abort();
            }
            foreach (var n in nodes)
            {
                n.Dispose();
            }
        }
    }

    private static async Task GrowthStepsAsync(List<Pair> own, List<Pair> others, List<ServerProcess> nodes, RedisProcess redis, Config cfg, Metrics m)
    {
        var lat = new Latencies();
        long ownGot = 0, otherGot = 0;
        var payload = new Payload(4, PayloadSize);
        foreach (var p in own)
        {
            p.A.OnEvent = (_, frame) => Got(frame, ref ownGot, lat);
            p.B.OnEvent = (_, frame) => Got(frame, ref ownGot, lat);
        }
        foreach (var p in others)
        {
            p.A.OnEvent = (_, frame) => Got(frame, ref otherGot, null);
            p.B.OnEvent = (_, frame) => Got(frame, ref otherGot, null);
        }
        foreach (var c in own.Concat(others).SelectMany(p => new[] { p.A, p.B }))
        {
            c.StartLoop();
        }
        static void Got(ReadOnlySpan<byte> frame, ref long counter, Latencies? lat)
        {
            if (Payload.TryReadStamp(frame, false, out long t))
            {
                lat?.Add(Stopwatch.GetTimestamp() - t);
                Interlocked.Increment(ref counter);
            }
        }
        long Received() => Interlocked.Read(ref ownGot) + Interlocked.Read(ref otherGot);

        // Discarded: the first measured step would otherwise carry the JIT's tiering and the first allocations of every path.
        await Task.WhenAll(PacedAsync(own, payload, cfg.GrowthOwnRate, cfg.GrowthWarmupSeconds),
            PacedAsync(others, payload, cfg.GrowthSteps[^1] * cfg.GrowthOwnRate, cfg.GrowthWarmupSeconds));
        await Scenarios.DrainAsync(Received);
        foreach (int step in cfg.GrowthSteps)
        {
            int ownRate = cfg.GrowthOwnRate, otherRate = step * cfg.GrowthOwnRate;
            await Task.WhenAll(PacedAsync(own, payload, ownRate, cfg.WarmupMs / 1000.0), PacedAsync(others, payload, otherRate, cfg.WarmupMs / 1000.0));
            await Scenarios.DrainAsync(Received);
            lat.TakeAll();
            long own0 = Interlocked.Read(ref ownGot), other0 = Interlocked.Read(ref otherGot);
            double c0 = nodes[0].CpuSeconds(), o0 = nodes.Skip(1).Sum(n => n.CpuSeconds()), x0 = redis.CpuSeconds();
            double read0 = await AllocatedBytesAsync(nodes[0]);
            var sw = Stopwatch.StartNew();
            await Task.WhenAll(PacedAsync(own, payload, ownRate, cfg.ScaleSeconds), PacedAsync(others, payload, otherRate, cfg.ScaleSeconds));
            await Scenarios.DrainAsync(Received);
            double secs = sw.Elapsed.TotalSeconds;
            double node0 = nodes[0].CpuSeconds() - c0, rest = nodes.Skip(1).Sum(n => n.CpuSeconds()) - o0, redisCpu = redis.CpuSeconds() - x0;
            long ownN = Interlocked.Read(ref ownGot) - own0, otherN = Interlocked.Read(ref otherGot) - other0;
            double read = await AllocatedBytesAsync(nodes[0]) - read0;
            var (p50, p99, _, _) = Latencies.Stats(lat.TakeAll());
            string k = $"g.{step}";
            m.Set($"{k}.own_per_s", ownN / secs);
            m.Set($"{k}.other_per_s", otherN / secs);
            m.Set($"{k}.node0_cpu_pct", 100 * node0 / secs);
            m.Set($"{k}.node0_us_per_own", ownN == 0 ? double.NaN : node0 * 1e6 / ownN);
            m.Set($"{k}.node0_alloc_b_per_own", ownN == 0 ? double.NaN : read / ownN);
            m.Set($"{k}.others_cpu_pct", 100 * rest / secs);
            m.Set($"{k}.redis_cpu_pct", 100 * redisCpu / secs);
            m.Set($"{k}.redis_us_per_msg", ownN + otherN == 0 ? double.NaN : redisCpu * 1e6 / (ownN + otherN));
            m.Set($"{k}.own_p50_ms", p50);
            m.Set($"{k}.own_p99_ms", p99);
            Console.WriteLine($"  {step}x: own {ownN / secs:F0}/s, others {otherN / secs:F0}/s; node 0 cpu {100 * node0 / secs:F1}% = {node0 * 1e6 / Math.Max(1, ownN):F1} us/own msg, " +
                              $"allocated {read / Math.Max(1, ownN):F0} B/own msg; " +
                              $"others cpu {100 * rest / secs:F0}%, redis cpu {100 * redisCpu / secs:F0}%; own p50 {p50:F2} p99 {p99:F2} ms");
            await Task.Delay(100);
        }
    }

    private static string OtherCpu(string cpu) => cpu == "0" ? "1" : "0";

    /// <summary>The bytes node 0 has allocated (its <c>/_diag/counters</c>): every message that reaches it, its own or another node's, allocates.</summary>
    private static async Task<double> AllocatedBytesAsync(ServerProcess server)
    {
        var json = await Conn.Http.GetStringAsync($"http://127.0.0.1:{server.Port}/_diag/counters");
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("allocatedBytes").GetDouble();
    }

    private static string GrowthMarkdown(Config cfg, Dictionary<string, List<Metrics>> results, DateTime started, DateTime finished, string redisVersion,
        string loadBefore, string loadAfter)
    {
        var sb = new StringBuilder();
        void L(string s) => sb.AppendLine(s);
        double Md(string mode, string key) => Med(results, mode, key);
        L($"# Scenario (f) {started:yyyy-MM-dd}: one node's cost while the cluster's traffic grows, classic vs sharded{(cfg.Smoke ? " (smoke mode: tiny counts, not a measurement)" : "")}");
        L("");
        L($"Machine: nproc --all {Report.Run("nproc", "--all")?.Trim()}, {Report.CpuModel()}, kernel {Report.Run("uname", "-r")?.Trim()}, {Report.MemTotal()}. " +
          $"Runtime .NET {Environment.Version}; {redisVersion.Split(' ').Take(3).Aggregate((x, y) => x + " " + y)}.");
        L($"Run: {started:u} → {finished:u} ({(finished - started).TotalMinutes:F1} min), {cfg.Runs} run(s), medians over the runs; the two modes alternate, " +
          $"each with a fresh Redis and fresh nodes. 1-minute load average {loadBefore} before, {loadAfter} after (2 means both cores busy).");
        L("");
        L($"How: `bench/run.sh --only {GrowthName}`. Four of our nodes in **rooms mode** on one redis-server, `--Redis:Mode classic` or " +
          $"`sharded` (dynamic subscriptions). Node 0 holds {cfg.GrowthPairs} room pairs of its own (both peers on it) sending " +
          $"{cfg.GrowthOwnRate} msg/s of {PayloadSize} B in all, at every step; nodes 1–3 hold {cfg.GrowthPairs} pairs split across them, " +
          $"sending {string.Join(", ", cfg.GrowthSteps.Select(s => s + "×"))} that rate. First {cfg.GrowthWarmupSeconds} s at the top rate, discarded; then each step: {cfg.WarmupMs} ms warm-up, {cfg.ScaleSeconds} s measured. " +
          "\"µs per own message\" is node 0's CPU time over the messages delivered in its own rooms: what it pays for its own traffic plus whatever " +
          "it pays for the others'. \"Bytes allocated\" is node 0's managed allocation (`GC.GetTotalAllocatedBytes`, from its `/_diag/counters`) " +
          "over the same messages: a measure of the work it does that does not drown in the CPU clock's 10 ms ticks. \"µs per added foreign msg\" is node 0's added CPU over the added messages of the others, against the first step. " +
          $"Mode `{Control}` is the control: node 0 on no Redis (its own pairs only) while nodes 1–3, a classic cluster, carry the same foreign traffic; node 0 does the same work at every step, " +
          "so its \"vs 1×\" is what the other core's load alone does to node 0's CPU clock, and \"over the control's\" divides each mode's \"vs 1×\" by the control's at the same step.");
        L("");
        L(!cfg.Pin ? "Pinning: none (--no-pin)."
            : cfg.GrowthIsolate ? $"Pinning: node 0 alone on CPU {cfg.ServerCpu}; nodes 1–3, redis-server and the generator on the other core (`--growth-shared-cpu` puts every node and Redis on CPU {cfg.ServerCpu})."
            : $"Pinning: nodes and redis-server on CPU {cfg.ServerCpu}, the generator on the other core.");
        L("");
        L("## Node 0's CPU per own message as the others' traffic grows");
        L("");
        L("| mode | others' rate | own msg/s | others' msg/s | node 0 CPU % | node 0 µs/own msg | vs 1× | vs 1×, over the control's | node 0 µs per added foreign msg | node 0 bytes allocated/own msg | vs 1× | nodes 1–3 CPU % | Redis CPU % | Redis µs/msg | own p50 ms | own p99 ms |");
        L("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        string b0 = $"g.{cfg.GrowthSteps[0]}";
        double controlBase = Md(Control, b0 + ".node0_us_per_own");
        foreach (var mode in GrowthModes)
        {
            string b = $"g.{cfg.GrowthSteps[0]}";
            double baseline = Md(mode, b + ".node0_us_per_own");
            double readBase = Md(mode, b + ".node0_alloc_b_per_own");
            foreach (int step in cfg.GrowthSteps)
            {
                string k = $"g.{step}";
                double us = Md(mode, k + ".node0_us_per_own");
                double read = Md(mode, k + ".node0_alloc_b_per_own");
                // Node 0's extra CPU (percent of a core) over the extra foreign messages per second, against the first step.
                double addedOthers = Md(mode, k + ".other_per_s") - Md(mode, b + ".other_per_s");
                double marginal = step == cfg.GrowthSteps[0] || addedOthers <= 0 ? double.NaN
                    : (Md(mode, k + ".node0_cpu_pct") - Md(mode, b + ".node0_cpu_pct")) / 100 * 1e6 / addedOthers;
                double control = Md(Control, k + ".node0_us_per_own") / controlBase;
                double corrected = us / baseline / control;
                L($"| {mode} | {step}× | {N(Md(mode, k + ".own_per_s"), 0)} | {N(Md(mode, k + ".other_per_s"), 0)} | {N(Md(mode, k + ".node0_cpu_pct"), 1)} | " +
                  $"{N(us, 1)} | {(double.IsNaN(us) || double.IsNaN(baseline) ? "–" : (us / baseline).ToString("0.00", Inv) + "×")} | " +
                  $"{(mode == Control || double.IsNaN(corrected) ? "–" : corrected.ToString("0.00", Inv) + "×")} | {N(marginal, 1)} | " +
                  $"{N(read, 0)} | {(double.IsNaN(read) || double.IsNaN(readBase) || readBase == 0 ? "–" : (read / readBase).ToString("0.00", Inv) + "×")} | " +
                  $"{N(Md(mode, k + ".others_cpu_pct"), 0)} | {N(Md(mode, k + ".redis_cpu_pct"), 0)} | {N(Md(mode, k + ".redis_us_per_msg"), 1)} | " +
                  $"{N(Md(mode, k + ".own_p50_ms"), 2)} | {N(Md(mode, k + ".own_p99_ms"), 2)} |");
            }
        }
        L("");
        L($"## Redis memory per connection");
        L("");
        L($"Measured twice: over the {4 * cfg.GrowthPairs} connections of the pairs above, and over {cfg.ScaleIdleConns} more idle connections in room pairs " +
          $"spread over the four nodes ({cfg.ConnectConcurrency} at a time). `used_memory` before and after; per connection: its member in the namespace set, " +
          "its own-id room, its pair's room and the index entries beside them.");
        L("");
        L("| mode | Redis B/conn (pairs) | idle connections | Redis B/conn (idle pairs) | node RSS KB/conn | Redis keys after | Redis used_memory MB after |");
        L("|---|---|---|---|---|---|---|");
        foreach (var mode in GrowthModes.Where(mode => mode != Control))
        {
            L($"| {mode} | {N(Md(mode, "g.pairs_redis_b_per_conn"), 0)} | {N(Md(mode, "foot.conns"), 0)} | {N(Md(mode, "foot.redis_b_per_conn"), 0)} | " +
              $"{N(Md(mode, "foot.node_kb_per_conn"), 1)} | {N(Md(mode, "foot.redis_keys"), 0)} | {N(Md(mode, "foot.redis_used_mb"), 1)} |");
        }
        L("");
        var errors = GrowthModes.Where(mode => results[mode].Any(r => r.ContainsKey("error"))).ToList();
        if (errors.Count > 0)
        {
            L($"Failed runs: {string.Join(", ", errors)} (see the generator's output).");
            L("");
        }
        return sb.ToString();
    }
}
