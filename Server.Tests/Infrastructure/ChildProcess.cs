using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>
/// The one way the tests start a process (a Node script, redis-server, the server dll, the benchmark): its
/// output read line by line as it comes, its standard input writable, the whole process tree killed on dispose.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _output = [];
    private readonly List<string> _errors = [];
    private readonly TaskCompletionSource _outputEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorsEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process)
    {
        Process = process;
    }

    public Process Process { get; }

    public string FileName => Process.StartInfo.FileName;

    /// <summary>Every line written to standard output so far.</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_output)
            {
                return [.. _output];
            }
        }
    }

    /// <summary>Every line written to standard error so far.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="file"/> with these arguments, in the repository root unless told otherwise, with this
    /// process's environment plus <paramref name="environment"/> (or that alone, when <paramref name="inheritEnvironment"/> is false).
    /// </summary>
    public static ChildProcess Start(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null, bool inheritEnvironment = true)
    {
        var info = new ProcessStartInfo(file, args)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? RepoPaths.Root,
        };
        if (!inheritEnvironment)
        {
            info.Environment.Clear();
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                child._lines.Writer.TryComplete();
                child._outputEnded.TrySetResult();
                return;
            }
            lock (child._output)
            {
                child._output.Add(e.Data);
            }
            child._lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                child._errorsEnded.TrySetResult();
                return;
            }
            lock (child._errors)
            {
                child._errors.Add(e.Data);
            }
        };
        if (!process.Start())
        {
            throw new InvalidOperationException("could not start " + file);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The next line of standard output not yet read here; null once the output has ended.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        try
        {
            return await _lines.Reader.ReadAsync(cts.Token);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no output line from {FileName} within {(timeout ?? TaskTimeouts.Default).TotalSeconds:0.#} s{Describe()}");
        }
    }

    /// <summary>The next line of standard output that satisfies <paramref name="match"/> (the lines before it are read past).</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        try
        {
            while (true)
            {
                string line = await _lines.Reader.ReadAsync(cts.Token);
                if (match(line))
                {
                    return line;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"no matching line from {FileName}{Describe()}");
        }
    }

    public async Task SendLineAsync(string line)
    {
        await Process.StandardInput.WriteLineAsync(line).Within();
        await Process.StandardInput.FlushAsync().Within();
    }

    /// <summary>Waits for the process to exit and its output to be read to the end; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        var bound = timeout ?? TaskTimeouts.Default;
        await Process.WaitForExitAsync().Within(bound);
        await Task.WhenAll(_outputEnded.Task, _errorsEnded.Task).Within(bound);
        return Process.ExitCode;
    }

    /// <summary>SIGTERM: the process is asked to shut down gracefully.</summary>
    public async Task TerminateAsync()
    {
        await using var kill = Start("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)]);
        int exit = await kill.WaitForExitAsync();
        if (exit != 0)
        {
            throw new InvalidOperationException($"kill -TERM {Process.Id} exited with {exit}: {string.Join("\n", kill.Errors)}");
        }
    }

    /// <summary>SIGKILL to the whole tree: no goodbye, no cleanup — a crash.</summary>
    public async Task KillAsync()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // exited meanwhile
        }
        await Process.WaitForExitAsync().Within();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Process.Dispose();
    }

    private string Describe() =>
        $" (exited: {Process.HasExited}); stderr:\n{string.Join("\n", Errors)}";
}
