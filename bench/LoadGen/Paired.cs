using System.Diagnostics;

namespace LoadGen;

/// <summary>
/// Relay saturation with the servers interleaved (scenario c, "paired"): every Socket.IO server of the run is started
/// at once, pinned to the same core, each with its own relay pair; then, round after round, each server in turn
/// saturates its pair for one window while the others sit idle. A ratio of two servers is taken within a round —
/// two windows seconds apart, under the same load from the rest of the machine — and the figure is the median over
/// the rounds, with its range. Messages per server CPU-second use the CPU time of the server process (/proc), so time
/// the core gives to other processes does not count against a server.
/// </summary>
public static class Paired
{
    public const string Baseline = "node-4.8.1";

    private sealed class Pair
    {
        public required ServerDef Def { get; init; }
        public required ServerProcess Server { get; init; }
        public required Conn A { get; init; }
        public required Conn B { get; init; }
        public long Received;
        public SemaphoreSlim WindowA = new(0);
        public SemaphoreSlim WindowB = new(0);
        public readonly List<double> PerCore = [];
    }

    /// <summary>Runs the interleaved saturation for every size; metrics go to each server's <paramref name="metrics"/> of this run.</summary>
    public static async Task RunAsync(IReadOnlyList<ServerDef> defs, Config cfg, IReadOnlyDictionary<string, Metrics> metrics, int run)
    {
        var pairs = new List<Pair>();
        try
        {
            // Each stamped message back also frees a place in the window of the direction it came by.
            await StartPairsAsync(defs, cfg, "paired", pairs, static (pair, c) => (c == pair.B ? pair.WindowA : pair.WindowB).Release());
            foreach (int size in cfg.RelaySizes)
            {
                var payload = new Payload(4, size);
                foreach (var p in pairs)
                {
                    p.PerCore.Clear();
                }
                var ratios = new List<double>();
                // A round that does not count: each server's first saturation after its start (V8's and .NET's JIT
                // still at work) came out far below the rest.
                foreach (var p in pairs)
                {
                    await WindowAsync(p, payload, cfg);
                }
                for (int round = 0; round < cfg.SatWindows; round++)
                {
                    // Each round starts one server further along, so no server always follows the same one.
                    var inRound = new Dictionary<string, double>();
                    for (int j = 0; j < pairs.Count; j++)
                    {
                        var p = pairs[(j + round + run) % pairs.Count];
                        double perCore = await WindowAsync(p, payload, cfg);
                        p.PerCore.Add(perCore);
                        inRound[p.Def.Name] = perCore;
                    }
                    if (inRound.TryGetValue(Baseline, out var baseline) && baseline > 0)
                    {
                        Console.WriteLine("    round " + (round + 1) + ": " + string.Join(", ", inRound.Select(kv => $"{kv.Key} {kv.Value:F0}")) + " msg/s per core");
                    }
                    ratios.Add(inRound.TryGetValue("ours-codelab", out var ours) && baseline > 0 ? ours / baseline : double.NaN);
                }
                foreach (var p in pairs)
                {
                    var m = metrics[p.Def.Name];
                    string k = $"relay.{size}.paired";
                    m.Set($"{k}.per_core", Scenarios.Median(p.PerCore));
                    m.Set($"{k}.per_core_min", p.PerCore.Count == 0 ? double.NaN : p.PerCore.Min());
                    m.Set($"{k}.per_core_max", p.PerCore.Count == 0 ? double.NaN : p.PerCore.Max());
                    if (p.Def.Name != Baseline && metrics.ContainsKey(Baseline))
                    {
                        var own = new List<double>();
                        var baselinePerCore = pairs.First(q => q.Def.Name == Baseline).PerCore;
                        for (int i = 0; i < Math.Min(p.PerCore.Count, baselinePerCore.Count); i++)
                        {
                            if (baselinePerCore[i] > 0)
                            {
                                own.Add(p.PerCore[i] / baselinePerCore[i]);
                            }
                        }
                        m.Set($"{k}.ratio_n4", Scenarios.Median(own));
                        m.Set($"{k}.ratio_n4_min", own.Count == 0 ? double.NaN : own.Min());
                        m.Set($"{k}.ratio_n4_max", own.Count == 0 ? double.NaN : own.Max());
                    }
                    Console.WriteLine($"  paired saturation {size} B, {p.Def.Label}: {Scenarios.Median(p.PerCore):F0} msg/s per server core " +
                                      $"[{(p.PerCore.Count == 0 ? 0 : p.PerCore.Min()):F0}–{(p.PerCore.Count == 0 ? 0 : p.PerCore.Max()):F0}] over {p.PerCore.Count} rounds" +
                                      (m.TryGetValue($"{k}.ratio_n4", out var r) ? $", {r:F2}× Node 4.8.1 [{m[$"{k}.ratio_n4_min"]:F2}–{m[$"{k}.ratio_n4_max"]:F2}]" : ""));
                }
            }
        }
        finally
        {
            StopPairs(pairs);
        }
    }

