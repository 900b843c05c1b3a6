using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LoadGen;

public enum ServerKind
{
    Ours,
    Node,
    Python,
    Echo,
    /// <summary>bench/FloorServer: bare sockets and fixed answers, the floor under ours (only with --only floor).</summary>
    Floor,
}

/// <summary>A server under test: how to start it and what it speaks.</summary>
public sealed record ServerDef(string Name, string Label, ServerKind Kind, int Eio, bool Broadcasts, string? Mode = null, string? Script = null, string? Dll = null);

/// <summary>A running server process, pinned with taskset when asked.</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private ServerProcess(ServerDef def, Process process, int port)
    {
        Def = def;
        _process = process;
        Port = port;
    }

    public ServerDef Def { get; }
    public int Port { get; }
    public int Pid => _process.Id;

    public static async Task<ServerProcess> StartAsync(ServerDef def, Config cfg, int? pingIntervalMs, IReadOnlyList<string>? extraArgs = null, string? cpu = null)
    {
        int port = FreePort();
        var args = new List<string>();
        string exe;
        var env = new Dictionary<string, string>();
        switch (def.Kind)
        {
            case ServerKind.Ours:
                exe = "dotnet";
                args.AddRange([def.Dll ?? cfg.ServerDll, "--port", port.ToString(CultureInfo.InvariantCulture), "--host", "127.0.0.1", "--mode", def.Mode!,
                    "--Diagnostics:Enabled=true", "--Logging:LogLevel:Default=Warning",
                    // The per-connection event rate limit (1000/s by default, an addition of ours) is off: the
                    // reference servers have none, and the relay scenarios send up to 10,000 events/s per connection.
                    "--SocketIo:MaxEventsPerSecond=0"]);
                if (pingIntervalMs is { } ms)
                {
                    args.Add("--EngineIo:PingInterval=" + ms.ToString(CultureInfo.InvariantCulture));
                }
                if (extraArgs is not null)
                {
                    args.AddRange(extraArgs);
                }
                break;
            case ServerKind.Echo:
                exe = "dotnet";
                args.AddRange([cfg.EchoDll, "--port", port.ToString(CultureInfo.InvariantCulture)]);
                break;
            case ServerKind.Floor:
                exe = "dotnet";
                args.AddRange([cfg.FloorDll, "--port", port.ToString(CultureInfo.InvariantCulture)]);
                break;
            case ServerKind.Python:
                exe = cfg.Python;
                args.Add(Path.Combine(cfg.Root, def.Script!));
                env["PORT"] = port.ToString(CultureInfo.InvariantCulture);
                if (pingIntervalMs is { } pyms)
                {
                    env["BENCH_PING_INTERVAL"] = pyms.ToString(CultureInfo.InvariantCulture);
                }
                break;
            default:
                exe = "node";
                args.AddRange([Path.Combine(cfg.Root, "bench", "node", "with-ping-interval.js"), Path.Combine(cfg.Root, def.Script!)]);
                env["PORT"] = port.ToString(CultureInfo.InvariantCulture);
                env["STATIC_ROOT"] = Path.Combine(cfg.Root, "public");
                if (pingIntervalMs is { } pms)
                {
                    env["BENCH_PING_INTERVAL"] = pms.ToString(CultureInfo.InvariantCulture);
                }
                break;
        }
        var psi = new ProcessStartInfo(cfg.Pin ? "taskset" : exe)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = cfg.Root,
        };
        if (cfg.Pin)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(cpu ?? cfg.ServerCpu);
            psi.ArgumentList.Add(exe);
        }
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + def.Name);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrEmpty(e.Data))
            {
                Console.Error.WriteLine($"[{def.Name}] {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var sp = new ServerProcess(def, process, port);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{def.Name} exited with {process.ExitCode}");
            }
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await probe.ConnectAsync(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }
        }
        await Task.Delay(200);
        return sp;
    }

    /// <summary>Resident set size, bytes (VmRSS of /proc/&lt;pid&gt;/status).</summary>
    public long Rss() => ProcStat.Rss(Pid);

    /// <summary>utime + stime of the process, seconds.</summary>
    public double CpuSeconds() => ProcStat.CpuSeconds(Pid);

    /// <summary>Starts measuring the server's CPU time (see <see cref="CpuClock"/>).</summary>
    public CpuClock StartCpu() => CpuClock.Start(Pid);

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    /// <summary>A free loopback port (never Redis's default 6379, which may belong to someone else).</summary>
    internal static int FreePort()
    {
        while (true)
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            if (port != 6379)
            {
                return port;
            }
        }
    }
}

/// <summary>
/// A private redis-server for the scale-out scenario: a free loopback port, no persistence
/// (<c>--save '' --appendonly no</c>), pinned like the servers; killed on dispose.
/// </summary>
public sealed class RedisProcess : IDisposable
{
    private readonly Process _process;

