using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using NUnit.Framework;
using SocketIoSignal.Tests.Browser;
using SocketIoSignal.Tests.Codelab;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Https;

/// <summary>
/// Item 8: the codelab over HTTPS, as docs/https.md says to run it: a self-signed certificate made with the
/// documented openssl command, Kestrel's own endpoint configuration on the command line, and the start-up line
/// naming both addresses. The program runs as `dotnet run` runs it (its dll, a child process), once for the fixture.
/// </summary>
[TestFixture]
public sealed partial class HttpsTests
{
    /// <summary>A name that is not this machine's, as another device on the network would use (Chromium maps it).</summary>
    private const string LanName = "codelab.test";

    private string _temp = null!;
    private ChildProcess _server = null!;
    private int _httpPort;
    private int _httpsPort;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _temp = Directory.CreateTempSubdirectory("signal-https-").FullName;
        await MakeCertificateAsync(_temp);
        var dll = Path.Combine(AppContext.BaseDirectory, "SocketIoSignal.Server.dll");
        _server = ChildProcess.Start("dotnet",
        [
            dll, "--port", "0", "--host", "127.0.0.1",
            "--Kestrel:Endpoints:Https:Url=https://127.0.0.1:0",
            "--Kestrel:Endpoints:Https:Certificate:Path=" + Path.Combine(_temp, "cert.pem"),
            "--Kestrel:Endpoints:Https:Certificate:KeyPath=" + Path.Combine(_temp, "key.pem"),
        ]);
        var line = await _server.ReadLineAsync(TimeSpan.FromSeconds(30));
        var match = StartupLine().Match(line ?? "");
        Assert.That(match.Success, Is.True, $"start-up line: {line}\n{string.Join("\n", _server.Errors)}");
        var addresses = match.Groups[1].Value.Split(" and ");
        Assert.That(addresses, Has.Length.EqualTo(2).And.One.Match("^http://localhost:\\d+$").And.One.Match("^https://localhost:\\d+$"),
            "the start-up line names both addresses: " + line);
        _httpPort = new Uri(addresses.Single(a => a.StartsWith("http:", StringComparison.Ordinal))).Port;
        _httpsPort = new Uri(addresses.Single(a => a.StartsWith("https:", StringComparison.Ordinal))).Port;
        Assert.That(_httpsPort, Is.Not.EqualTo(_httpPort));
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        if (_temp is not null && Directory.Exists(_temp))
        {
            Directory.Delete(_temp, recursive: true);
        }
    }

    [Test]
    public async Task ThePageAndTheClientBundleComeOverHttpsAndHttp()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        var page = File.ReadAllBytes(RepoPaths.Combine("public", "index.html"));
        Assert.That(await http.GetByteArrayAsync($"https://127.0.0.1:{_httpsPort}/").Within(), Is.EqualTo(page));
        Assert.That(await http.GetByteArrayAsync($"http://127.0.0.1:{_httpPort}/").Within(), Is.EqualTo(page), "the HTTP address still serves");
        var bundle = await http.GetByteArrayAsync($"https://127.0.0.1:{_httpsPort}/socket.io/socket.io.js").Within();
        Assert.That(bundle, Is.EqualTo(File.ReadAllBytes(RepoPaths.Combine("src", "SocketIoSignal", "ClientBundles", "1.7.4", "socket.io.js"))),
            "socket.io-client 1.7.4, the default bundle");
        var handshake = await http.GetStringAsync($"https://127.0.0.1:{_httpsPort}/socket.io/?EIO=4&transport=polling").Within();
        Assert.That(handshake, Does.StartWith("0{"));
    }

    [Test]
    public async Task TheCertificateIsTheOneGiven()
    {
        X509Certificate2? seen = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                seen = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.RawData);
                return true;
            },
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync($"https://127.0.0.1:{_httpsPort}/").Within();
        using var given = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(_temp, "cert.pem")));
        Assert.That(seen?.Thumbprint, Is.EqualTo(given.Thumbprint));
        seen?.Dispose();
    }

    [Test]
    public async Task WebSocketUpgradeOverWss()
    {
        using var ws = new ClientWebSocket();
        ws.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        await ws.ConnectAsync(new Uri($"wss://127.0.0.1:{_httpsPort}/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).Within();
        var buffer = new byte[4096];
        var received = await ws.ReceiveAsync(buffer, CancellationToken.None).Within();
        var open = Encoding.UTF8.GetString(buffer, 0, received.Count);
        Assert.That(received.MessageType, Is.EqualTo(WebSocketMessageType.Text));
        Assert.That(open, Does.StartWith("0{\"sid\":"), "Engine.IO open packet");
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).Within();
    }

    /// <summary>
    /// Opened by a name that is not localhost (as from another device), the page is a secure context, with
    /// navigator.mediaDevices (getUserMedia), only over HTTPS; there its socket connects and upgrades to wss://.
    /// </summary>
    [Test]
    public async Task InChromiumThePageIsASecureContextAndItsSocketConnects()
    {
        await using var chromium = await ChromiumHost.LaunchAsync("--ignore-certificate-errors", $"--host-resolver-rules=MAP {LanName} 127.0.0.1");
        await using var context = await chromium.Browser.NewContextAsync().WaitAsync(TimeSpan.FromSeconds(15));

        var plain = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(15));
        await plain.GotoAsync($"http://{LanName}:{_httpPort}/plain", new() { Timeout = 15000 }).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(await plain.EvaluateAsync<bool>("() => window.isSecureContext").Within(), Is.False, "over HTTP, from another device");
        Assert.That(await plain.EvaluateAsync<bool>("() => !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)").Within(), Is.False);
        await plain.CloseAsync().Within();

        var page = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var console = new PageConsole(page);
        var websocket = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        page.WebSocket += (_, ws) =>
        {
            ws.FrameReceived += (_, _) => websocket.TrySetResult(ws.Url);
        };
        var response = await page.GotoAsync($"https://{LanName}:{_httpsPort}/secure", new() { Timeout = 15000 }).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(response?.Status, Is.EqualTo(200));
        Assert.That(await page.EvaluateAsync<bool>("() => window.isSecureContext").Within(), Is.True, "over HTTPS");
        Assert.That(await page.EvaluateAsync<bool>("() => !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)").Within(), Is.True);
        await console.WaitForAsync(l => CreatedRoom().IsMatch(l), "… created room secure");
        Assert.That(await websocket.Task.Within(TimeSpan.FromSeconds(15)), Does.StartWith($"wss://{LanName}:{_httpsPort}/socket.io/"));
    }

    /// <summary>The openssl command of docs/https.md; .NET's CertificateRequest where there is no openssl.</summary>
    private static async Task MakeCertificateAsync(string folder)
    {
        try
        {
            await using var openssl = ChildProcess.Start("openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", Path.Combine(folder, "key.pem"), "-out", Path.Combine(folder, "cert.pem"),
                "-days", "30", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ]);
            Assert.That(await openssl.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, "openssl: " + string.Join("\n", openssl.Output.Concat(openssl.Errors)));
            return;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No openssl on this machine.
        }
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(Path.Combine(folder, "cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "key.pem"), key.ExportPkcs8PrivateKeyPem());
    }

    [GeneratedRegex("^SocketIoSignal \\(codelab mode\\) serving .+ on (.+) — open it in two tabs$")]
    private static partial Regex StartupLine();

    [GeneratedRegex("^Message from server: Client ID \\S+ created room secure$")]
    private static partial Regex CreatedRoom();
}
