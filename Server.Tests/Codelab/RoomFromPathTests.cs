using System.Net;
using NUnit.Framework;
using SocketIoSignal.Hosting;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>
/// http://localhost:8080/foo serves the unchanged page plus a script that answers its prompt with "foo"
/// (item 7; the browser side is in Browser/CodelabPageTests).
/// </summary>
[TestFixture]
public sealed class RoomFromPathTests
{
    private TestServer _server = null!;
    private HttpClient _http = null!;
    private string _index = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _server = await TestServer.StartAsync();
        _http = new HttpClient { BaseAddress = _server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        _index = File.ReadAllText(RepoPaths.Combine("public", "index.html"));
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _http?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [SetUp]
    public void ForgetEarlierErrors() => _server.Logs.Errors.Clear();

    [TearDown]
    public void NoServerErrors() => _server.AssertNoErrors();

    [TestCase("/foo")]
    [TestCase("/foo/")]
    [TestCase("/caf%C3%A9")]
    public async Task RoomPathServesThePageWithTheRoomScriptFirstInItsHead(string path)
    {
        using var response = await _http.GetAsync(path).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
        var html = await response.Content.ReadAsStringAsync().Within();
        const string added = "\n  <base href=\"/\">\n  <script src=\"" + StaticSite.RoomScriptPath + "\"></script>";
        Assert.That(html, Does.Contain("<head>" + added));
        Assert.That(html.Replace(added, ""), Is.EqualTo(_index), "apart from the two added lines the page is the seed's");
    }

    [Test]
    public async Task HeadOfARoomPathHasNoBody()
    {
        var (status, head, body) = await RawHttp.SendAsync(_server.BaseUri, "/foo", "HEAD");
        Assert.That(status, Is.EqualTo(200), head);
        Assert.That(body, Is.Empty);
    }

    [Test]
    public async Task RoomScriptAnswersThePromptFromThePath()
    {
        using var response = await _http.GetAsync(StaticSite.RoomScriptPath).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/javascript"));
        Assert.That(await response.Content.ReadAsStringAsync().Within(), Does.Contain("window.prompt = function"));
    }

    [TestCase("/", "public/index.html")]
    [TestCase("/index.html", "public/index.html")]
    [TestCase("/js/main.js", "public/js/main.js")]
    [TestCase("/css/main.css", "public/css/main.css")]
    public async Task FilesAreNeverTakenForRooms(string path, string file)
    {
        using var response = await _http.GetAsync(path).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsByteArrayAsync().Within(), Is.EqualTo(File.ReadAllBytes(RepoPaths.Combine(file.Split('/')))));
    }

    [TestCase("/foo/bar")]
    [TestCase("/foo.html")]
    [TestCase("/js")]      // a folder of the root is not a room
    [TestCase("/css/")]
    public async Task OtherPathsAreNotRooms(string path)
    {
        using var response = await _http.GetAsync(path).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }
}
