using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LoadGen;

/// <summary>One cluster shape of scenario (f).</summary>
public sealed record Topology(string Name, string Label, int Nodes, bool Redis);

/// <summary>
/// (f) Scale-out: the rooms-mode relay through Redis. The generator starts its own redis-server (free port, no
/// persistence) and our server in rooms mode: one node in memory (the reference), one node with <c>--redis</c>
/// (both peers of every pair on it), and two nodes with <c>--redis</c> (peer 1 on node A, peer 2 on node B,
/// so every relayed message crosses Redis). Nodes and redis-server are all pinned to the server CPU, the
/// generator stays on the other: the cluster never gets more CPU than one node had, so the comparison is the
/// cost of the Redis hop, not added capacity. Runs only with <c>--only scaleout</c>; writes
/// <c>&lt;name&gt;-scaleout.md</c>.
/// </summary>
public static partial class ScaleOut
{
    public const string Name = "scaleout";
    private const int PayloadSize = 200;

    public static readonly Topology[] Topologies =
    [
        new("memory", "1 node, rooms in memory", 1, false),
        new("redis-1", "1 node + Redis, pairs on the node", 1, true),
        new("redis-2", "2 nodes + Redis, pairs split A/B", 2, true),
    ];

    private static readonly ServerDef[] NodeDefs =
    [
        new("node-A", "node A (rooms)", ServerKind.Ours, 4, true, Mode: "rooms"),
        new("node-B", "node B (rooms)", ServerKind.Ours, 4, true, Mode: "rooms"),
    ];

    private sealed class Pair(Conn a, Conn b)
    {
        public Conn A { get; } = a;
        public Conn B { get; } = b;
        /// <summary>Window of the direction B → A (released when A receives), and A → B.</summary>
        public SemaphoreSlim? ToA { get; set; }
        public SemaphoreSlim? ToB { get; set; }
    }

    public static async Task<int> RunAsync(Config cfg)
    {
        if (!File.Exists(cfg.ServerDll))
        {
            Console.Error.WriteLine($"scale-out: {cfg.ServerDll} not built");
            return 1;
        }
        string? version = Report.Run(cfg.RedisServer, "--version")?.Trim();
        if (version is null)
        {
            Console.Error.WriteLine($"scale-out: {cfg.RedisServer} not found (--redis-server PATH)");
            return 1;
        }
        var results = Topologies.ToDictionary(t => t.Name, _ => new List<Metrics>());
        var started = DateTime.UtcNow;
        string loadBefore = LoadAverage();
        for (int run = 0; run < cfg.Runs; run++)
        {
            for (int j = 0; j < Topologies.Length; j++)
            {
                var t = Topologies[(j + run) % Topologies.Length];
                Console.WriteLine($"scale-out run {run + 1}/{cfg.Runs}: {t.Label}");
                var m = new Metrics();
                try
                {
                    await MeasureAsync(t, cfg, m);
                }
                catch (Exception ex)
                {
                    Console.Error.WriteLine($"  {t.Name} failed: {ex}");
                    m.Set("error", 1);
                }
                results[t.Name].Add(m);
            }
        }
        var finished = DateTime.UtcNow;
        var name = (cfg.Name ?? (cfg.Smoke ? "smoke" : started.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))) + "-" + Name;
        Directory.CreateDirectory(Path.Combine(cfg.OutDir, "raw"));
        await File.WriteAllTextAsync(Path.Combine(cfg.OutDir, "raw", name + ".json"),
            JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        string md = Markdown(cfg, results, started, finished, version, loadBefore, LoadAverage());
        await File.WriteAllTextAsync(Path.Combine(cfg.OutDir, name + ".md"), md);
        Console.WriteLine($"wrote {Path.Combine(cfg.OutDir, name + ".md")} in {(finished - started).TotalSeconds:F0} s");
        return results.Values.All(l => l.All(m => !m.ContainsKey("error"))) ? 0 : 1;
    }

