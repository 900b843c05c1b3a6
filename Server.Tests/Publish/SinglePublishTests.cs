using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Publish;

/// <summary>
/// Item 7: <c>dotnet publish Server -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true</c> gives one
/// file that serves the codelab on a machine without the SDK. One publish for the fixture (it takes a while: the
/// first run also fetches the linux-x64 runtime packs); its intermediate files stay under the test output, so later
/// runs are incremental and the repository's own obj/ folders are left alone.
/// </summary>
[TestFixture]
[Category("Publish")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class SinglePublishTests
{
    private const string Executable = "SocketIoSignal.Server";

    private string _temp = null!;
    private string _published = null!;

    [OneTimeSetUp]
    public async Task PublishAsync()
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.OSArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.Ignore("the documented publish targets linux-x64");
        }
        _temp = Directory.CreateTempSubdirectory("signal-publish-").FullName;
        _published = Path.Combine(_temp, "out");
        await using var process = ChildProcess.Start("dotnet",
        [
            "publish", RepoPaths.Combine("Server", "Server.csproj"),
            "-c", "Release", "-r", "linux-x64", "--self-contained", "-p:PublishSingleFile=true",
            "--artifacts-path", Path.Combine(AppContext.BaseDirectory, "publish-artifacts"),
            "-o", _published, "-nologo",
        ]);
        int exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(20));
        Assert.That(exit, Is.Zero, "dotnet publish failed:\n" + string.Join("\n", process.Output.Concat(process.Errors)));
    }

    [OneTimeTearDown]
    public void DeleteTemp()
    {
        if (_temp is not null && Directory.Exists(_temp))
        {
            Directory.Delete(_temp, recursive: true);
        }
    }

    [Test]
    public void ThePublishIsOneExecutableFile()
    {
        var files = Directory.GetFiles(_published, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_published, f)).Order().ToArray();
        Assert.That(files.Where(f => !f.EndsWith(".pdb", StringComparison.Ordinal)), Is.EqualTo(new[] { Executable }), "published: " + string.Join(", ", files));
        var mode = File.GetUnixFileMode(Path.Combine(_published, Executable));
        Assert.That(mode & UnixFileMode.UserExecute, Is.EqualTo(UnixFileMode.UserExecute));
    }

    [Test]
    public async Task TheFileAloneServesTheCodelab()
    {
        var alone = Path.Combine(_temp, "alone-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(alone);
        var executable = Path.Combine(alone, Executable);
        File.Copy(Path.Combine(_published, Executable), executable);
        File.SetUnixFileMode(executable, File.GetUnixFileMode(executable) | UnixFileMode.UserExecute);

        // A machine without the SDK: no DOTNET_* or ASPNETCORE_* variables, no PATH to a dotnet.
        await using var process = ChildProcess.Start(executable, ["--port", "0", "--host", "127.0.0.1"],
            new Dictionary<string, string> { ["HOME"] = alone, ["LANG"] = "C.UTF-8" }, workingDirectory: alone, inheritEnvironment: false);
        {
            var line = await process.ReadLineAsync(TimeSpan.FromSeconds(30));
            var match = StartupLine().Match(line ?? "");
            Assert.That(match.Success, Is.True, $"start-up line: {line}\nstderr: {string.Join("\n", process.Errors)}");
            var url = "http://127.0.0.1:" + match.Groups[1].Value;

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            Assert.That(await http.GetByteArrayAsync(url + "/").Within(), Is.EqualTo(File.ReadAllBytes(RepoPaths.Combine("public", "index.html"))), "the seed's index.html");
            Assert.That(await http.GetByteArrayAsync(url + "/js/main.js").Within(), Is.EqualTo(File.ReadAllBytes(RepoPaths.Combine("public", "js", "main.js"))));
            Assert.That(await http.GetByteArrayAsync(url + "/css/main.css").Within(), Is.EqualTo(File.ReadAllBytes(RepoPaths.Combine("public", "css", "main.css"))));
            using (var room = await http.GetAsync(url + "/foo").Within())
            {
                Assert.That(room.StatusCode, Is.EqualTo(HttpStatusCode.OK), "/foo: the page for room foo");
                Assert.That(await room.Content.ReadAsStringAsync().Within(), Does.Contain("room-from-path.js"));
            }
            using (var missing = await http.GetAsync(url + "/js/.hidden").Within())
            {
                Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            }
            Assert.That(await http.GetByteArrayAsync(url + "/socket.io/socket.io.js").Within(),
                Is.EqualTo(File.ReadAllBytes(RepoPaths.Combine("src", "SocketIoSignal", "ClientBundles", "1.7.4", "socket.io.js"))),
                "socket.io-client 1.7.4, the default bundle");
            var handshake = await http.GetStringAsync(url + "/socket.io/?EIO=4&transport=polling").Within();
            Assert.That(handshake, Does.StartWith("0{"), "Engine.IO open packet");
            Assert.That(handshake, Does.Contain("\"sid\":"));
        }
    }

    [GeneratedRegex("^SocketIoSignal \\(codelab mode\\) serving public/ \\(built in\\) on http://localhost:(\\d+) — open it in two tabs$")]
    private static partial Regex StartupLine();
}
