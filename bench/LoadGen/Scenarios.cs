using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace LoadGen;

/// <summary>Flat metrics of one server in one run: "relay.200.10000.p99_ms" → value.</summary>
public sealed class Metrics : Dictionary<string, double>
{
    public void Set(string key, double value) => this[key] = value;
}

/// <summary>Latency samples in Stopwatch ticks.</summary>
public sealed class Latencies
{
    private readonly object _gate = new();
    private List<long> _samples = new(1 << 16);

    public void Add(long ticks)
    {
        lock (_gate)
        {
            _samples.Add(ticks);
        }
    }

    public List<long> TakeAll()
    {
        lock (_gate)
        {
            var s = _samples;
            _samples = new List<long>(1 << 16);
            return s;
        }
    }

    public static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    public static (double P50, double P99, double Max, int Count) Stats(List<long> s)
    {
        if (s.Count == 0)
        {
            return (double.NaN, double.NaN, double.NaN, 0);
        }
        s.Sort();
        return (Ms(s[(int)(s.Count * 0.50)]), Ms(s[Math.Min(s.Count - 1, (int)(s.Count * 0.99))]), Ms(s[^1]), s.Count);
    }
}

public static class Scenarios
{
    private static string F(double v) => v.ToString(CultureInfo.InvariantCulture);

    // ---------- (a) idle connections + (e) heartbeat ----------

    public static async Task IdleAndHeartbeatAsync(ServerDef def, Config cfg, Metrics m)
    {
        using var server = await ServerProcess.StartAsync(def, cfg, def.Kind == ServerKind.Echo ? null : cfg.HeartbeatIntervalMs);
        var conns = new List<Conn>();
        using var pinger = new CancellationTokenSource();
        try
        {
            await Task.Delay(300);
            long rss0 = server.Rss();
            double heap0 = def.Kind == ServerKind.Ours ? await HeapAsync(server) : 0;
            rss0 = server.Rss();
            m.Set("idle.rss0_mb", rss0 / 1048576.0);
            if (def.Eio == 3)
            {
                _ = PingLoopAsync(conns, cfg.HeartbeatIntervalMs, pinger.Token);
            }
            foreach (int level in cfg.IdleLevels)
            {
                int failed = await ConnectManyAsync(server, def, conns, level - conns.Count, cfg.ConnectConcurrency, polling: false, room: null, latencies: null);
                await Task.Delay(cfg.SettleMs);
                long rss = server.Rss();
                m.Set($"idle.{level}.rss_kb_per_conn", (rss - rss0) / 1024.0 / conns.Count);
                m.Set($"idle.{level}.rss_mb", rss / 1048576.0);
                m.Set($"idle.{level}.failed", failed);
                if (def.Kind == ServerKind.Ours)
                {
                    double heap = await HeapAsync(server);
                    m.Set($"idle.{level}.heap_kb_per_conn", (heap - heap0) / 1024.0 / conns.Count);
                }
                Console.WriteLine($"  idle {level}: {(rss - rss0) / 1024.0 / conns.Count:F1} KB/conn (rss {rss / 1048576.0:F0} MB, failed {failed})");
            }
            if (cfg.HoldSeconds > 0)
            {
                Console.WriteLine($"  holding {conns.Count} connections for {cfg.HoldSeconds} s: server pid {server.Pid}");
                await Task.Delay(TimeSpan.FromSeconds(cfg.HoldSeconds));
            }
            if (!cfg.Wants('e'))
            {
                return;
            }
            // (e) heartbeat CPU with every connection idle
            await Task.Delay(cfg.HeartbeatIntervalMs);
            var c0 = server.StartCpu();
            var sw = Stopwatch.StartNew();
            await Task.Delay(cfg.HeartbeatSeconds * 1000);
            double cpu = c0.Seconds();
            double secs = sw.Elapsed.TotalSeconds;
            int alive = conns.Count(c => !c.Closed);
            double pings = alive * secs * 1000.0 / cfg.HeartbeatIntervalMs;
            m.Set("hb.conns", alive);
            m.Set("hb.cpu_pct", 100 * cpu / secs);
            m.Set("hb.us_per_ping", def.Kind == ServerKind.Echo || pings == 0 ? double.NaN : cpu * 1e6 / pings);
            Console.WriteLine($"  heartbeat: {alive} alive, cpu {100 * cpu / secs:F1}%");
        }
        finally
        {
            await pinger.CancelAsync();
            server.Dispose();
            foreach (var c in conns)
            {
                c.Abort();
            }
        }
    }