    private static async Task MeasureAsync(Topology t, Config cfg, Metrics m)
    {
        using var redis = t.Redis ? await RedisProcess.StartAsync(cfg) : null;
        var nodes = new List<ServerProcess>();
        var conns = new List<Conn>();
        try
        {
            for (int i = 0; i < t.Nodes; i++)
            {
                nodes.Add(await ServerProcess.StartAsync(NodeDefs[i], cfg, null, redis is null ? null : ["--redis", redis.Endpoint]));
                if (redis is not null)
                {
                    await WaitHealthyAsync(nodes[^1]);
                }
            }
            var pairs = new List<Pair>();
            for (int i = 0; i < cfg.ScalePairs; i++)
            {
                var pair = await ConnectPairAsync(nodes[0], nodes[^1], $"so-{i}");
                pairs.Add(pair);
                conns.Add(pair.A);
                conns.Add(pair.B);
            }
            await RelayAsync(pairs, nodes, redis, cfg, m);
            await FootprintAsync(nodes, redis, cfg, m, conns);
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

    private static async Task WaitHealthyAsync(ServerProcess node)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var r = await Conn.Http.GetAsync($"http://127.0.0.1:{node.Port}/healthz");
                if (r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (sw.Elapsed < TimeSpan.FromSeconds(15))
            {
            }
            if (sw.Elapsed > TimeSpan.FromSeconds(15))
            {
                throw new InvalidOperationException($"{node.Def.Name} never became healthy (Redis)");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Peer 1 creates the room on <paramref name="a"/>, then peer 2 joins it on <paramref name="b"/>.</summary>
    private static async Task<Pair> ConnectPairAsync(ServerProcess a, ServerProcess b, string room)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var ca = await Conn.ConnectWebSocketAsync(a.Port, 4, cts.Token);
        string ra = await ca.CreateOrJoinAsync(room, cts.Token);
        var cb = await Conn.ConnectWebSocketAsync(b.Port, 4, cts.Token);
        string rb = await cb.CreateOrJoinAsync(room, cts.Token);
        if (ra != "created" || rb != "joined")
        {
            ca.Abort();
            cb.Abort();
            throw new InvalidOperationException($"room {room}: peer 1 got {ra}, peer 2 got {rb} (expected created, joined)");
        }
        return new Pair(ca, cb);
    }

    private static double NodeCpu(List<ServerProcess> nodes) => nodes.Sum(n => n.CpuSeconds());

    private static async Task<double> PublishCallsAsync(RedisProcess? redis) =>
        redis is null ? 0 : await redis.InfoAsync("commandstats", "cmdstat_publish", "calls");

    private static async Task RelayAsync(List<Pair> pairs, List<ServerProcess> nodes, RedisProcess? redis, Config cfg, Metrics m)
    {
        var lat = new Latencies();
        long received = 0;
        var payload = new Payload(4, PayloadSize);
        foreach (var p in pairs)
        {
            p.A.OnEvent = (_, frame) => Got(p, toA: true, frame);
            p.B.OnEvent = (_, frame) => Got(p, toA: false, frame);
            p.A.StartLoop();
            p.B.StartLoop();
        }
        void Got(Pair p, bool toA, ReadOnlySpan<byte> frame)
        {
            if (Payload.TryReadStamp(frame, false, out long t))
            {
                lat.Add(Stopwatch.GetTimestamp() - t);
                Interlocked.Increment(ref received);
                (toA ? p.ToA : p.ToB)?.Release();
            }
        }
        long Received() => Interlocked.Read(ref received);

        foreach (int rate in cfg.ScaleRates)
        {
            await PacedAsync(pairs, payload, rate, cfg.WarmupMs / 1000.0);
            await Scenarios.DrainAsync(Received);
            lat.TakeAll();
            long r0 = Received();
            double n0 = NodeCpu(nodes), x0 = redis?.CpuSeconds() ?? 0, g0 = ProcStat.SelfCpuSeconds();
            double pub0 = await PublishCallsAsync(redis);
            var sw = Stopwatch.StartNew();
            long sent = await PacedAsync(pairs, payload, rate, cfg.ScaleSeconds);
            await Scenarios.DrainAsync(Received);
            double secs = sw.Elapsed.TotalSeconds;
            double nodeCpu = NodeCpu(nodes) - n0, redisCpu = (redis?.CpuSeconds() ?? 0) - x0, gen = ProcStat.SelfCpuSeconds() - g0;
            double pubs = await PublishCallsAsync(redis) - pub0;
            long got = Received() - r0;
            var (p50, p99, max, _) = Latencies.Stats(lat.TakeAll());
            string k = $"so.{rate}";
            m.Set($"{k}.p50_ms", p50);
            m.Set($"{k}.p99_ms", p99);
            m.Set($"{k}.max_ms", max);
            m.Set($"{k}.sent_per_s", sent / cfg.ScaleSeconds);
            m.Set($"{k}.lost", Math.Max(0, sent - got));
            m.Set($"{k}.node_cpu_pct", 100 * nodeCpu / secs);
            m.Set($"{k}.redis_cpu_pct", redis is null ? double.NaN : 100 * redisCpu / secs);
            m.Set($"{k}.us_per_msg", got == 0 ? double.NaN : (nodeCpu + redisCpu) * 1e6 / got);
            m.Set($"{k}.node_us_per_msg", got == 0 ? double.NaN : nodeCpu * 1e6 / got);
            m.Set($"{k}.redis_us_per_msg", redis is null || got == 0 ? double.NaN : redisCpu * 1e6 / got);
            m.Set($"{k}.publish_per_msg", redis is null || got == 0 ? double.NaN : pubs / got);
            m.Set($"{k}.gen_cpu_pct", 100 * gen / secs);
            Console.WriteLine($"  {rate}/s: sent {sent / cfg.ScaleSeconds:F0}/s got {got} p50 {p50:F2} p99 {p99:F2} max {max:F1} ms; node cpu {100 * nodeCpu / secs:F0}%, " +
                              $"redis cpu {100 * redisCpu / secs:F0}%, {(nodeCpu + redisCpu) * 1e6 / Math.Max(1, got):F1} us/msg, {pubs / Math.Max(1, got):F2} PUBLISH/msg, gen cpu {100 * gen / secs:F0}%");
            await Task.Delay(100);
        }

        // saturation: every direction of every pair keeps a window of messages in flight
        void NewWindows()
        {
            foreach (var p in pairs)
            {
                p.ToA = new SemaphoreSlim(cfg.ScaleWindow);
                p.ToB = new SemaphoreSlim(cfg.ScaleWindow);
            }
        }
        Task RunWindowed(CancellationToken ct) => Task.WhenAll(pairs.SelectMany(p => new[]
        {
            Scenarios.Windowed(p.A, payload, p.ToB!, ct),
            Scenarios.Windowed(p.B, payload, p.ToA!, ct),
        }));
        NewWindows();
        using (var warm = new CancellationTokenSource(cfg.WarmupMs))
        {
            await RunWindowed(warm.Token);
        }
        await Scenarios.DrainAsync(Received);
        NewWindows();
        lat.TakeAll();
        {
            long r0 = Received();
            double n0 = NodeCpu(nodes), x0 = redis?.CpuSeconds() ?? 0, g0 = ProcStat.SelfCpuSeconds();
            var sw = Stopwatch.StartNew();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(cfg.ScaleSeconds));
            var run = RunWindowed(cts.Token);
            await Task.Delay(TimeSpan.FromSeconds(cfg.ScaleSeconds));
            long got = Received() - r0;
            double secs = sw.Elapsed.TotalSeconds;
            double nodeCpu = NodeCpu(nodes) - n0, redisCpu = (redis?.CpuSeconds() ?? 0) - x0, gen = ProcStat.SelfCpuSeconds() - g0;
            await run;
            await Scenarios.DrainAsync(Received);
            var (p50, p99, _, _) = Latencies.Stats(lat.TakeAll());
            m.Set("so.sat.msgs_per_s", got / secs);
            m.Set("so.sat.node_cpu_pct", 100 * nodeCpu / secs);
            m.Set("so.sat.redis_cpu_pct", redis is null ? double.NaN : 100 * redisCpu / secs);
            m.Set("so.sat.per_core", nodeCpu + redisCpu > 0 ? got / (nodeCpu + redisCpu) : double.NaN);
            m.Set("so.sat.p50_ms", p50);
            m.Set("so.sat.p99_ms", p99);
            m.Set("so.sat.gen_cpu_pct", 100 * gen / secs);
            if (pairs.Any(p => p.A.Closed || p.B.Closed))
            {
                m.Set("so.sat.dropped", 1);
            }
            Console.WriteLine($"  saturation: {got / secs:F0} msg/s, node cpu {100 * nodeCpu / secs:F0}%, redis cpu {100 * redisCpu / secs:F0}% → " +
                              $"{got / Math.Max(nodeCpu + redisCpu, 1e-9):F0} msg/s per core; gen cpu {100 * gen / secs:F0}%; p50 {p50:F1} p99 {p99:F1} ms");
        }
        foreach (var p in pairs)
        {
            p.ToA = p.ToB = null;
        }
    }

    /// <summary>Both sides together send <paramref name="rate"/> messages/s, round robin over the pairs; the number sent.</summary>
    private static async Task<long> PacedAsync(List<Pair> pairs, Payload payload, int rate, double seconds)
    {
        var results = await Task.WhenAll(Pace([.. pairs.Select(p => p.A)]), Pace([.. pairs.Select(p => p.B)]));
        return results[0] + results[1];

        async Task<long> Pace(Conn[] side)
        {
            double perSecond = rate / 2.0;
            var buffer = payload.NewBuffer();
            long sent = 0;
            long total = (long)(perSecond * seconds);
            var sw = Stopwatch.StartNew();
            while (sent < total)
            {
                long due = Math.Min(total, (long)(sw.Elapsed.TotalSeconds * perSecond) + 1);
                while (sent < due)
                {
                    var c = side[(int)(sent % side.Length)];
                    payload.Stamp(buffer, Stopwatch.GetTimestamp());
                    try
                    {
                        await c.SendAsync(buffer, CancellationToken.None);
                    }
                    catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
                    {
                        return sent;
                    }
                    sent++;
                }
                if (sw.Elapsed.TotalSeconds > seconds + 1)
                {
                    break;
                }
                await Task.Delay(1);
            }
            return sent;
        }
    }

    /// <summary>Connections in room pairs (split over the nodes when there are two): node RSS and Redis memory per connection.</summary>
    private static async Task FootprintAsync(List<ServerProcess> nodes, RedisProcess? redis, Config cfg, Metrics m, List<Conn> conns)
    {
        await Task.Delay(cfg.SettleMs);
        long rss0 = nodes.Sum(n => n.Rss());
        double mem0 = redis is null ? 0 : await redis.InfoAsync("memory", "used_memory");
        int n = cfg.ScaleIdleConns;
        int next = 0, failed = 0;
        var opened = new List<Conn>();
        async Task Worker()
        {
            while (true)
            {
                int i = Interlocked.Increment(ref next) - 1;
                if (i >= n)
                {
                    return;
                }
                var node = nodes[i % nodes.Count];
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    var c = await Conn.ConnectWebSocketAsync(node.Port, 4, cts.Token);
                    await c.CreateOrJoinAsync($"idle-{i / 2}", cts.Token);
                    c.StartLoop();
                    lock (opened)
                    {
                        opened.Add(c);
                    }
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or System.Net.Sockets.SocketException
                                               or System.Net.WebSockets.WebSocketException or FormatException or JsonException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }
        try
        {
            var connecting = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, Math.Min(cfg.ConnectConcurrency, n)).Select(_ => Task.Run(Worker)));
            double connectSecs = connecting.Elapsed.TotalSeconds;
            await Task.Delay(cfg.SettleMs);
            long rss = nodes.Sum(x => x.Rss());
            double mem = redis is null ? 0 : await redis.InfoAsync("memory", "used_memory");
            int count = opened.Count;
            m.Set("foot.conns", count);
            m.Set("foot.connect_rate", count / connectSecs);
            m.Set("foot.failed", failed);
            m.Set("foot.node_kb_per_conn", count == 0 ? double.NaN : (rss - rss0) / 1024.0 / count);
            m.Set("foot.redis_b_per_conn", redis is null || count == 0 ? double.NaN : (mem - mem0) / count);
            if (redis is not null)
            {
                m.Set("foot.redis_keys", double.Parse(await redis.CommandAsync("DBSIZE"), CultureInfo.InvariantCulture));
                m.Set("foot.redis_used_mb", mem / 1048576.0);
            }
            Console.WriteLine($"  footprint: {count} conns (failed {failed}) at {count / connectSecs:F0}/s, node RSS {(rss - rss0) / 1024.0 / Math.Max(1, count):F1} KB/conn" +
                              (redis is null ? "" : $", Redis {(mem - mem0) / Math.Max(1, count):F0} B/conn"));
        }
        finally
        {
            foreach (var c in opened)
            {
                c.Abort();
            }
        }
    }

    // ---------------- report ----------------

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static double Med(Dictionary<string, List<Metrics>> results, string topology, string key)
    {
        var values = results[topology].Where(r => r.TryGetValue(key, out var v) && !double.IsNaN(v)).Select(r => r[key]).OrderBy(v => v).ToList();
        return values.Count == 0 ? double.NaN : values[values.Count / 2];
    }

    /// <summary>a/b within each run, then the median and range over the runs.</summary>
    private static (double Median, double Min, double Max) RunRatio(Dictionary<string, List<Metrics>> results, string a, string b, string key)
    {
        var ra = results[a];
        var rb = results[b];
        var ratios = new List<double>();
        for (int i = 0; i < Math.Min(ra.Count, rb.Count); i++)
        {
            if (ra[i].TryGetValue(key, out var x) && rb[i].TryGetValue(key, out var y) && y != 0 && !double.IsNaN(x) && !double.IsNaN(y))
            {
                ratios.Add(x / y);
            }
        }
        ratios.Sort();
        return ratios.Count == 0 ? (double.NaN, double.NaN, double.NaN) : (ratios[ratios.Count / 2], ratios[0], ratios[^1]);
    }

    private static string N(double v, int digits = 1) =>
        double.IsNaN(v) ? "–" : Math.Abs(v) >= 1000 ? v.ToString("N0", Inv) : v.ToString("F" + digits, Inv);

    private static string R(Dictionary<string, List<Metrics>> results, string t, string key)
    {
        if (t == "memory")
        {
            return "1×";
        }
        var (med, min, max) = RunRatio(results, t, "memory", key);
        return double.IsNaN(med) ? "–" : $"{med.ToString("0.00", Inv)}× [{min.ToString("0.00", Inv)}–{max.ToString("0.00", Inv)}]";
    }

    /// <summary>The 1-minute load average (other work on the machine shows here).</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string Markdown(Config cfg, Dictionary<string, List<Metrics>> results, DateTime started, DateTime finished, string redisVersion,
        string loadBefore, string loadAfter)
    {
        var sb = new StringBuilder();
        void L(string s) => sb.AppendLine(s);
        L($"# Scale-out benchmark {started:yyyy-MM-dd}: relay through Redis, one node vs two{(cfg.Smoke ? " (smoke mode: tiny counts, not a measurement)" : "")}");
        L("");
        L($"Machine: nproc --all {Report.Run("nproc", "--all")?.Trim()}, {Report.CpuModel()}, kernel {Report.Run("uname", "-r")?.Trim()}, {Report.MemTotal()}. " +
          $"Runtime .NET {Environment.Version}; {redisVersion.Split(' ').Take(3).Aggregate((x, y) => x + " " + y)}.");
        L($"Run: {started:u} → {finished:u} ({(finished - started).TotalMinutes:F1} min), {cfg.Runs} run(s), medians over the runs " +
          "(ratios: computed within each run against the in-memory node, median [min–max]); the three topologies alternate within each run, each started fresh. " +
          $"1-minute load average {loadBefore} before, {loadAfter} after (2 means both cores busy).");
        L("");
        L("How: `bench/run.sh --only scaleout`. Our server in **rooms mode** (a `message` goes to the sender's room only, and the " +
          $"`log` echo back to the sender). {cfg.ScalePairs} room pairs; both peers of every pair send {PayloadSize} B `message`s, round robin over " +
          "the pairs; latency is one-way, from the timestamp in the payload to its arrival at the peer. A \"msg\" below is one relayed `message` " +
          "(delivered to the peer).");
        L("");
        L("- **1 node, rooms in memory**: the reference, no Redis.");
        L("- **1 node + Redis, pairs on the node**: `--redis`; both peers on the same node. The node delivers locally *and* publishes every " +
          "room broadcast to Redis (as the Node adapter does), and receives its own message back from the pattern subscription (and drops it).");
        L("- **2 nodes + Redis, pairs split A/B**: peer 1 on node A, peer 2 on node B, so every relayed message goes node → Redis → " +
          "other node. Room membership and the two-member rule are in Redis.");
        L("");
        L(cfg.Pin
            ? $"Pinning: every node **and** redis-server run on CPU {cfg.ServerCpu} (`taskset -c {cfg.ServerCpu}`), the generator on the other core. " +
              "On 2 cores this is the only split that leaves the generator a core of its own; it means the two-node cluster gets no more CPU " +
              "than the single node, so these numbers measure **what the Redis hop costs per message**, not the capacity two machines add. " +
              "Latencies include the scheduling of two or three processes on one core."
            : "Pinning: none (--no-pin); the numbers mean little.");
        L("");
        if (cfg.Smoke)
        {
            L("Smoke mode checks that the harness works end to end; its numbers mean nothing.");
            L("");
        }

        L($"## Relay at fixed rates ({cfg.ScaleSeconds} s each after {cfg.WarmupMs} ms warm-up)");
        L("");
        L("| topology | rate msg/s | sent/s | p50 ms | p99 ms | max ms | node CPU % | Redis CPU % | CPU µs/msg (nodes + Redis) | vs in memory | PUBLISH/msg | not delivered |");
        L("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (int rate in cfg.ScaleRates)
        {
            foreach (var t in Topologies)
            {
                string k = $"so.{rate}";
                L($"| {t.Label} | {rate} | {N(Med(results, t.Name, k + ".sent_per_s"), 0)} | {N(Med(results, t.Name, k + ".p50_ms"), 2)} | " +
                  $"{N(Med(results, t.Name, k + ".p99_ms"), 2)} | {N(Med(results, t.Name, k + ".max_ms"), 1)} | {N(Med(results, t.Name, k + ".node_cpu_pct"), 0)} | " +
                  $"{N(Med(results, t.Name, k + ".redis_cpu_pct"), 0)} | {N(Med(results, t.Name, k + ".us_per_msg"), 1)} " +
                  $"({N(Med(results, t.Name, k + ".node_us_per_msg"), 1)} + {N(Med(results, t.Name, k + ".redis_us_per_msg"), 1)}) | " +
                  $"{R(results, t.Name, k + ".us_per_msg")} | {N(Med(results, t.Name, k + ".publish_per_msg"), 2)} | {N(Med(results, t.Name, k + ".lost"), 0)} |");
            }
        }
        L("");
        L($"## Saturation ({cfg.ScaleWindow} messages in flight per direction per pair, {2 * cfg.ScaleWindow * cfg.ScalePairs} in all, {cfg.ScaleSeconds} s)");
        L("");
        L("| topology | msg/s | vs in memory | node CPU % | Redis CPU % | msg/s per core (nodes + Redis CPU) | vs in memory | p50 ms | p99 ms | generator CPU % |");
        L("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var t in Topologies)
        {
            L($"| {t.Label} | {N(Med(results, t.Name, "so.sat.msgs_per_s"), 0)} | {R(results, t.Name, "so.sat.msgs_per_s")} | " +
              $"{N(Med(results, t.Name, "so.sat.node_cpu_pct"), 0)} | {N(Med(results, t.Name, "so.sat.redis_cpu_pct"), 0)} | " +
              $"{N(Med(results, t.Name, "so.sat.per_core"), 0)} | {R(results, t.Name, "so.sat.per_core")} | {N(Med(results, t.Name, "so.sat.p50_ms"), 1)} | " +
              $"{N(Med(results, t.Name, "so.sat.p99_ms"), 1)} | {N(Med(results, t.Name, "so.sat.gen_cpu_pct"), 0)} |");
        }
        L("");
        L($"## Footprint: {cfg.ScaleIdleConns} more connections, each in a room pair (split over the nodes when there are two), {cfg.ConnectConcurrency} at a time");
        L("");
        L("Node RSS per connection here is rough (a few thousand connections, no forced GC); scenario (a) of the main benchmark measures it at 15k. " +
          "Redis memory is `used_memory` before and after: per connection, its member in the namespace set, its own-id room, its pair's room and its node's index.");
        L("");
        L("| topology | connections | connect + `create or join` /s | vs in memory | node RSS KB/conn | Redis B/conn | Redis keys after | Redis used_memory MB after |");
        L("|---|---|---|---|---|---|---|---|");
        foreach (var t in Topologies)
        {
            L($"| {t.Label} | {N(Med(results, t.Name, "foot.conns"), 0)} | {N(Med(results, t.Name, "foot.connect_rate"), 0)} | {R(results, t.Name, "foot.connect_rate")} | " +
              $"{N(Med(results, t.Name, "foot.node_kb_per_conn"), 1)} | " +
              $"{N(Med(results, t.Name, "foot.redis_b_per_conn"), 0)} | {N(Med(results, t.Name, "foot.redis_keys"), 0)} | {N(Med(results, t.Name, "foot.redis_used_mb"), 1)} |");
        }
        L("");
        var errors = Topologies.Where(t => results[t.Name].Any(r => r.ContainsKey("error"))).Select(t => t.Label).ToList();
        if (errors.Count > 0)
        {
            L($"Failed runs: {string.Join(", ", errors)} (see the generator's output).");
            L("");
        }
        return sb.ToString();
    }
}