    private RedisProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }
    public int Pid => _process.Id;
    public string Endpoint => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    public double CpuSeconds() => ProcStat.CpuSeconds(Pid);

    public static async Task<RedisProcess> StartAsync(Config cfg, string? cpu = null)
    {
        int port = ServerProcess.FreePort();
        string[] args = ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--protected-mode", "yes", "--logfile", "", "--loglevel", "warning"];
        var psi = new ProcessStartInfo(cfg.Pin ? "taskset" : cfg.RedisServer)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (cfg.Pin)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(cpu ?? cfg.ServerCpu);
            psi.ArgumentList.Add(cfg.RedisServer);
        }
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start redis-server");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrEmpty(e.Data))
            {
                Console.Error.WriteLine($"[redis] {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var redis = new RedisProcess(process, port);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {process.ExitCode}");
            }
            try
            {
                if (await redis.CommandAsync("PING") == "PONG")
                {
                    return redis;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException && deadline.Elapsed < TimeSpan.FromSeconds(15))
            {
            }
            await Task.Delay(50);
        }
    }

    /// <summary>One command over a fresh connection (RESP by hand); the simple-string or bulk-string reply.</summary>
    public async Task<string> CommandAsync(params string[] command)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        var stream = client.GetStream();
        var request = new System.Text.StringBuilder();
        request.Append(CultureInfo.InvariantCulture, $"*{command.Length}\r\n");
        foreach (var part in command)
        {
            request.Append(CultureInfo.InvariantCulture, $"${System.Text.Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        }
        await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(request.ToString()));
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        while (true)
        {
            int n = await stream.ReadAsync(chunk);
            if (n == 0)
            {
                throw new IOException("redis closed the connection");
            }
            buffer.Write(chunk, 0, n);
            var text = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
            int eol = text.IndexOf("\r\n", StringComparison.Ordinal);
            if (eol < 0)
            {
                continue;
            }
            switch (text[0])
            {
                case '+':
                    return text[1..eol];
                case '-':
                    throw new IOException("redis: " + text[1..eol]);
                case ':':
                    return text[1..eol];
                case '$':
                    int len = int.Parse(text.AsSpan(1, eol - 1), CultureInfo.InvariantCulture);
                    if (len < 0)
                    {
                        return "";
                    }
                    if (buffer.Length >= eol + 2 + len + 2)
                    {
                        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), eol + 2, len);
                    }
                    break;
                default:
                    throw new IOException("unexpected redis reply " + text[..eol]);
            }
        }
    }

    /// <summary>A numeric field of INFO (e.g. <c>used_memory</c>), or of a <c>cmdstat_*</c> line (e.g. <c>cmdstat_publish</c>, <c>calls</c>).</summary>
    public async Task<double> InfoAsync(string section, string field, string? subField = null)
    {
        string info = await CommandAsync("INFO", section);
        foreach (var raw in info.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (!line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                continue;
            }
            string value = line[(field.Length + 1)..];
            if (subField is null)
            {
                return double.Parse(value, CultureInfo.InvariantCulture);
            }
            foreach (var pair in value.Split(','))
            {
                if (pair.StartsWith(subField + "=", StringComparison.Ordinal))
                {
                    return double.Parse(pair[(subField.Length + 1)..], CultureInfo.InvariantCulture);
                }
            }
        }
        return 0; // e.g. no PUBLISH yet: no cmdstat_publish line
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}

/// <summary>
/// A process's CPU time over a window, to the nanosecond: the sum of its threads' run time from
/// /proc/&lt;pid&gt;/task/*/schedstat. /proc/&lt;pid&gt;/stat counts in clock ticks (10 ms), which at 10k msg/s over 2 s is
/// 0.5 µs per message, the size of the differences measured. A thread that ended inside the window takes its time
/// with it, so then the window falls back to the ticks.
/// </summary>
public sealed class CpuClock
{
    private readonly int _pid;
    private readonly Dictionary<int, long> _threads;
    private readonly double _ticks;

    private CpuClock(int pid)
    {
        _pid = pid;
        _ticks = ProcStat.CpuSeconds(pid);
        _threads = ThreadRunTimes(pid);
    }

    public static CpuClock Start(int pid) => new(pid);

    /// <summary>CPU seconds of the process since <see cref="Start"/>.</summary>
    public double Seconds()
    {
        var now = ThreadRunTimes(_pid);
        double ticks = ProcStat.CpuSeconds(_pid) - _ticks;
        if (now.Count == 0 || _threads.Keys.Any(tid => !now.ContainsKey(tid)))
        {
            return ticks;
        }
        long ns = 0;
        foreach (var (tid, runtime) in now)
        {
            ns += runtime - _threads.GetValueOrDefault(tid);
        }
        return ns / 1e9;
    }

    private static Dictionary<int, long> ThreadRunTimes(int pid)
    {
        var times = new Dictionary<int, long>();
        try
        {
            foreach (var dir in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    // "run-time-ns wait-time-ns timeslices"
                    var text = File.ReadAllText(Path.Combine(dir, "schedstat"));
                    times[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] =
                        long.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
                {
                    // the thread ended while listed: left out, so Seconds() sees it gone and falls back to the ticks
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            times.Clear();
        }
        return times;
    }
}

public static class ProcStat
{
    private const double ClockTicks = 100.0;

    public static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }

    public static double CpuSeconds(int pid) => CpuSecondsOf($"/proc/{pid}/stat");

    public static double SelfCpuSeconds() => CpuSecondsOf("/proc/self/stat");

    /// <summary>Busy time of one CPU (every process on it: user, nice, system, irq, softirq, steal), seconds, from /proc/stat.</summary>
    public static double CoreBusySeconds(string cpu)
    {
        foreach (var line in File.ReadLines("/proc/stat"))
        {
            if (line.StartsWith("cpu" + cpu + " ", StringComparison.Ordinal))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // cpuN user nice system idle iowait irq softirq steal
                long busy = long.Parse(f[1], CultureInfo.InvariantCulture) + long.Parse(f[2], CultureInfo.InvariantCulture) + long.Parse(f[3], CultureInfo.InvariantCulture)
                    + long.Parse(f[6], CultureInfo.InvariantCulture) + long.Parse(f[7], CultureInfo.InvariantCulture) + long.Parse(f[8], CultureInfo.InvariantCulture);
                return busy / ClockTicks;
            }
        }
        return double.NaN;
    }

    private static double CpuSecondsOf(string path)
    {
        var text = File.ReadAllText(path);
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // after "pid (comm) ": state=0, ..., utime=11, stime=12
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / ClockTicks;
    }
}