    /// <summary>The servers whose CPU per message at the goal's rate is measured interleaved: ours (and a compared build) and the echo.</summary>
    public static bool InCpuRounds(ServerDef def) => def.Name is "ours-codelab" or "ours-compare" || def.Kind is ServerKind.Echo or ServerKind.Floor;

    /// <summary>
    /// Server CPU per relayed message at <see cref="Config.GoalRate"/> with the servers interleaved: ours and the echo
    /// started at once on the same core, each with its pair; round after round each in turn relays at the fixed rate
    /// for one window while the others sit idle. The ratio to the echo is taken within a round (the machine's speed
    /// moved by a third between minutes on this shared machine, in both directions), and the figure is its median.
    /// </summary>
    public static async Task CpuAtGoalRateAsync(IReadOnlyList<ServerDef> defs, Config cfg, IReadOnlyDictionary<string, Metrics> metrics, int run)
    {
        var pairs = new List<Pair>();
        try
        {
            await StartPairsAsync(defs, cfg, "paired-cpu", pairs, onMessage: null);
            var echo = pairs.FirstOrDefault(p => p.Def.Kind == ServerKind.Echo);
            foreach (int size in cfg.RelaySizes)
            {
                var perMessage = pairs.ToDictionary(p => p.Def.Name, _ => new List<double>());
                var ratios = pairs.ToDictionary(p => p.Def.Name, _ => new List<double>());
                // A round that does not count: the first traffic after a start still pays for compilation.
                foreach (var p in pairs)
                {
                    await CpuWindowAsync(p, new Payload(p.Def.Eio, size), cfg);
                }
                for (int round = 0; round < cfg.CpuRounds; round++)
                {
                    var inRound = new Dictionary<string, double>();
                    for (int j = 0; j < pairs.Count; j++)
                    {
                        var p = pairs[(j + round + run) % pairs.Count];
                        double us = await CpuWindowAsync(p, new Payload(p.Def.Eio, size), cfg);
                        perMessage[p.Def.Name].Add(us);
                        inRound[p.Def.Name] = us;
                    }
                    Console.WriteLine($"    cpu round {round + 1}, {size} B @ {Config.GoalRate}/s: " + string.Join(", ", inRound.Select(kv => $"{kv.Key} {kv.Value:F2} us/msg")));
                    if (echo is not null && inRound[echo.Def.Name] > 0)
                    {
                        foreach (var (name, us) in inRound)
                        {
                            ratios[name].Add(us / inRound[echo.Def.Name]);
                        }
                    }
                }
                foreach (var p in pairs)
                {
                    var m = metrics[p.Def.Name];
                    string k = $"relay.{size}.cpu_paired";
                    m.Set($"{k}.us_per_msg", Scenarios.Median(perMessage[p.Def.Name]));
                    var own = ratios[p.Def.Name];
                    if (p != echo && own.Count > 0)
                    {
                        m.Set($"{k}.ratio_echo", Scenarios.Median(own));
                        m.Set($"{k}.ratio_echo_min", own.Min());
                        m.Set($"{k}.ratio_echo_max", own.Max());
                        Console.WriteLine($"  interleaved CPU per message {size} B @ {Config.GoalRate}/s, {p.Def.Label}: {Scenarios.Median(perMessage[p.Def.Name]):F2} us, " +
                                          $"{Scenarios.Median(own):F2}× the echo [{own.Min():F2}–{own.Max():F2}] over {own.Count} rounds");
                    }
                }
            }
        }
        finally
        {
            StopPairs(pairs);
        }
    }

