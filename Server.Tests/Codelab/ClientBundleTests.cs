using System.Net;
using System.Net.Http.Headers;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>--client 1|2|4: /socket.io/socket.io.js is the vendored bundle, byte for byte, cacheable.</summary>
[TestFixture]
public sealed class ClientBundleTests
{
    [TestCase(null, "1.7.4")]
    [TestCase("1", "1.7.4")]
    [TestCase("2", "2.5.0")]
    [TestCase("4", "4.8.1")]
    public async Task BundleIsTheVendoredFileWithETagAnd304(string? client, string version)
    {
        await using var server = await TestServer.StartAsync(client is null ? [] : ["--client", client]);
        using var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        var vendored = File.ReadAllBytes(RepoPaths.Combine("src", "SocketIoSignal", "ClientBundles", version, "socket.io.js"));

        using var response = await http.GetAsync("/socket.io/socket.io.js").Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/javascript"));
        Assert.That(await response.Content.ReadAsByteArrayAsync().Within(), Is.EqualTo(vendored));
        Assert.That(response.Headers.CacheControl, Is.Not.Null);
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
        var etag = response.Headers.ETag;
        Assert.That(etag, Is.Not.Null);
        Assert.That(etag!.IsWeak, Is.False);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/socket.io/socket.io.js");
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await http.SendAsync(conditional).Within();
        Assert.That(notModified.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        Assert.That(notModified.Headers.ETag, Is.EqualTo(etag));
        Assert.That(await notModified.Content.ReadAsByteArrayAsync().Within(), Is.Empty);

        using var stale = new HttpRequestMessage(HttpMethod.Get, "/socket.io/socket.io.js");
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"an-older-bundle\""));
        using var fresh = await http.SendAsync(stale).Within();
        Assert.That(fresh.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await fresh.Content.ReadAsByteArrayAsync().Within(), Is.EqualTo(vendored));

        var (status, head, body) = await RawHttp.SendAsync(server.BaseUri, "/socket.io/socket.io.js", "HEAD");
        Assert.That(status, Is.EqualTo(200));
        Assert.That(head, Does.Contain("Content-Length: " + vendored.Length));
        Assert.That(body, Is.Empty);
        server.AssertNoErrors();
    }

    [TestCase("1", "1.7.4", "socket.io.min.js")]
    [TestCase("4", "4.8.1", "socket.io.min.js")]
    [TestCase("1", "1.7.4", "socket.io.js.map")]
    [TestCase("2", "2.5.0", "socket.io.js.map")]
    [TestCase("4", "4.8.1", "socket.io.min.js.map")]
    public async Task RelatedFilesAreServedToo(string client, string version, string name)
    {
        await using var server = await TestServer.StartAsync(["--client", client]);
        using var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync("/socket.io/" + name).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType,
            Is.EqualTo(name.EndsWith(".map", StringComparison.Ordinal) ? "application/json" : "application/javascript"));
        Assert.That(await response.Content.ReadAsByteArrayAsync().Within(),
            Is.EqualTo(File.ReadAllBytes(RepoPaths.Combine("src", "SocketIoSignal", "ClientBundles", version, name))));
        server.AssertNoErrors();
    }

    [TestCase("3")]
    [TestCase("0")]
    [TestCase("5")]
    public void UnknownClientIsRefusedAtStartUp(string client) =>
        Assert.That(async () => await (await TestServer.StartAsync(["--client", client])).DisposeAsync(),
            Throws.TypeOf<Microsoft.Extensions.Options.OptionsValidationException>().With.Message.EqualTo($"--client must be 1, 2 or 4, not {client}"));
}