    /// <summary>v3 clients ping: every connection once per interval, spread evenly over it.</summary>
    private static async Task PingLoopAsync(List<Conn> conns, int intervalMs, CancellationToken ct)
    {
        const int tickMs = 100;
        int slots = Math.Max(1, intervalMs / tickMs);
        long tick = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(tickMs, ct);
                Conn[] snapshot;
                lock (conns)
                {
                    snapshot = [.. conns];
                }
                int slot = (int)(tick++ % slots);
                for (int i = slot; i < snapshot.Length; i += slots)
                {
                    if (!snapshot[i].Closed)
                    {
                        _ = snapshot[i].SendPingAsync().ContinueWith(static _ => { }, TaskScheduler.Default);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<double> HeapAsync(ServerProcess server)
    {
        var json = await Conn.Http.GetStringAsync($"http://127.0.0.1:{server.Port}/_diag/heap");
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("managedBytes").GetDouble();
    }

    private static async Task<double> AllocatedAsync(ServerProcess server)
    {
        var json = await Conn.Http.GetStringAsync($"http://127.0.0.1:{server.Port}/_diag/counters");
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("allocatedBytes").GetDouble();
    }

    /// <summary>Opens <paramref name="count"/> connections, <paramref name="concurrency"/> at a time; the number that failed.</summary>
    internal static async Task<int> ConnectManyAsync(ServerProcess server, ServerDef def, List<Conn> into, int count, int concurrency,
        bool polling, Func<int, string>? room, Latencies? latencies)
    {
        int next = 0;
        int failed = 0;
        int baseIndex;
        lock (into)
        {
            baseIndex = into.Count;
        }
        async Task Worker()
        {
            while (true)
            {
                int i = Interlocked.Increment(ref next) - 1;
                if (i >= count)
                {
                    return;
                }
                long t0 = Stopwatch.GetTimestamp();
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    Conn c = polling
                        ? await Conn.ConnectPollingUpgradeAsync(server.Port, def.Eio, cts.Token)
                        : await Conn.ConnectWebSocketAsync(server.Port, def.Eio, cts.Token);
                    if (room is not null)
                    {
                        if (def.Kind == ServerKind.Echo)
                        {
                            await c.SendAsync("hello"u8.ToArray(), cts.Token);
                            await c.ReceiveTextAsync(cts.Token);
                        }
                        else
                        {
                            await c.CreateOrJoinAsync(room(baseIndex + i), cts.Token);
                        }
                    }
                    latencies?.Add(Stopwatch.GetTimestamp() - t0);
                    c.StartLoop();
                    lock (into)
                    {
                        into.Add(c);
                    }
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or System.Net.Sockets.SocketException
                                               or System.Net.WebSockets.WebSocketException or HttpRequestException or FormatException or JsonException)
                {
                    if (Interlocked.Increment(ref failed) <= 3)
                    {
                        Console.Error.WriteLine($"  connect failed: {ex.GetType().Name}: {ex.Message}");
                    }
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, Math.Min(concurrency, count))).Select(_ => Task.Run(Worker)));
        return failed;
    }

    // ---------- (b) connect rate, (c) relay, (d) broadcast ----------

    public static async Task TrafficAsync(ServerDef def, Config cfg, Metrics m)
    {
        using var server = await ServerProcess.StartAsync(def, cfg, null);
        try
        {
            if (cfg.HoldSeconds > 0 && !cfg.Wants('a') && !cfg.Wants('e'))
            {
                Console.WriteLine($"  waiting {cfg.HoldSeconds} s before the traffic scenarios: server pid {server.Pid}");
                await Task.Delay(TimeSpan.FromSeconds(cfg.HoldSeconds));
            }
            if (cfg.Wants('c'))
            {
                await RelayAsync(server, def, cfg, m);
            }
            if (def.Broadcasts && cfg.Wants('d'))
            {
                await BroadcastAsync(server, def, cfg, m);
            }
            if (!cfg.Wants('b'))
            {
                return;
            }
            await ConnectRateAsync(server, def, cfg, m, polling: false);
            if (def.Kind is not ServerKind.Echo and not ServerKind.Floor)
            {
                await ConnectRateAsync(server, def, cfg, m, polling: true);
            }
        }
        finally
        {
            server.Dispose();
        }
    }

    private static async Task ConnectRateAsync(ServerProcess server, ServerDef def, Config cfg, Metrics m, bool polling)
    {
        var conns = new List<Conn>();
        var lat = new Latencies();
        int n = polling ? cfg.ConnectCountPolling : cfg.ConnectCount;
        var cpu = server.StartCpu();
        double g0 = ProcStat.SelfCpuSeconds();
        var sw = Stopwatch.StartNew();
        int failed = await ConnectManyAsync(server, def, conns, n, cfg.ConnectConcurrency, polling, i => $"cr-{i / 2}", lat);
        double secs = sw.Elapsed.TotalSeconds;
        double serverCpu = cpu.Seconds();
        double gen = ProcStat.SelfCpuSeconds() - g0;
        var (p50, p99, _, count) = Latencies.Stats(lat.TakeAll());
        string k = polling ? "conn.poll" : "conn.ws";
        m.Set($"{k}.rate", count / secs);
        m.Set($"{k}.p50_ms", p50);
        m.Set($"{k}.p99_ms", p99);
        m.Set($"{k}.failed", failed);
        // Whether the rate is the server's limit or the generator's: the server's CPU share, and its CPU per connect.
        m.Set($"{k}.cpu_pct", 100 * serverCpu / secs);
        m.Set($"{k}.cpu_us_per_conn", count == 0 ? double.NaN : serverCpu * 1e6 / count);
        m.Set($"{k}.gen_cpu_pct", 100 * gen / secs);
        Console.WriteLine($"  connect {(polling ? "polling+upgrade" : "websocket")}: {count / secs:F0}/s p50 {p50:F1} ms p99 {p99:F1} ms failed {failed}, " +
                          $"server cpu {100 * serverCpu / secs:F0}% ({serverCpu * 1e6 / Math.Max(1, count):F0} us/connect), gen cpu {100 * gen / secs:F0}%");
        foreach (var c in conns)
        {
            c.Abort();
        }
        await Task.Delay(cfg.SettleMs);
    }

    private static async Task RelayAsync(ServerProcess server, ServerDef def, Config cfg, Metrics m)
    {
        var pair = new List<Conn>();
        int failed = await ConnectManyAsync(server, def, pair, 2, 1, polling: false, room: _ => "bench-relay", latencies: null);
        if (failed > 0 || pair.Count != 2)
        {
            throw new InvalidOperationException("relay pair did not connect");
        }
        var (a, b) = (pair[0], pair[1]);
        bool raw = def.Kind == ServerKind.Echo;
        // With the echo server each client gets its own messages back; otherwise the peer gets them.
        var lat = new Latencies();
        long received = 0;
        SemaphoreSlim? windowA = null, windowB = null;
        void OnEvent(Conn c, ReadOnlySpan<byte> frame)
        {
            if (Payload.TryReadStamp(frame, raw, out long t))
            {
                lat.Add(Stopwatch.GetTimestamp() - t);
                Interlocked.Increment(ref received);
                // the window of the direction that ends at c
                var w = raw ? (c == a ? windowA : windowB) : (c == b ? windowA : windowB);
                w?.Release();
            }
        }
        a.OnEvent = OnEvent;
        b.OnEvent = OnEvent;
        try
        {
            foreach (int size in cfg.RelaySizes)
            {
                var payload = new Payload(def.Eio, size);
                foreach (int rate in cfg.RelayRates)
                {
                    // warm-up, then the measured window
                    await PacedAsync(a, b, payload, rate, cfg.WarmupMs / 1000.0);
                    lat.TakeAll();
                    long r0 = Interlocked.Read(ref received);
                    var c0 = server.StartCpu();
                    double g0 = ProcStat.SelfCpuSeconds();
                    double alloc0 = def.Kind == ServerKind.Ours ? await AllocatedAsync(server) : 0;
                    var sw = Stopwatch.StartNew();
                    double window = cfg.WindowAt(rate);
                    long sent = await PacedAsync(a, b, payload, rate, window);
                    await DrainAsync(() => Interlocked.Read(ref received));
                    double secs = sw.Elapsed.TotalSeconds;
                    double cpu = c0.Seconds();
                    double gen = ProcStat.SelfCpuSeconds() - g0;
                    double alloc = def.Kind == ServerKind.Ours ? await AllocatedAsync(server) - alloc0 : double.NaN;
                    long got = Interlocked.Read(ref received) - r0;
                    var (p50, p99, max, _) = Latencies.Stats(lat.TakeAll());
                    string k = $"relay.{size}.{rate}";
                    m.Set($"{k}.p50_ms", p50);
                    m.Set($"{k}.p99_ms", p99);
                    m.Set($"{k}.max_ms", max);
                    m.Set($"{k}.sent_per_s", sent / window);
                    m.Set($"{k}.lost", Math.Max(0, sent - got));
                    m.Set($"{k}.cpu_pct", 100 * cpu / secs);
                    m.Set($"{k}.cpu_us_per_msg", got == 0 ? double.NaN : cpu * 1e6 / got);
                    m.Set($"{k}.gen_cpu_pct", 100 * gen / secs);
                    if (!double.IsNaN(alloc) && got > 0)
                    {
                        m.Set($"{k}.alloc_b_per_msg", alloc / got);
                    }
                    if (a.Closed || b.Closed)
                    {
                        m.Set($"{k}.dropped", 1);
                        Console.WriteLine($"  relay {size} B @ {rate}/s: the server dropped the client (its send queue overflowed); reconnecting");
                        (a, b) = await ReconnectPairAsync(server, def, a, b, OnEvent);
                    }
                    Console.WriteLine($"  relay {size} B @ {rate}/s: sent {sent / window:F0}/s got {got} p50 {p50:F2} p99 {p99:F2} max {max:F1} ms, " +
                                      $"server cpu {100 * cpu / secs:F0}% ({cpu * 1e6 / Math.Max(1, got):F1} us/msg), gen cpu {100 * gen / secs:F0}%" +
                                      (double.IsNaN(alloc) ? "" : $", {alloc / Math.Max(1, got):F0} B alloc/msg"));
                    await Task.Delay(100);
                }
                // saturation: each direction keeps a window of messages in flight
                windowA = new SemaphoreSlim(cfg.Window);
                windowB = new SemaphoreSlim(cfg.Window);
                using (var warm = new CancellationTokenSource(cfg.WarmupMs))
                {
                    await Task.WhenAll(Windowed(a, payload, windowA, warm.Token), Windowed(b, payload, windowB, warm.Token));
                }
                await DrainAsync(() => Interlocked.Read(ref received));
                windowA = new SemaphoreSlim(cfg.Window);
                windowB = new SemaphoreSlim(cfg.Window);
                lat.TakeAll();
                {
                    // One continuous saturation, cut into windows: each gives messages per server CPU-second (CPU time of
                    // the server process from /proc, so time the core spent on other processes does not count), and the
                    // median of the windows is the figure; their spread and the other processes' load on the server's
                    // core are reported beside it.
                    string k = $"relay.{size}.sat";
                    var perCore = new List<double>();
                    var rates = new List<double>();
                    var foreign = new List<double>();
                    double cpuSum = 0, genSum = 0, secsSum = 0;
                    using var cts = new CancellationTokenSource();
                    var run = Task.WhenAll(Windowed(a, payload, windowA, cts.Token), Windowed(b, payload, windowB, cts.Token));
                    for (int w = 0; w < cfg.SatWindows && !a.Closed && !b.Closed; w++)
                    {
                        long r0 = Interlocked.Read(ref received);
                        var c0 = server.StartCpu();
                        double g0 = ProcStat.SelfCpuSeconds();
                        double core0 = cfg.Pin ? ProcStat.CoreBusySeconds(cfg.ServerCpu) : double.NaN;
                        var sw = Stopwatch.StartNew();
                        await Task.Delay(TimeSpan.FromSeconds(cfg.RelaySeconds));
                        long got = Interlocked.Read(ref received) - r0;
                        double secs = sw.Elapsed.TotalSeconds;
                        double cpu = c0.Seconds();
                        double gen = ProcStat.SelfCpuSeconds() - g0;
                        double other = cfg.Pin ? Math.Max(0, ProcStat.CoreBusySeconds(cfg.ServerCpu) - core0 - cpu) / secs : double.NaN;
                        cpuSum += cpu;
                        genSum += gen;
                        secsSum += secs;
                        rates.Add(got / secs);
                        foreign.Add(100 * other);
                        if (cpu > 0)
                        {
                            perCore.Add(got / cpu);
                        }
                        Console.WriteLine($"    window {w + 1}/{cfg.SatWindows}: {got / secs:F0} msg/s, server cpu {100 * cpu / secs:F0}% → {got / Math.Max(cpu, 1e-9):F0} msg/s per core" +
                                          (double.IsNaN(other) ? "" : $"; other processes on CPU {cfg.ServerCpu}: {100 * other:F0}%"));
                    }
                    await cts.CancelAsync();
                    await run;
                    await DrainAsync(() => Interlocked.Read(ref received));
                    var (p50, p99, _, _) = Latencies.Stats(lat.TakeAll());
                    if (a.Closed || b.Closed)
                    {
                        m.Set($"{k}.dropped", 1);
                        Console.WriteLine("  saturation: the server dropped the client; reconnecting");
                        (a, b) = await ReconnectPairAsync(server, def, a, b, OnEvent);
                    }
                    m.Set($"{k}.msgs_per_s", Median(rates));
                    m.Set($"{k}.cpu_pct", secsSum > 0 ? 100 * cpuSum / secsSum : double.NaN);
                    m.Set($"{k}.per_core", Median(perCore));
                    m.Set($"{k}.per_core_min", perCore.Count == 0 ? double.NaN : perCore.Min());
                    m.Set($"{k}.per_core_max", perCore.Count == 0 ? double.NaN : perCore.Max());
                    m.Set($"{k}.windows", perCore.Count);
                    m.Set($"{k}.other_cpu_pct", Median(foreign));
                    m.Set($"{k}.gen_cpu_pct", secsSum > 0 ? 100 * genSum / secsSum : double.NaN);
                    m.Set($"{k}.p99_ms", p99);
                    Console.WriteLine($"  saturation {size} B: {Median(rates):F0} msg/s, {Median(perCore):F0} msg/s per server core (median of {perCore.Count} windows of {cfg.RelaySeconds} s, " +
                                      $"[{(perCore.Count == 0 ? 0 : perCore.Min()):F0}–{(perCore.Count == 0 ? 0 : perCore.Max()):F0}]); gen cpu {100 * genSum / Math.Max(secsSum, 1e-9):F0}%; p50 {p50:F1} p99 {p99:F1} ms");
                }
                windowA = windowB = null;
                await Task.Delay(300);
            }
        }
        finally
        {
            a.Abort();
            b.Abort();
            await Task.Delay(cfg.SettleMs);
        }
    }

    private static async Task<(Conn, Conn)> ReconnectPairAsync(ServerProcess server, ServerDef def, Conn a, Conn b, Action<Conn, ReadOnlySpan<byte>> onEvent)
    {
        a.Abort();
        b.Abort();
        await Task.Delay(300);
        var pair = new List<Conn>();
        string room = "bench-relay-" + Guid.NewGuid().ToString("N")[..8];
        await ConnectManyAsync(server, def, pair, 2, 1, polling: false, room: _ => room, latencies: null);
        if (pair.Count != 2)
        {
            throw new InvalidOperationException("relay pair did not reconnect");
        }
        pair[0].OnEvent = onEvent;
        pair[1].OnEvent = onEvent;
        return (pair[0], pair[1]);
    }

    /// <summary>Both clients send, together, <paramref name="rate"/> messages per second for <paramref name="seconds"/>; the number sent.</summary>
    internal static async Task<long> PacedAsync(Conn a, Conn b, Payload payload, int rate, double seconds)
    {
        var results = await Task.WhenAll(Pace(a, rate / 2.0), Pace(b, rate / 2.0));
        return results[0] + results[1];

        async Task<long> Pace(Conn c, double perSecond)
        {
            var buffer = payload.NewBuffer();
            long sent = 0;
            var sw = Stopwatch.StartNew();
            long total = (long)(perSecond * seconds);
            while (sent < total)
            {
                long due = Math.Min(total, (long)(sw.Elapsed.TotalSeconds * perSecond) + 1);
                while (sent < due)
                {
                    payload.Stamp(buffer, Stopwatch.GetTimestamp());
                    try
                    {
                        await c.SendAsync(buffer, CancellationToken.None);
                    }
                    catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
                    {
                        return sent; // the server dropped this client (see "dropped")
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

    internal static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>Waits until nothing more arrives (100 ms quiet), at most 3 s.</summary>
    internal static async Task DrainAsync(Func<long> counter)
    {
        var sw = Stopwatch.StartNew();
        long last = counter();
        while (sw.ElapsedMilliseconds < 3000)
        {
            await Task.Delay(100);
            long now = counter();
            if (now == last)
            {
                return;
            }
            last = now;
        }
    }

    internal static async Task Windowed(Conn c, Payload payload, SemaphoreSlim window, CancellationToken ct)
    {
        var buffer = payload.NewBuffer();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await window.WaitAsync(ct);
                payload.Stamp(buffer, Stopwatch.GetTimestamp());
                // not cancellable: cancelling a pending WebSocket send aborts the socket
                await c.SendAsync(buffer, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
        {
        }
    }

    private static async Task BroadcastAsync(ServerProcess server, ServerDef def, Config cfg, Metrics m)
    {
        var conns = new List<Conn>();
        var lat = new Latencies();
        long received = 0;
        var payload = new Payload(def.Eio, 200);
        try
        {
            foreach (int n in cfg.BroadcastSizes)
            {
                int failed = await ConnectManyAsync(server, def, conns, n - conns.Count, cfg.ConnectConcurrency, false, i => $"bc-{i / 2}", null);
                foreach (var c in conns)
                {
                    c.OnEvent = (_, frame) =>
                    {
                        if (Payload.TryReadStamp(frame, false, out long t))
                        {
                            lat.Add(Stopwatch.GetTimestamp() - t);
                            Interlocked.Increment(ref received);
                        }
                    };
                }
                await Task.Delay(200);
                lat.TakeAll();
                long r0 = Interlocked.Read(ref received);
                var c0 = server.StartCpu();
                var sw = Stopwatch.StartNew();
                long sent = 0;
                var buffer = payload.NewBuffer();
                long total = (long)(cfg.BroadcastRate * cfg.BroadcastSeconds);
                while (sent < total)
                {
                    long due = Math.Min(total, (long)(sw.Elapsed.TotalSeconds * cfg.BroadcastRate) + 1);
                    while (sent < due)
                    {
                        var c = conns[(int)(sent % conns.Count)];
                        payload.Stamp(buffer, Stopwatch.GetTimestamp());
                        await c.SendAsync(buffer, CancellationToken.None);
                        sent++;
                    }
                    await Task.Delay(2);
                }
                await Task.Delay(200);
                double secs = sw.Elapsed.TotalSeconds;
                double cpu = c0.Seconds();
                long got = Interlocked.Read(ref received) - r0;
                var (p50, p99, _, _) = Latencies.Stats(lat.TakeAll());
                string k = $"bc.{n}";
                m.Set($"{k}.cpu_us_per_msg", cpu * 1e6 / Math.Max(1, sent));
                m.Set($"{k}.deliveries_per_msg", (double)got / Math.Max(1, sent));
                m.Set($"{k}.cpu_pct", 100 * cpu / secs);
                m.Set($"{k}.p50_ms", p50);
                m.Set($"{k}.p99_ms", p99);
                m.Set($"{k}.failed", failed);
                Console.WriteLine($"  broadcast N={n}: {cpu * 1e6 / Math.Max(1, sent):F0} us cpu per sent message, {(double)got / Math.Max(1, sent):F1} deliveries each, p99 {p99:F1} ms");
            }
        }
        finally
        {
            foreach (var c in conns)
            {
                c.Abort();
            }
            await Task.Delay(cfg.SettleMs);
        }
    }
}