    /// <summary>Warm-up, then one window at the goal's fixed rate on this pair alone; server CPU µs per relayed message.</summary>
    private static async Task<double> CpuWindowAsync(Pair p, Payload payload, Config cfg)
    {
        await Scenarios.PacedAsync(p.A, p.B, payload, Config.GoalRate, cfg.WarmupMs / 1000.0);
        await Scenarios.DrainAsync(() => Interlocked.Read(ref p.Received));
        long r0 = Interlocked.Read(ref p.Received);
        var cpu = p.Server.StartCpu();
        await Scenarios.PacedAsync(p.A, p.B, payload, Config.GoalRate, cfg.RelaySeconds);
        await Scenarios.DrainAsync(() => Interlocked.Read(ref p.Received));
        double seconds = cpu.Seconds();
        long got = Interlocked.Read(ref p.Received) - r0;
        if (p.A.Closed || p.B.Closed)
        {
            throw new InvalidOperationException($"{p.Def.Name} dropped a relay client");
        }
        return got > 0 ? seconds * 1e6 / got : double.NaN;
    }

    /// <summary>
    /// Starts each server and connects its relay pair in one room, into <paramref name="pairs"/> (so whatever started is
    /// stopped by <see cref="StopPairs"/> if a later one fails). Every message that comes back stamped is counted, then
    /// handed to <paramref name="onMessage"/>.
    /// </summary>
    private static async Task StartPairsAsync(IReadOnlyList<ServerDef> defs, Config cfg, string room, List<Pair> pairs, Action<Pair, Conn>? onMessage)
    {
        foreach (var def in defs)
        {
            var server = await ServerProcess.StartAsync(def, cfg, null);
            try
            {
                var conns = new List<Conn>();
                if (await Scenarios.ConnectManyAsync(server, def, conns, 2, 1, polling: false, room: _ => room, latencies: null) > 0 || conns.Count != 2)
                {
                    throw new InvalidOperationException($"{def.Name}: the relay pair did not connect");
                }
                var pair = new Pair { Def = def, Server = server, A = conns[0], B = conns[1] };
                bool raw = def.Kind == ServerKind.Echo;
                void OnEvent(Conn c, ReadOnlySpan<byte> frame)
                {
                    if (Payload.TryReadStamp(frame, raw, out _))
                    {
                        Interlocked.Increment(ref pair.Received);
                        onMessage?.Invoke(pair, c);
                    }
                }
                pair.A.OnEvent = OnEvent;
                pair.B.OnEvent = OnEvent;
                pairs.Add(pair);
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }
    }

    private static void StopPairs(List<Pair> pairs)
    {
        foreach (var p in pairs)
        {
            p.A.Abort();
            p.B.Abort();
            p.Server.Dispose();
        }
    }

    /// <summary>Warm-up, then one saturation window on this pair alone; messages per server CPU-second.</summary>
    private static async Task<double> WindowAsync(Pair p, Payload payload, Config cfg)
    {
        p.WindowA = new SemaphoreSlim(cfg.Window);
        p.WindowB = new SemaphoreSlim(cfg.Window);
        using var cts = new CancellationTokenSource();
        var run = Task.WhenAll(Scenarios.Windowed(p.A, payload, p.WindowA, cts.Token), Scenarios.Windowed(p.B, payload, p.WindowB, cts.Token));
        await Task.Delay(cfg.WarmupMs);
        long r0 = Interlocked.Read(ref p.Received);
        var c0 = p.Server.StartCpu();
        var sw = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(cfg.RelaySeconds));
        long got = Interlocked.Read(ref p.Received) - r0;
        double cpu = c0.Seconds();
        await cts.CancelAsync();
        await run;
        await Scenarios.DrainAsync(() => Interlocked.Read(ref p.Received));
        if (p.A.Closed || p.B.Closed)
        {
            throw new InvalidOperationException($"{p.Def.Name} dropped a relay client");
        }
        return cpu > 0 ? got / cpu : double.NaN;
    }
}
