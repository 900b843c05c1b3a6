using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>
/// The static files (item 2), served from a temporary --root that holds the seed's page plus bait: dotfiles,
/// an unknown extension, symlinks out of the root, a sibling folder sharing the root's prefix.
/// </summary>
[TestFixture]
public sealed class StaticFilesTests
{
    private const string Secret = "SECRET-";
    private string _base = null!;
    private string _root = null!;
    private TestServer _server = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _base = Directory.CreateTempSubdirectory("codelab-static-").FullName;
        _root = Path.Combine(_base, "site");
        CopyDirectory(RepoPaths.Combine("public"), _root);
        File.WriteAllText(Path.Combine(_root, "index.html"), "<!DOCTYPE html>\n<title>another root</title>\n");
        File.WriteAllText(Path.Combine(_root, "plain.txt"), "plain text\n");
        File.WriteAllText(Path.Combine(_root, ".secret"), Secret + "DOTFILE");
        Directory.CreateDirectory(Path.Combine(_root, ".hidden"));
        File.WriteAllText(Path.Combine(_root, ".hidden", "file.txt"), Secret + "HIDDEN-DIR");
        File.WriteAllText(Path.Combine(_root, "js", ".env"), Secret + "ENV");
        File.WriteAllText(Path.Combine(_root, "data.unknownext"), Secret + "UNKNOWN-TYPE");
        Directory.CreateDirectory(Path.Combine(_root, "evil.example"));
        File.WriteAllText(Path.Combine(_root, "evil.example", "index.html"), "<p>a folder named like a host</p>");
        Directory.CreateDirectory(Path.Combine(_base, "outside"));
        File.WriteAllText(Path.Combine(_base, "outside", "secret.txt"), Secret + "OUTSIDE");
        Directory.CreateDirectory(Path.Combine(_base, "site-secret"));
        File.WriteAllText(Path.Combine(_base, "site-secret", "secret.txt"), Secret + "SIBLING");
        File.CreateSymbolicLink(Path.Combine(_root, "escape.txt"), Path.Combine(_base, "outside", "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(_root, "relative-escape.txt"), "../outside/secret.txt");
        Directory.CreateSymbolicLink(Path.Combine(_root, "escapedir"), Path.Combine(_base, "outside"));
        File.CreateSymbolicLink(Path.Combine(_root, "inside.txt"), Path.Combine(_root, "plain.txt"));

        _server = await TestServer.StartAsync(["--root", _root]);
        _http = new HttpClient { BaseAddress = _server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _http?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        Directory.Delete(_base, recursive: true);
    }

    [SetUp]
    public void ForgetEarlierErrors() => _server.Logs.Errors.Clear();

    [TearDown]
    public void NoServerErrors() => _server.AssertNoErrors();

    [Test]
    public async Task RootServesIndexHtmlOfTheRootFolder()
    {
        using var response = await _http.GetAsync("/").Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
        Assert.That(await response.Content.ReadAsByteArrayAsync().Within(), Is.EqualTo(File.ReadAllBytes(Path.Combine(_root, "index.html"))));
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
    }

    [Test]
    public async Task DefaultRootIsTheRepositoryPublicFolder()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        Assert.That(await http.GetByteArrayAsync("/").Within(), Is.EqualTo(File.ReadAllBytes(RepoPaths.Combine("public", "index.html"))));
        Assert.That(await http.GetByteArrayAsync("/js/main.js").Within(), Is.EqualTo(File.ReadAllBytes(RepoPaths.Combine("public", "js", "main.js"))));
        server.AssertNoErrors();
    }

    [TestCase("/index.html", "text/html")]
    [TestCase("/js/main.js", "text/javascript")]
    [TestCase("/css/main.css", "text/css")]
    [TestCase("/plain.txt", "text/plain")]
    public async Task FilesCarryTheirMimeTypeAndNosniff(string path, string mediaType)
    {
        using var response = await _http.GetAsync(path).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var type = response.Content.Headers.ContentType?.MediaType;
        // RFC 9239 makes text/javascript the type of JavaScript; application/javascript is the older name.
        Assert.That(type, mediaType == "text/javascript" ? Is.AnyOf("text/javascript", "application/javascript") : Is.EqualTo(mediaType));
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
        var file = Path.Combine([_root, .. path.TrimStart('/').Split('/')]);
        Assert.That(await response.Content.ReadAsByteArrayAsync().Within(), Is.EqualTo(File.ReadAllBytes(file)));
    }

    [Test]
    public async Task ETagAndLastModifiedGive304()
    {
        using var first = await _http.GetAsync("/js/main.js").Within();
        var etag = first.Headers.ETag;
        var lastModified = first.Content.Headers.LastModified;
        Assert.That(etag, Is.Not.Null);
        Assert.That(lastModified, Is.Not.Null);

        using var byTag = new HttpRequestMessage(HttpMethod.Get, "/js/main.js");
        byTag.Headers.IfNoneMatch.Add(etag!);
        using var notModified = await _http.SendAsync(byTag).Within();
        Assert.That(notModified.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        Assert.That(await notModified.Content.ReadAsByteArrayAsync().Within(), Is.Empty);

        using var byDate = new HttpRequestMessage(HttpMethod.Get, "/js/main.js");
        byDate.Headers.IfModifiedSince = lastModified;
        using var notModifiedSince = await _http.SendAsync(byDate).Within();
        Assert.That(notModifiedSince.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));

        using var otherTag = new HttpRequestMessage(HttpMethod.Get, "/js/main.js");
        otherTag.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        using var modified = await _http.SendAsync(otherTag).Within();
        Assert.That(modified.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task HeadAnswersHeadersWithoutABody()
    {
        var (status, head, body) = await RawHttp.SendAsync(_server.BaseUri, "/index.html", "HEAD");
        Assert.That(status, Is.EqualTo(200));
        Assert.That(head, Does.Contain("Content-Length: " + new FileInfo(Path.Combine(_root, "index.html")).Length));
        Assert.That(head, Does.Contain("Content-Type: text/html"));
        Assert.That(body, Is.Empty);
    }

    [TestCase("/nope.html")]
    [TestCase("/js/nope.js")]
    [TestCase("/js/")]                 // a folder: no listing
    [TestCase("/css/")]
    [TestCase("/data.unknownext")]     // unknown extensions are not served
    public async Task MissingFilesFoldersAndUnknownTypesAre404(string path)
    {
        using var response = await _http.GetAsync(path).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await response.Content.ReadAsStringAsync().Within(), Does.Not.Contain(Secret));
    }

    [TestCase("/../site-secret/secret.txt")]
    [TestCase("/../outside/secret.txt")]
    [TestCase("/js/../../outside/secret.txt")]
    [TestCase("/..%2fsite-secret%2fsecret.txt")]
    [TestCase("/..%2Foutside%2Fsecret.txt")]
    [TestCase("/%2e%2e/outside/secret.txt")]
    [TestCase("/%2E%2E/site-secret/secret.txt")]
    [TestCase("/%2e%2e%2foutside%2fsecret.txt")]
    [TestCase("/js/..%2f..%2foutside%2fsecret.txt")]
    [TestCase("/js%2f..%2f..%2foutside%2fsecret.txt")]
    [TestCase("/..%5coutside%5csecret.txt")]
    [TestCase("/%2e%2e%5coutside%5csecret.txt")]
    [TestCase("/js%5c..%5c..%5coutside%5csecret.txt")]
    [TestCase("/..%252f..%252foutside%252fsecret.txt")]
    [TestCase("/.%2e/outside/secret.txt")]
    [TestCase("/index.html%00.js")]
    [TestCase("/index.html%00")]
    [TestCase("/%00")]
    [TestCase("/.secret")]
    [TestCase("/%2esecret")]
    [TestCase("/.hidden/file.txt")]
    [TestCase("/%2Ehidden/file.txt")]
    [TestCase("/js/.env")]
    [TestCase("/js/%2eenv")]
    [TestCase("/escape.txt")]
    [TestCase("/relative-escape.txt")]
    [TestCase("/escapedir/secret.txt")]
    [TestCase("//outside/secret.txt")]
    [TestCase("/C:%5cWindows%5cwin.ini")]
    public async Task NothingOutsideTheRootNorAnyDotfileIsServed(string target)
    {
        var (status, head, body) = await RawHttp.SendAsync(_server.BaseUri, target);
        Assert.That(status, Is.InRange(400, 499), head);
        Assert.That(Encoding.UTF8.GetString(body), Does.Not.Contain(Secret));
        // ...and the server is still there (node-static dies on /index.html%00.js).
        using var after = await _http.GetAsync("/plain.txt").Within();
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task ASymlinkThatStaysInsideTheRootIsServed()
    {
        using var response = await _http.GetAsync("/inside.txt").Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync().Within(), Is.EqualTo("plain text\n"));
    }

    [Test]
    public async Task NoProtocolRelativeRedirect()
    {
        // A folder with an index.html, addressed with a leading "//": a redirect to "//evil.example/" would send
        // the browser to another host.
        var (status, head, _) = await RawHttp.SendAsync(_server.BaseUri, "//evil.example");
        var location = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Location:", StringComparison.OrdinalIgnoreCase));
        Assert.That(location is null || !location["Location:".Length..].Trim().StartsWith("//", StringComparison.Ordinal), Is.True, head);
        Assert.That(status, Is.Not.InRange(500, 599));
    }

    [Test]
    public async Task TheSocketIoEndpointIsServedBesideTheFiles()
    {
        using var raw = new EngineIoRaw(_server.BaseUri);
        var (status, body) = await raw.GetTextAsync(raw.Query(3, "polling"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body, Does.StartWith("97:0{\"sid\":").And.EndWith("2:40"));
    }

    [Test]
    public async Task PortOptionIsTheListeningPort()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        await using var server = await TestServer.StartAsync(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.That(server.Port, Is.EqualTo(port));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync($"http://127.0.0.1:{port}/").Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        server.AssertNoErrors();
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var dir in Directory.GetDirectories(from))
        {
            CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }
}
