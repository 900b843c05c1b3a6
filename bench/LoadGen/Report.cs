using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LoadGen;

/// <summary>The results file (markdown) and the chart (hand-written SVG).</summary>
public sealed class Report(Config cfg, List<ServerDef> servers, Dictionary<string, List<Metrics>> results, DateTime started, DateTime finished)
{
    private const string Node4 = "node-4.8.1";
    private const string Echo = "echo";
    private const string Ours = "ours-codelab";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Median over the runs of one metric; NaN when absent.</summary>
    public double Med(string server, string key)
    {
        if (!results.TryGetValue(server, out var runs))
        {
            return double.NaN;
        }
        var values = runs.Where(r => r.TryGetValue(key, out var v) && !double.IsNaN(v)).Select(r => r[key]).OrderBy(v => v).ToList();
        return values.Count == 0 ? double.NaN : values[values.Count / 2];
    }

    /// <summary>Ratios a/b computed within each run (same conditions), then their median and range.</summary>
    private (double Median, double Min, double Max) RunRatio(string a, string keyA, string b, string keyB)
    {
        if (!results.TryGetValue(a, out var ra) || !results.TryGetValue(b, out var rb))
        {
            return (double.NaN, double.NaN, double.NaN);
        }
        var ratios = new List<double>();
        for (int i = 0; i < Math.Min(ra.Count, rb.Count); i++)
        {
            if (ra[i].TryGetValue(keyA, out var x) && rb[i].TryGetValue(keyB, out var y) && y != 0 && !double.IsNaN(x) && !double.IsNaN(y))
            {
                ratios.Add(x / y);
            }
        }
        if (ratios.Count == 0)
        {
            return (double.NaN, double.NaN, double.NaN);
        }
        ratios.Sort();
        return (ratios[ratios.Count / 2], ratios[0], ratios[^1]);
    }

    private static string N(double v, int digits = 1) =>
        double.IsNaN(v) ? "–" : Math.Abs(v) >= 1000 ? v.ToString("N0", Inv) : v.ToString("F" + digits, Inv);

    private string Ratio(double v, string server, string key)
    {
        var parts = new List<string>();
        foreach (var (baseline, label) in new[] { (Node4, "n4"), (Echo, "echo") })
        {
            double b = Med(baseline, key);
            if (server != baseline && !double.IsNaN(b) && b != 0 && !double.IsNaN(v))
            {
                parts.Add($"{(v / b).ToString("0.00", Inv)}× {label}");
            }
        }
        return parts.Count == 0 ? "" : " <sub>" + string.Join(", ", parts) + "</sub>";
    }

    /// <summary>A value with its ratios to Node 4.8.1 and to the echo server.</summary>
    private string Cell(string server, string key, int digits = 1)
    {
        double v = Med(server, key);
        return N(v, digits) + Ratio(v, server, key);
    }

    private string Label(string name) => servers.First(s => s.Name == name).Label;

