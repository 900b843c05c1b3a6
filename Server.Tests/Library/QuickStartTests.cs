using System.Text.Json;
using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.Tests.Codelab;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Library;

/// <summary>
/// The README's quick start is the proof: its Program.cs, as it stands, in a new `dotnet new web` project that
/// references only the freshly packed SocketIoSignal package, serves socket.io-client 4.8.1 and 1.7.4.
/// </summary>
[TestFixture]
[Category("Package")]
public sealed class QuickStartTests
{
    private string _work = "";

    [SetUp]
    public void SetUp() => _work = Directory.CreateTempSubdirectory("quickstart-").FullName;

    [TearDown]
    public void TearDown()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The first csharp block under the README's "Use it as a library" heading.</summary>
    public static string QuickStartProgram()
    {
        var readme = File.ReadAllText(RepoPaths.Combine("README.md"));
        var match = Regex.Match(readme, @"^## Use it as a library\n.*?^```csharp\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline);
        Assert.That(match.Success, Is.True, "README.md has a ```csharp block under '## Use it as a library'");
        return match.Groups[1].Value;
    }

    [Test]
    public async Task TheReadmeProgramBuiltOnThePackedPackageServesClientsOfBothGenerations()
    {
        NodeScripts.RequireNodeModules();
        // A version of its own, so no package cached by an earlier run can stand in for this build.
        var version = "0.0.0-quickstart." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        var feed = Path.Combine(_work, "feed");
        await RunAsync("dotnet", ["pack", RepoPaths.Combine("src", "SocketIoSignal", "SocketIoSignal.csproj"), "-c", "Release", "--no-build", "-o", feed, $"-p:PackageVersion={version}"]);
        Assert.That(Directory.GetFiles(feed, "SocketIoSignal.*.nupkg"), Has.Length.EqualTo(1));

        var project = Path.Combine(_work, "app");
        await RunAsync("dotnet", ["new", "web", "-o", project, "-n", "QuickStart", "--no-restore"]);
        await File.WriteAllTextAsync(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        await RunAsync("dotnet", ["add", Path.Combine(project, "QuickStart.csproj"), "package", "SocketIoSignal", "--version", version]);
        await File.WriteAllTextAsync(Path.Combine(project, "Program.cs"), QuickStartProgram());
        await RunAsync("dotnet", ["build", Path.Combine(project, "QuickStart.csproj"), "-c", "Release", "-o", Path.Combine(project, "out")]);

        await using var server = ChildProcess.Start("dotnet", [Path.Combine(project, "out", "QuickStart.dll"), "--urls", "http://127.0.0.1:0"]);
        var listening = await server.WaitForLineAsync(l => l.Contains("Now listening on: ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var url = Regex.Match(listening, @"Now listening on: (http://\S+)").Groups[1].Value;
        foreach (var client in new[] { "4", "1" })
        {
            var (exit, stdout, stderr) = await RunCapturedAsync("node", [Path.Combine(NodeScripts.Folder, "quickstart.js"), url, client], TimeSpan.FromSeconds(30));
            Assert.That(exit, Is.EqualTo(0), $"socket.io-client {client}: {stdout} {stderr}");
            using var result = JsonDocument.Parse(stdout.Trim());
            Assert.That(result.RootElement.GetProperty("echo").GetRawText(), Is.EqualTo("{\"hello\":\"world\",\"n\":1}"));
            Assert.That(result.RootElement.GetProperty("chat").GetString(), Is.EqualTo("hi lobby"));
        }
    }

    private static async Task RunAsync(string file, string[] args)
    {
        var (exit, stdout, stderr) = await RunCapturedAsync(file, args, TimeSpan.FromMinutes(4));
        Assert.That(exit, Is.EqualTo(0), $"{file} {string.Join(' ', args)}:\n{stdout}\n{stderr}");
    }

    /// <summary>Runs a command to its end (from the repository root; every path it is given is absolute).</summary>
    private static async Task<(int Exit, string Stdout, string Stderr)> RunCapturedAsync(string file, string[] args, TimeSpan timeout)
    {
        await using var process = ChildProcess.Start(file, args);
        int exit = await process.WaitForExitAsync(timeout);
        return (exit, string.Join("\n", process.Output), string.Join("\n", process.Errors));
    }
}
