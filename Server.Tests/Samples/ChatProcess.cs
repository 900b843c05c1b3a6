using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Samples;

/// <summary>
/// samples/Chat as <c>dotnet run --project samples/Chat</c> runs it (its project folder as the working folder, so
/// wwwroot/ is found), on 127.0.0.1 and a free port: the built Chat.dll, which Server.Tests builds as a project
/// reference it does not reference.
/// </summary>
public sealed partial class ChatProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly Task _drain;

    private ChatProcess(Process process, string url, StringBuilder output, Task drain)
    {
        _process = process;
        Url = url;
        _output = output;
        _drain = drain;
    }

    /// <summary>http://127.0.0.1:PORT, no trailing slash.</summary>
    public string Url { get; }

    public static string ProjectFolder => RepoPaths.Combine("samples", "Chat");

    /// <summary>The Chat.dll of the configuration the tests were built in (…/bin/Release/net10.0/ → Release).</summary>
    public static string Dll
    {
        get
        {
            var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = testOutput.Parent?.Name ?? "Release";
            return Path.Combine(ProjectFolder, "bin", configuration, testOutput.Name, "Chat.dll");
        }
    }

    public static async Task<ChatProcess> StartAsync()
    {
        if (!File.Exists(Dll))
        {
            throw new InvalidOperationException(Dll + " is missing: build Server.Tests (it builds samples/Chat)");
        }
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = ProjectFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in new[] { Dll, "--urls", "http://127.0.0.1:0" })
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment.Remove("ASPNETCORE_URLS");
        info.Environment.Remove("ASPNETCORE_HTTP_PORTS");
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + Dll);
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        var drain = Task.WhenAll(DrainAsync(process.StandardOutput, output, listening), DrainAsync(process.StandardError, output, null));
        try
        {
            var url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return new ChatProcess(process, url, output, drain);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().Within();
            throw new TimeoutException("samples/Chat did not say where it listens; it wrote:\n" + Snapshot(output));
        }
    }

    /// <summary>Everything the app wrote so far.</summary>
    public string Output => Snapshot(_output);

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    /// <summary>Reads a stream to its end (a full pipe would block the app); reports ASP.NET's "Now listening on:" line.</summary>
    private static async Task DrainAsync(StreamReader reader, StringBuilder output, TaskCompletionSource<string>? listening)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
            if (listening is not null && ListeningLine().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(match.Groups[1].Value);
            }
        }
        listening?.TrySetException(new InvalidOperationException("samples/Chat exited before it listened:\n" + Snapshot(output)));
    }

    [GeneratedRegex("Now listening on: (http://127\\.0\\.0\\.1:\\d+)")]
    private static partial Regex ListeningLine();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync().Within();
        await _drain.Within();
        _process.Dispose();
    }
}
