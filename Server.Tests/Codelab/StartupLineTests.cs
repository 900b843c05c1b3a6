using System.Net;
using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.Hosting;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>The program as `dotnet run --project Server` starts it: one friendly line saying where it is.</summary>
[TestFixture]
public sealed class StartupLineTests
{
    [TestCase(new string[0], "codelab")]
    [TestCase(new[] { "--mode", "rooms" }, "rooms")]
    public async Task ProgramSaysWhereItServes(string[] extra, string mode)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "SocketIoSignal.Server.dll");
        await using var process = ChildProcess.Start("dotnet", [dll, "--port", "0", "--host", "127.0.0.1", .. extra]);
        var line = await process.ReadLineAsync(TimeSpan.FromSeconds(30));
        var match = Regex.Match(line ?? "", "^SocketIoSignal \\((\\w+) mode\\) serving (.+) on http://localhost:(\\d+) — open it in two tabs$");
        Assert.That(match.Success, Is.True, "start-up line: " + line);
        Assert.That(match.Groups[1].Value, Is.EqualTo(mode));
        Assert.That(match.Groups[2].Value, Is.EqualTo(RepoPaths.Combine("public")));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync($"http://127.0.0.1:{match.Groups[3].Value}/").Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task ABadOptionStopsTheProgramWithOneLineNamingIt()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "SocketIoSignal.Server.dll");
        await using var process = ChildProcess.Start("dotnet", [dll, "--port", "0", "--host", "127.0.0.1", "--EngineIo:PingTimeout=-5"]);
        Assert.That(await process.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(2));
        Assert.That(process.Errors, Is.EqualTo(new[] { "SocketIoSignal: EngineIo:PingTimeout must be a duration above zero and at most 24 days, not -00:00:00.0050000" }));
        Assert.That(process.Output, Has.None.Contains("   at "), "no stack trace");
    }

    [Test]
    [NonParallelizable]
    public void TheProgramAsksForInlineSocketCompletionsUnlessTheEnvironmentSaysOtherwise()
    {
        var before = Environment.GetEnvironmentVariable(SignalServer.InlineSocketCompletions);
        try
        {
            Environment.SetEnvironmentVariable(SignalServer.InlineSocketCompletions, null);
            SignalServer.PreferInlineSocketCompletions();
            Assert.That(Environment.GetEnvironmentVariable(SignalServer.InlineSocketCompletions), Is.EqualTo("1"));

            Environment.SetEnvironmentVariable(SignalServer.InlineSocketCompletions, "0");
            SignalServer.PreferInlineSocketCompletions();
            Assert.That(Environment.GetEnvironmentVariable(SignalServer.InlineSocketCompletions), Is.EqualTo("0"), "an explicit value wins");
        }
        finally
        {
            Environment.SetEnvironmentVariable(SignalServer.InlineSocketCompletions, before);
        }
    }
}
