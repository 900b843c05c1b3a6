using System.Diagnostics;
using System.Threading.Channels;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis;

/// <summary>A process of the test's own (a server node, a Node script): its output lines, killed at the end.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private ChildProcess(Process process)
    {
        Process = process;
    }

    public Process Process { get; }

    public List<string> Errors { get; } = [];

    public static ChildProcess Start(string file, IEnumerable<string> args, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoPaths.Root,
        };
        var child = new ChildProcess(Process.Start(info)!);
        child.Process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                child._lines.Writer.TryComplete();
            }
            else
            {
                child._lines.Writer.TryWrite(e.Data);
            }
        };
        child.Process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child.Errors)
                {
                    child.Errors.Add(e.Data);
                }
            }
        };
        child.Process.BeginOutputReadLine();
        child.Process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The next output line that satisfies <paramref name="match"/>.</summary>
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
            string errors;
            lock (Errors)
            {
                errors = string.Join("\n", Errors);
            }
            throw new TimeoutException($"no matching line from {Process.StartInfo.FileName} (exited: {Process.HasExited}); stderr:\n{errors}");
        }
    }

    public async Task SendLineAsync(string line)
    {
        await Process.StandardInput.WriteLineAsync(line).Within();
        await Process.StandardInput.FlushAsync().Within();
    }

    /// <summary>SIGKILL: no goodbye, no cleanup — a crash.</summary>
    public async Task KillAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }
        await Process.WaitForExitAsync().Within();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        catch (InvalidOperationException)
        {
        }
        Process.Dispose();
    }
}
