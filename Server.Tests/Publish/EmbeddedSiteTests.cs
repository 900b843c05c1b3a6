using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SocketIoSignal.Hosting;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Publish;

/// <summary>
/// The codelab page built into the program (what a published single file serves when no public/ folder is
/// beside it): the same bytes as public/, under the same guards as the folder.
/// </summary>
[TestFixture]
public sealed class EmbeddedSiteTests
{
    private readonly EmbeddedSiteFileProvider _files = EmbeddedSiteFileProvider.ForServer();

    [Test]
    public void EveryFileOfPublicIsBuiltInAsItIs()
    {
        var root = RepoPaths.Combine("public");
        var paths = Directory.GetFiles(root, "*", SearchOption.AllDirectories);
        Assert.That(paths, Is.Not.Empty);
        Assert.That(_files.HasIndex, Is.True);
        foreach (var path in paths)
        {
            var subpath = "/" + Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
            var info = _files.GetFileInfo(subpath);
            Assert.That(info.Exists, Is.True, subpath);
            Assert.That(info.IsDirectory, Is.False, subpath);
            Assert.That(info.Name, Is.EqualTo(Path.GetFileName(path)));
            using var stream = info.CreateReadStream();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            Assert.That(copy.ToArray(), Is.EqualTo(File.ReadAllBytes(path)), subpath);
            Assert.That(info.Length, Is.EqualTo(new FileInfo(path).Length), subpath);
        }
    }

    [TestCase("js/main.js")]
    [TestCase("/js/main.js")]
    public void APathWithOrWithoutItsLeadingSlashIsFound(string subpath) => Assert.That(_files.GetFileInfo(subpath).Exists, Is.True);

    [TestCase("/../Server/Server.csproj")]
    [TestCase("/js/../index.html")]
    [TestCase("/./index.html")]
    [TestCase("/.git/config")]
    [TestCase("/js\\main.js")]
    [TestCase("/index.html\0")]
    [TestCase("/index.html:stream")]
    [TestCase("/Index.html")]
    [TestCase("/js")]
    [TestCase("/")]
    [TestCase("/nothing.js")]
    public void WhatIsNotAPageFileIsNotFound(string subpath) => Assert.That(_files.GetFileInfo(subpath).Exists, Is.False);

    [TestCase("/", true)]
    [TestCase("", true)]
    [TestCase("/js", true)]
    [TestCase("/js/", true)]
    [TestCase("/css", true)]
    [TestCase("/foo", false)]
    [TestCase("/js/main.js", false)]
    [TestCase("/.git", false)]
    [TestCase("/../Server", false)]
    public void FoldersExistButAreNotListed(string subpath, bool exists)
    {
        var contents = _files.GetDirectoryContents(subpath);
        Assert.That(contents.Exists, Is.EqualTo(exists));
        Assert.That(contents, Is.Empty);
    }

    [Test]
    public async Task ServedThroughTheCodelabSiteAsTheFolderIs()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.UseCodelabStaticFiles(EmbeddedSiteFileProvider.ForServer());
        await app.StartAsync().Within(TimeSpan.FromSeconds(30));
        try
        {
            var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

            using (var index = await http.GetAsync("/").Within())
            {
                Assert.That(index.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(index.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
                Assert.That(index.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
                Assert.That(await index.Content.ReadAsByteArrayAsync().Within(), Is.EqualTo(File.ReadAllBytes(RepoPaths.Combine("public", "index.html"))));
            }
            using (var script = await http.GetAsync("/js/main.js").Within())
            {
                Assert.That(script.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(script.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/javascript"));
                Assert.That(script.Content.Headers.LastModified, Is.Not.Null);
                Assert.That(script.Headers.ETag, Is.Not.Null);
            }
            using (var room = await http.GetAsync("/foo").Within())
            {
                Assert.That(room.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(await room.Content.ReadAsStringAsync().Within(), Does.Contain(StaticSite.RoomScriptPath));
            }
            foreach (var path in new[] { "/js", "/js/", "/css/", "/.git/config", "/js/.env", "/Server.csproj", "/nothing.js" })
            {
                using var response = await http.GetAsync(path).Within();
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), path);
            }
            // Dot segments as the client sent them, not as HttpClient would normalize them.
            foreach (var target in new[] { "/../Server/Server.csproj", "/js/%2e%2e/%2e%2e/Server/Server.csproj", "/js%2fmain.js" })
            {
                Assert.That(await RawGetStatusAsync(port, target).Within(), Is.EqualTo(404).Or.EqualTo(400), target);
            }
        }
        finally
        {
            await app.StopAsync().Within();
        }
    }

    private static async Task<int> RawGetStatusAsync(int port, string target)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        var request = System.Text.Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(request);
        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
        var status = await reader.ReadLineAsync() ?? "";
        return int.Parse(status.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