    public string Markdown(string svgName)
    {
        var sb = new StringBuilder();
        string L(string s) { sb.AppendLine(s); return s; }
        L($"# Benchmark {started:yyyy-MM-dd}{(cfg.Smoke ? " (smoke mode: tiny counts, not a measurement)" : "")}");
        L("");
        L($"Machine: {Environment.ProcessorCount} CPU visible to the generator, nproc --all {Run("nproc", "--all")?.Trim()}, {CpuModel()}, kernel {Run("uname", "-r")?.Trim()}, " +
          $"{MemTotal()}. Runtime .NET {Environment.Version}; Node {Run("node", "--version")?.Trim() ?? "n/a"}; " +
          $"socket.io {PackageVersion("socket.io")} and {PackageVersion("socket.io-4")} (ws {PackageVersion("ws")}); " +
          $"python-socketio {Run(cfg.Python, "-c", "import importlib.metadata as m; print(m.version('python-socketio'), 'on aiohttp', m.version('aiohttp'), end='')") ?? "n/a"}.");
        L($"Run: {started:u} → {finished:u} ({(finished - started).TotalMinutes:F1} min), {cfg.Runs} run(s), figures are medians over the runs; " +
          $"servers {(cfg.Pin ? $"pinned to CPU {cfg.ServerCpu} with taskset" : "not pinned")}, the generator on the other core. " +
          "Each server is started fresh for (a)+(e) and again for (b)+(c)+(d); servers alternate within each run.");
        L("");
        L("Small print: `n4` = ratio to Node socket.io 4.8.1, `echo` = ratio to the raw Kestrel WebSocket echo (same scenario; for the echo " +
          "a relay is one frame echoed back to its sender, with no protocol, no `log` echo, no rooms). A relayed codelab `message` makes every " +
          "Socket.IO server send two frames (the message to the peer and `log` back to the sender); the echo sends one. " +
          "The generator offers no permessage-deflate, so none is used. Our server runs with `--Logging:LogLevel:Default=Warning`.");
        L("");
        if (cfg.Smoke)
        {
            L("Smoke mode checks that the harness works end to end; its numbers mean nothing.");
            L("");
        }

        // ---- goals ----
        L("## Goals (ours = codelab mode; ratio computed within each run, median [min–max] over runs)");
        L("");
        L("| goal | target | ours | Node 4.8.1 | ratio | met? |");
        L("|---|---|---|---|---|---|");
        string top = cfg.IdleLevels[^1].ToString(Inv);
        Goal($"RSS per idle connection ({top} conns)", "≤ 0.6× Node", $"idle.{top}.rss_kb_per_conn", "KB", r => r <= 0.6, versus: Node4);
        Goal("connect + `create or join` rate, WebSocket", "≥ 3× Node", "conn.ws.rate", "/s", r => r >= 3, versus: Node4);
        Goal("connect + `create or join` rate, polling + upgrade", "≥ 3× Node", "conn.poll.rate", "/s", r => r >= 3, versus: Node4);
        foreach (int size in cfg.RelaySizes)
        {
            Goal($"relay throughput per server core, {size} B", "≥ 3× Node", $"relay.{size}.sat.per_core", "msg/s", r => r >= 3, versus: Node4);
        }
        foreach (int size in cfg.RelaySizes)
        {
            PairedGoal(size);
        }
        int rate10 = cfg.RelayRates.Contains(Config.GoalRate) ? Config.GoalRate : cfg.RelayRates[^1];
        foreach (int size in cfg.RelaySizes)
        {
            double p99 = Med(Ours, $"relay.{size}.{rate10}.p99_ms");
            L($"| relay p99 at {rate10} msg/s, {size} B | ≤ 5 ms | {N(p99, 2)} ms | {N(Med(Node4, $"relay.{size}.{rate10}.p99_ms"), 2)} ms | – | {Met(p99, v => v <= 5)} |");
        }
        foreach (int size in cfg.RelaySizes)
        {
            Goal($"server CPU per message at {rate10} msg/s, {size} B, vs raw echo", "≤ 1.0× echo", $"relay.{size}.{rate10}.cpu_us_per_msg", "µs", r => r <= 1.0, versus: Echo);
        }
        foreach (int size in cfg.RelaySizes)
        {
            CpuPairedGoal(size);
        }
        L("");

        // ---- (a) ----
        L("## (a) Idle connections: RSS per connection (KB, (RSS − RSS at start) / connections)");
        L("");
        L("| server | " + string.Join(" | ", cfg.IdleLevels.Select(l => $"{l} conns")) + $" | RSS at {top} (MB) | managed heap after full GC, KB/conn at {top} | failed |");
        L("|---|" + string.Concat(cfg.IdleLevels.Select(_ => "---|")) + "---|---|---|");
        foreach (var s in servers)
        {
            L($"| {s.Label} | " + string.Join(" | ", cfg.IdleLevels.Select(l => Cell(s.Name, $"idle.{l}.rss_kb_per_conn"))) +
              $" | {N(Med(s.Name, $"idle.{top}.rss_mb"), 0)} | {N(Med(s.Name, $"idle.{top}.heap_kb_per_conn"), 2)} | {N(Med(s.Name, $"idle.{top}.failed"), 0)} |");
        }
        L("");

        // ---- (b) ----
        L($"## (b) Connect + `create or join` ({cfg.ConnectCount} WebSocket / {cfg.ConnectCountPolling} polling clients, {cfg.ConnectConcurrency} at a time; latency = TCP connect → `created`/`joined`)");
        L("");
        L("| server | WebSocket /s | p50 ms | p99 ms | server CPU % | CPU µs/connect | polling + upgrade /s | p50 ms | p99 ms | server CPU % | CPU µs/connect |");
        L("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var s in servers)
        {
            L($"| {s.Label} | {Cell(s.Name, "conn.ws.rate", 0)} | {Cell(s.Name, "conn.ws.p50_ms", 2)} | {Cell(s.Name, "conn.ws.p99_ms", 2)} | " +
              $"{N(Med(s.Name, "conn.ws.cpu_pct"), 0)} | {Cell(s.Name, "conn.ws.cpu_us_per_conn", 0)} | " +
              $"{Cell(s.Name, "conn.poll.rate", 0)} | {Cell(s.Name, "conn.poll.p50_ms", 2)} | {Cell(s.Name, "conn.poll.p99_ms", 2)} | " +
              $"{N(Med(s.Name, "conn.poll.cpu_pct"), 0)} | {Cell(s.Name, "conn.poll.cpu_us_per_conn", 0)} |");
        }
        L("");
        L("Server CPU % is the server's share of its core while the clients connected (near 100 %: the server is the limit; " +
          "well below it: the generator or the round trips are). CPU µs/connect is the server's CPU time per connect and `create or join`.");
        L("");

        // ---- (c) ----
        L($"## (c) Relay: one room pair, both peers sending, fixed total rates ({cfg.RelaySeconds} s each, {cfg.WindowAt(Config.GoalRate)} s at {Config.GoalRate}/s, after {cfg.WarmupMs} ms warm-up); one-way latency from the timestamp in the payload; server CPU from its threads' run time (ns)");
        L("");
        foreach (int size in cfg.RelaySizes)
        {
            L($"### {size} B messages");
            L("");
            L("| server | rate | p50 ms | p99 ms | max ms | server CPU % | CPU µs/msg | alloc B/msg | not delivered |");
            L("|---|---|---|---|---|---|---|---|---|");
            foreach (var s in servers)
            {
                foreach (int rate in cfg.RelayRates)
                {
                    string k = $"relay.{size}.{rate}";
                    L($"| {s.Label} | {rate} | {Cell(s.Name, k + ".p50_ms", 2)} | {Cell(s.Name, k + ".p99_ms", 2)} | {N(Med(s.Name, k + ".max_ms"), 1)} | " +
                      $"{N(Med(s.Name, k + ".cpu_pct"), 0)} | {Cell(s.Name, k + ".cpu_us_per_msg", 1)} | {N(Med(s.Name, k + ".alloc_b_per_msg"), 0)} | {Lost(s.Name, k)} |");
                }
            }
            L("");
            L($"Saturation ({size} B, {cfg.Window} messages in flight per direction):");
            L("");
            L($"Each run measures {cfg.SatWindows} consecutive windows of {cfg.RelaySeconds} s and takes their median; [min–max] is the spread of single windows over all runs. " +
              "Other CPU % = the share of the server's core taken by other processes during the windows (median).");
            L("");
            L("| server | msg/s | server CPU % | msg/s per server core [windows min–max] | p99 ms | generator CPU % | other CPU % on the server's core |");
            L("|---|---|---|---|---|---|---|");
            foreach (var s in servers)
            {
                string k = $"relay.{size}.sat";
                var runs = results[s.Name].Where(r => r.ContainsKey(k + ".per_core_min") && !double.IsNaN(r[k + ".per_core_min"])).ToList();
                string spread = runs.Count == 0 ? "" : $" [{N(runs.Min(r => r[k + ".per_core_min"]), 0)}–{N(runs.Max(r => r[k + ".per_core_max"]), 0)}]";
                L($"| {s.Label} | {Cell(s.Name, k + ".msgs_per_s", 0)} | {N(Med(s.Name, k + ".cpu_pct"), 0)} | {Cell(s.Name, k + ".per_core", 0)}{spread} | {N(Med(s.Name, k + ".p99_ms"), 1)} | {N(Med(s.Name, k + ".gen_cpu_pct"), 0)} | {N(Med(s.Name, k + ".other_cpu_pct"), 0)} |");
            }
            L("");
        }

        if (servers.Any(sv => results[sv.Name].Any(r => r.Keys.Any(key => key.Contains(".paired.", StringComparison.Ordinal)))))
        {
            L($"### Saturation with the servers interleaved ({cfg.SatWindows} rounds per run, each server in turn one window of {cfg.RelaySeconds} s after {cfg.WarmupMs} ms warm-up, the others idle)");
            L("");
            L("Every Socket.IO server runs at once, pinned to the same core, each with its own relay pair; a round gives each server one window, " +
              "so a ratio is taken between windows seconds apart, under the same load from the rest of the machine. msg/s per server core = messages relayed / " +
              "CPU time of the server process (the sum of its threads' run time, /proc/<pid>/task/*/schedstat). Median over rounds and runs; the range is the spread of single rounds. " +
              "The sequential saturation above also gives other processes' share of the server's core (\"other CPU %\"): on a shared machine it moves the figures most.");
            L("");
            L("| server | " + string.Join(" | ", cfg.RelaySizes.Select(z => $"{z} B msg/s per core [rounds min–max] | ratio to Node 4.8.1 [rounds]")) + " |");
            L("|---|" + string.Concat(cfg.RelaySizes.Select(_ => "---|---|")) );
            foreach (var sv in servers.Where(x => results[x.Name].Any(r => r.Keys.Any(key => key.Contains(".paired.", StringComparison.Ordinal)))))
            {
                var cells = new List<string>();
                foreach (int size in cfg.RelaySizes)
                {
                    string k = $"relay.{size}.paired";
                    var runs = results[sv.Name].Where(r => r.ContainsKey(k + ".per_core")).ToList();
                    string range = runs.Count == 0 ? "" : $" [{N(runs.Min(r => r[k + ".per_core_min"]), 0)}–{N(runs.Max(r => r[k + ".per_core_max"]), 0)}]";
                    cells.Add(N(Med(sv.Name, k + ".per_core"), 0) + range);
                    var ratioRuns = results[sv.Name].Where(r => r.ContainsKey(k + ".ratio_n4")).ToList();
                    cells.Add(ratioRuns.Count == 0 ? "–" : $"{N(Med(sv.Name, k + ".ratio_n4"), 2)}× [{N(ratioRuns.Min(r => r[k + ".ratio_n4_min"]), 2)}–{N(ratioRuns.Max(r => r[k + ".ratio_n4_max"]), 2)}]");
                }
                L($"| {sv.Label} | " + string.Join(" | ", cells) + " |");
            }
            L("");
        }

        // ---- (d) ----
        var bcServers = servers.Where(s => s.Broadcasts).ToList();
        if (bcServers.Count > 0)
        {
            L($"## (d) `message` with N clients connected (in pairs of rooms), {cfg.BroadcastRate} messages/s of 200 B from the clients in turn, {cfg.BroadcastSeconds} s");
            L("");
            L("Codelab mode (and both Node servers) send every message to all N − 1 others; rooms mode to the one peer. Server CPU µs per *sent* message (deliveries per message):");
            L("");
            L("| server | " + string.Join(" | ", cfg.BroadcastSizes.Select(n => $"N = {n}")) + " | p99 ms at largest N |");
            L("|---|" + string.Concat(cfg.BroadcastSizes.Select(_ => "---|")) + "---|");
            foreach (var s in bcServers)
            {
                L($"| {s.Label} | " + string.Join(" | ", cfg.BroadcastSizes.Select(n =>
                    $"{N(Med(s.Name, $"bc.{n}.cpu_us_per_msg"), 0)}{Ratio(Med(s.Name, $"bc.{n}.cpu_us_per_msg"), s.Name, $"bc.{n}.cpu_us_per_msg")} ({N(Med(s.Name, $"bc.{n}.deliveries_per_msg"), 0)})")) +
                    $" | {N(Med(s.Name, $"bc.{cfg.BroadcastSizes[^1]}.p99_ms"), 1)} |");
            }
            L("");
        }

        // ---- (e) ----
        L($"## (e) Heartbeat at {top} idle connections, pingInterval shortened to {cfg.HeartbeatIntervalMs} ms on both sides ({cfg.HeartbeatSeconds} s window)");
        L("");
        L($"Ours: `--EngineIo:PingInterval={cfg.HeartbeatIntervalMs}`; Node: `bench/node/with-ping-interval.js` adds `pingInterval` to the options the unchanged reference script passes. " +
          "EIO4 servers ping and the generator answers; with the 2.5.1 server (EIO3) the generator pings and the server answers. The echo server has no heartbeat (idle CPU shown).");
        L("");
        L("| server | connections alive | server CPU % | CPU µs per heartbeat |");
        L("|---|---|---|---|");
        foreach (var s in servers)
        {
            L($"| {s.Label} | {N(Med(s.Name, "hb.conns"), 0)} | {Cell(s.Name, "hb.cpu_pct", 1)} | {Cell(s.Name, "hb.us_per_ping", 1)} |");
        }
        L("");
        L($"![chart]({svgName})");
        L("");
        // What stands in the way of the goals not met, with the profiles that show it: written by hand, kept in
        // bench/profile.md, carried into every results file (full runs only; the smoke mode's numbers mean nothing).
        var notes = Path.Combine(cfg.Root, "bench", "profile.md");
        if (!cfg.Smoke && File.Exists(notes))
        {
            L(File.ReadAllText(notes).TrimEnd());
            L("");
        }
        return sb.ToString();

        void PairedGoal(int size)
        {
            string k = $"relay.{size}.paired";
            InterleavedGoal($"relay throughput per server core, {size} B, servers interleaved", "≥ 3× Node", k + ".ratio_n4",
                $"{N(Med(Ours, k + ".per_core"), 1)} msg/s", $"{N(Med(Node4, k + ".per_core"), 1)} msg/s", r => r >= 3);
        }

        void CpuPairedGoal(int size)
        {
            string k = $"relay.{size}.cpu_paired";
            InterleavedGoal($"server CPU per message at {Config.GoalRate} msg/s, {size} B, vs raw echo, servers interleaved", "≤ 1.0× echo", k + ".ratio_echo",
                $"{N(Med(Ours, k + ".us_per_msg"), 2)} µs", $"{N(Med(Echo, k + ".us_per_msg"), 2)} µs (echo)", r => r <= 1.0);
        }

        // A goal measured with the servers interleaved: the median of the runs' ratios, their range, and the range of single rounds.
        void InterleavedGoal(string what, string target, string ratio, string ours, string theirs, Func<double, bool> ok)
        {
            if (!results.TryGetValue(Ours, out var runs))
            {
                return;
            }
            var perRun = runs.Where(r => r.TryGetValue(ratio, out var v) && !double.IsNaN(v)).Select(r => r[ratio]).Order().ToList();
            if (perRun.Count == 0)
            {
                return;
            }
            double lo = runs.Where(r => r.ContainsKey(ratio + "_min")).Min(r => r[ratio + "_min"]);
            double hi = runs.Where(r => r.ContainsKey(ratio + "_max")).Max(r => r[ratio + "_max"]);
            double med = perRun[perRun.Count / 2];
            L($"| {what} | {target} | {ours} | {theirs} | {med.ToString("0.00", Inv)}× [{perRun[0].ToString("0.00", Inv)}–{perRun[^1].ToString("0.00", Inv)}] " +
              $"(rounds {lo.ToString("0.00", Inv)}–{hi.ToString("0.00", Inv)}) | {Met(med, ok)} |");
        }

        void Goal(string what, string target, string key, string unit, Func<double, bool> ok, string versus)
        {
            var (med, min, max) = RunRatio(Ours, key, versus, key);
            if (key.Contains("rss", StringComparison.Ordinal) || key.Contains("cpu_us", StringComparison.Ordinal))
            {
                // lower is better: the ratio is ours / theirs either way
            }
            string range = double.IsNaN(med) ? "–" : $"{med.ToString("0.00", Inv)}× [{min.ToString("0.00", Inv)}–{max.ToString("0.00", Inv)}]";
            L($"| {what} | {target} | {N(Med(Ours, key), 1)} {unit} | {N(Med(versus, key), 1)} {unit}{(versus == Echo ? " (echo)" : "")} | {range} | {Met(med, ok)} |");
        }
    }

    private string Lost(string server, string k)
    {
        int dropped = results.TryGetValue(server, out var runs) ? runs.Count(r => r.ContainsKey(k + ".dropped")) : 0;
        return N(Med(server, k + ".lost"), 0) + (dropped > 0 ? $" (client dropped by the server in {dropped} run(s): send queue over MaxQueuedBytes)" : "");
    }

    private static string Met(double v, Func<double, bool> ok) => double.IsNaN(v) ? "n/a" : ok(v) ? "**met**" : "not met";

    // ---------------- SVG ----------------

    private static readonly string[] Colors = ["#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd", "#7f7f7f", "#8c564b"];

    public string Svg()
    {
        int panels = 2 + cfg.RelaySizes.Length;
        int pw = 420, ph = 320, W = pw * panels, H = ph + 70;
        var sb = new StringBuilder();
        sb.Append(Inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        sb.Append(Inv, $"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n");
        // legend
        for (int i = 0; i < servers.Count; i++)
        {
            int x = 20 + i * 200;
            sb.Append(Inv, $"<rect x=\"{x}\" y=\"{H - 22}\" width=\"12\" height=\"12\" fill=\"{Colors[i % Colors.Length]}\"/><text x=\"{x + 16}\" y=\"{H - 12}\">{Esc(servers[i].Label)}</text>\n");
        }
        // (a) grouped bars
        {
            var (x0, y0, w, h) = (50.0, 40.0, pw - 70.0, ph - 80.0);
            sb.Append(Inv, $"<text x=\"{x0}\" y=\"20\" font-size=\"13\" font-weight=\"bold\">(a) RSS per idle connection (KB)</text>\n");
            double max = 1;
            foreach (var s in servers)
            {
                foreach (int l in cfg.IdleLevels)
                {
                    max = Math.Max(max, Nz(Med(s.Name, $"idle.{l}.rss_kb_per_conn")));
                }
            }
            max = NiceCeil(max);
            Axes(sb, x0, y0, w, h, 0, max, false);
            double groupW = w / cfg.IdleLevels.Length;
            double barW = (groupW - 10) / servers.Count;
            for (int g = 0; g < cfg.IdleLevels.Length; g++)
            {
                double gx = x0 + g * groupW + 5;
                sb.Append(Inv, $"<text x=\"{gx + groupW / 2 - 5}\" y=\"{y0 + h + 15}\" text-anchor=\"middle\">{cfg.IdleLevels[g]} conns</text>\n");
                for (int i = 0; i < servers.Count; i++)
                {
                    double v = Nz(Med(servers[i].Name, $"idle.{cfg.IdleLevels[g]}.rss_kb_per_conn"));
                    double bh = h * Math.Max(0, v) / max;
                    sb.Append(Inv, $"<rect x=\"{gx + i * barW:F1}\" y=\"{y0 + h - bh:F1}\" width=\"{barW - 1:F1}\" height=\"{bh:F1}\" fill=\"{Colors[i % Colors.Length]}\"><title>{Esc(servers[i].Label)}: {v:F1} KB</title></rect>\n");
                }
            }
        }
        // (c) p99 vs rate, log scale
        for (int p = 0; p < cfg.RelaySizes.Length; p++)
        {
            int size = cfg.RelaySizes[p];
            var (x0, y0, w, h) = (pw * (p + 1) + 50.0, 40.0, pw - 70.0, ph - 80.0);
            sb.Append(Inv, $"<text x=\"{x0}\" y=\"20\" font-size=\"13\" font-weight=\"bold\">(c) relay p99 latency (ms, log) vs msg/s, {size} B</text>\n");
            double lo = 0.1, hi = 10000;
            Axes(sb, x0, y0, w, h, lo, hi, true);
            int nr = cfg.RelayRates.Length;
            double X(int i) => x0 + (nr == 1 ? w / 2 : i * w / (nr - 1));
            for (int i = 0; i < nr; i++)
            {
                sb.Append(Inv, $"<text x=\"{X(i):F1}\" y=\"{y0 + h + 15}\" text-anchor=\"middle\">{cfg.RelayRates[i]}</text>\n");
            }
            double Y(double v) => y0 + h - h * (Math.Log10(Math.Clamp(v, lo, hi)) - Math.Log10(lo)) / (Math.Log10(hi) - Math.Log10(lo));
            for (int s = 0; s < servers.Count; s++)
            {
                var pts = new List<string>();
                for (int i = 0; i < nr; i++)
                {
                    double v = Med(servers[s].Name, $"relay.{size}.{cfg.RelayRates[i]}.p99_ms");
                    if (!double.IsNaN(v))
                    {
                        pts.Add($"{X(i):F1},{Y(v):F1}");
                        sb.Append(Inv, $"<circle cx=\"{X(i):F1}\" cy=\"{Y(v):F1}\" r=\"3\" fill=\"{Colors[s % Colors.Length]}\"><title>{Esc(servers[s].Label)} @ {cfg.RelayRates[i]}/s: p99 {v:F2} ms</title></circle>\n");
                    }
                }
                if (pts.Count > 1)
                {
                    sb.Append(Inv, $"<polyline points=\"{string.Join(' ', pts)}\" fill=\"none\" stroke=\"{Colors[s % Colors.Length]}\" stroke-width=\"2\"/>\n");
                }
            }
            // the 5 ms goal
            sb.Append(Inv, $"<line x1=\"{x0}\" x2=\"{x0 + w}\" y1=\"{Y(5):F1}\" y2=\"{Y(5):F1}\" stroke=\"black\" stroke-dasharray=\"4 3\"/><text x=\"{x0 + w - 2}\" y=\"{Y(5) - 3:F1}\" text-anchor=\"end\">5 ms goal</text>\n");
        }
        // (c) msg/s per server core at saturation, servers interleaved (else sequential): median bars, min–max whiskers
        {
            int p = 1 + cfg.RelaySizes.Length;
            var (x0, y0, w, h) = (pw * p + 60.0, 40.0, pw - 80.0, ph - 80.0);
            bool paired = servers.Any(sv => !double.IsNaN(Med(sv.Name, $"relay.{cfg.RelaySizes[0]}.paired.per_core")));
            string key = paired ? "paired" : "sat";
            sb.Append(Inv, $"<text x=\"{x0 - 10}\" y=\"20\" font-size=\"13\" font-weight=\"bold\">(c) relay msg/s per server core{(paired ? ", interleaved" : "")} (median, range)</text>\n");
            double max = 1;
            foreach (var sv in servers)
            {
                foreach (int size in cfg.RelaySizes)
                {
                    max = Math.Max(max, Nz(RangeOf(sv.Name, $"relay.{size}.{key}").Max));
                }
            }
            max = NiceCeil(max);
            Axes(sb, x0, y0, w, h, 0, max, false);
            double groupW = w / cfg.RelaySizes.Length;
            double barW = (groupW - 10) / servers.Count;
            for (int g = 0; g < cfg.RelaySizes.Length; g++)
            {
                double gx = x0 + g * groupW + 5;
                sb.Append(Inv, $"<text x=\"{gx + groupW / 2 - 5}\" y=\"{y0 + h + 15}\" text-anchor=\"middle\">{cfg.RelaySizes[g]} B</text>\n");
                for (int i = 0; i < servers.Count; i++)
                {
                    string k = $"relay.{cfg.RelaySizes[g]}.{key}";
                    double v = Nz(Med(servers[i].Name, k + ".per_core"));
                    var (lo, hi) = RangeOf(servers[i].Name, k);
                    double bh = h * Math.Max(0, v) / max;
                    double bx = gx + i * barW;
                    sb.Append(Inv, $"<rect x=\"{bx:F1}\" y=\"{y0 + h - bh:F1}\" width=\"{barW - 1:F1}\" height=\"{bh:F1}\" fill=\"{Colors[i % Colors.Length]}\"><title>{Esc(servers[i].Label)}: {v:F0} msg/s per core [{Nz(lo):F0}–{Nz(hi):F0}]</title></rect>\n");
                    if (!double.IsNaN(lo) && !double.IsNaN(hi))
                    {
                        double cx = bx + (barW - 1) / 2;
                        sb.Append(Inv, $"<line x1=\"{cx:F1}\" x2=\"{cx:F1}\" y1=\"{y0 + h - h * hi / max:F1}\" y2=\"{y0 + h - h * lo / max:F1}\" stroke=\"black\"/>\n");
                    }
                }
            }
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>Lowest <c>.per_core_min</c> and highest <c>.per_core_max</c> of a key over the runs.</summary>
    private (double Min, double Max) RangeOf(string server, string key)
    {
        if (!results.TryGetValue(server, out var runs))
        {
            return (double.NaN, double.NaN);
        }
        var with = runs.Where(r => r.TryGetValue(key + ".per_core_min", out var v) && !double.IsNaN(v)).ToList();
        return with.Count == 0 ? (double.NaN, double.NaN) : (with.Min(r => r[key + ".per_core_min"]), with.Max(r => r[key + ".per_core_max"]));
    }

    private static void Axes(StringBuilder sb, double x0, double y0, double w, double h, double lo, double hi, bool log)
    {
        sb.Append(Inv, $"<line x1=\"{x0}\" y1=\"{y0 + h}\" x2=\"{x0 + w}\" y2=\"{y0 + h}\" stroke=\"black\"/><line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y0 + h}\" stroke=\"black\"/>\n");
        var ticks = new List<double>();
        if (log)
        {
            for (double t = lo; t <= hi * 1.001; t *= 10)
            {
                ticks.Add(t);
            }
        }
        else
        {
            for (int i = 0; i <= 5; i++)
            {
                ticks.Add(lo + (hi - lo) * i / 5);
            }
        }
        foreach (var t in ticks)
        {
            double y = log
                ? y0 + h - h * (Math.Log10(t) - Math.Log10(lo)) / (Math.Log10(hi) - Math.Log10(lo))
                : y0 + h - h * (t - lo) / (hi - lo);
            sb.Append(Inv, $"<line x1=\"{x0 - 4}\" x2=\"{x0 + w}\" y1=\"{y:F1}\" y2=\"{y:F1}\" stroke=\"#ddd\"/><text x=\"{x0 - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{t.ToString("0.###", Inv)}</text>\n");
        }
    }

    private static double Nz(double v) => double.IsNaN(v) ? 0 : v;

    private static double NiceCeil(double v)
    {
        double p = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (var m in new[] { 1.0, 2, 2.5, 5, 10 })
        {
            if (m * p >= v)
            {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static string Esc(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);

    // ---------------- machine ----------------

    public static string? Run(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args)
            {
                psi.ArgumentList.Add(a);
            }
            using var p = Process.Start(psi);
            if (p is null)
            {
                return null;
            }
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    internal static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "CPU model unknown" : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            return "CPU model unknown";
        }
    }

    internal static string MemTotal()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            return (long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], Inv) / 1048576.0).ToString("F0", Inv) + " GB RAM";
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or FormatException)
        {
            return "RAM unknown";
        }
    }

    private string PackageVersion(string package)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(cfg.Root, "node_modules", package, "package.json")));
            return doc.RootElement.GetProperty("version").GetString() ?? "?";
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException)
        {
            return "n/a";
        }
    }
}
