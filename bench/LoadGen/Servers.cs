using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LoadGen;

public enum ServerKind
{
    Ours,
    Node,
    Echo,
}

/// <summary>A server under test: how to start it and what it speaks.</summary>
public sealed record ServerDef(string Name, string Label, ServerKind Kind, int Eio, bool Broadcasts, string? Mode = null, string? Script = null);

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

    public static async Task<ServerProcess> StartAsync(ServerDef def, Config cfg, int? pingIntervalMs)
    {
        int port = FreePort();
        var args = new List<string>();
        string exe;
        var env = new Dictionary<string, string>();
        switch (def.Kind)
        {
            case ServerKind.Ours:
                exe = "dotnet";
                args.AddRange([cfg.ServerDll, "--port", port.ToString(CultureInfo.InvariantCulture), "--host", "127.0.0.1", "--mode", def.Mode!,
                    "--Diagnostics:Enabled=true", "--Logging:LogLevel:Default=Warning"]);
                if (pingIntervalMs is { } ms)
                {
                    args.Add("--EngineIo:PingInterval=" + ms.ToString(CultureInfo.InvariantCulture));
                }
                break;
            case ServerKind.Echo:
                exe = "dotnet";
                args.AddRange([cfg.EchoDll, "--port", port.ToString(CultureInfo.InvariantCulture)]);
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
            psi.ArgumentList.Add(cfg.ServerCpu);
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

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
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

    private static double CpuSecondsOf(string path)
    {
        var text = File.ReadAllText(path);
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // after "pid (comm) ": state=0, ..., utime=11, stime=12
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / ClockTicks;
    }
}
