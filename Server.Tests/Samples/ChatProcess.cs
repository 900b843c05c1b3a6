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
    private readonly ChildProcess _process;

    private ChatProcess(ChildProcess process, string url)
    {
        _process = process;
        Url = url;
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
        var process = ChildProcess.Start("dotnet", [Dll, "--urls", "http://127.0.0.1:0"], workingDirectory: ProjectFolder);
        try
        {
            var line = await process.WaitForLineAsync(l => ListeningLine().IsMatch(l), TimeSpan.FromSeconds(30));
            return new ChatProcess(process, ListeningLine().Match(line).Groups[1].Value);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Everything the app wrote so far.</summary>
    public string Output => string.Join("\n", _process.Output.Concat(_process.Errors));

    [GeneratedRegex("Now listening on: (http://127\\.0\\.0\\.1:\\d+)")]
    private static partial Regex ListeningLine();

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
