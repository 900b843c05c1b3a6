using System.Net;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>
/// socket.io 4.8 test/server-attachment.ts, against our server: the client bundle it serves (socket.io-client 4.8.1,
/// as socket.io 4.8.1 serves it), over raw HTTP as the originals.
/// </summary>
[TestFixture]
public sealed class ServerAttachmentTests : NodeSuiteFixture
{
    private static readonly HttpClient Http = new(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None }) { Timeout = TaskTimeouts.Default };

    private static async Task<(HttpResponseMessage Response, string Body)> GetAsync(string url, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        var response = await Http.SendAsync(request).Within();
        return (response, await response.Content.ReadAsStringAsync().Within());
    }

    /// <summary>The original's testSource: a script, 200, its ETag, no X-SourceMap, engine.io inside.</summary>
    private async Task SourceAsync(string file)
    {
        var server = await StartAsync();
        var (response, body) = await GetAsync($"{server.Url}/socket.io/{file}");
        using (response)
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(200));
            Assert.That(response.Content.Headers.ContentType!.ToString(), Is.EqualTo("application/javascript; charset=utf-8"));
            // Node's ETag is "<version>"; ours is strong and changes with the bytes served
            Assert.That(response.Headers.ETag, Is.Not.Null);
            Assert.That(response.Headers.ETag!.IsWeak, Is.False);
            Assert.That(response.Headers.Contains("X-SourceMap"), Is.False);
            Assert.That(body, Does.Match("engine\\.io"));
        }
    }

    /// <summary>The original's testSourceMap: JSON, 200, its ETag, engine.io inside.</summary>
    private async Task SourceMapAsync(string file)
    {
        var server = await StartAsync();
        var (response, body) = await GetAsync($"{server.Url}/socket.io/{file}");
        using (response)
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(200));
            Assert.That(response.Content.Headers.ContentType!.ToString(), Is.EqualTo("application/json; charset=utf-8"));
            Assert.That(response.Headers.ETag, Is.Not.Null);
            Assert.That(body, Does.Match("engine\\.io"));
        }
    }

    [Test(Description = "http.Server › should serve client")]
    public Task HttpServerShouldServeClient() => SourceAsync("socket.io.js");

    [Test(Description = "http.Server › should serve client with query string")]
    public Task HttpServerShouldServeClientWithQueryString() => SourceAsync("socket.io.js?buster=" + DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    [Test(Description = "http.Server › should serve source map")]
    public Task HttpServerShouldServeSourceMap() => SourceMapAsync("socket.io.js.map");

    [Test(Description = "http.Server › should serve client (min)")]
    public Task HttpServerShouldServeClientMin() => SourceAsync("socket.io.min.js");

    [Test(Description = "http.Server › should serve source map (min)")]
    public Task HttpServerShouldServeSourceMapMin() => SourceMapAsync("socket.io.min.js.map");

    private async Task NotModifiedAsync(Func<string, string> ifNoneMatch)
    {
        var server = await StartAsync();
        // Node's ETag is the version, which a client knows from an earlier response: here, the ETag of one
        var (first, _) = await GetAsync($"{server.Url}/socket.io/socket.io.js");
        var etag = first.Headers.ETag!.Tag;
        first.Dispose();
        var (response, _) = await GetAsync($"{server.Url}/socket.io/socket.io.js", ("If-None-Match", ifNoneMatch(etag)));
        using (response)
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(304));
        }
    }

    [Test(Description = "http.Server › should handle 304")]
    public Task HttpServerShouldHandle304() => NotModifiedAsync(etag => etag);

    [Test(Description = "http.Server › should handle 304 (2)")]
    public Task HttpServerShouldHandle304Weak() => NotModifiedAsync(etag => "W/" + etag);

    [Test(Description = "http.Server › should not serve static files")]
    public async Task HttpServerShouldNotServeStaticFiles()
    {
        var server = await StartAsync(o => o.ServeClient = false);
        var (response, _) = await GetAsync($"{server.Url}/socket.io/socket.io.js");
        using (response)
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(400));
        }
    }

    [Test(Description = "static files › should serve socket.io.js")]
    public async Task StaticFilesShouldServeSocketIoJs()
    {
        var server = await StartAsync();
        var (response, _) = await GetAsync($"{server.Url}/socket.io/socket.io.js");
        using (response)
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(200));
            Assert.That(response.Content.Headers.ContentType!.ToString(), Is.EqualTo("application/javascript; charset=utf-8"));
        }
    }

    [Test(Description = "static files › should not serve unknown files from the Socket.IO path")]
    public async Task StaticFilesShouldNotServeUnknownFilesFromTheSocketIoPath()
    {
        var server = await StartAsync();
        var (response, _) = await GetAsync($"{server.Url}/socket.io/socket.io.esm.js");
        using (response)
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(400));
        }
    }

    [Test(Description = "static files › should return 404 for mismatching path")]
    public async Task StaticFilesShouldReturn404ForMismatchingPath()
    {
        var server = await StartAsync();
        var (response, _) = await GetAsync($"{server.Url}/abcdefghij/socket.io.js");
        using (response)
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(404));
        }
    }

    [Test(Description = "http.Server › should serve bundle with msgpack parser")]
    public Task HttpServerShouldServeBundleWithMsgpackParser() => SourceAsync("socket.io.msgpack.min.js");

    [Test(Description = "http.Server › should serve source map for bundle with msgpack parser")]
    public Task HttpServerShouldServeSourceMapForBundleWithMsgpackParser() => SourceMapAsync("socket.io.msgpack.min.js.map");

    [Test(Description = "http.Server › should serve the ESM bundle")]
    public Task HttpServerShouldServeTheEsmBundle() => SourceAsync("socket.io.esm.min.js");

    [Test(Description = "http.Server › should serve the source map for the ESM bundle")]
    public Task HttpServerShouldServeTheSourceMapForTheEsmBundle() => SourceMapAsync("socket.io.esm.min.js.map");

    /// <summary>The bundle in <paramref name="accept"/>'s coding: the header Node sends, and the very bytes once decoded.</summary>
    private async Task CompressedAsync(string file, string accept, string coding)
    {
        var server = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{server.Url}/socket.io/{file}");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", accept);
        using var response = await Http.SendAsync(request).Within();
        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(string.Join(",", response.Content.Headers.ContentEncoding), Is.EqualTo(coding));
        Assert.That(response.Headers.ETag, Is.Not.Null);
        var compressed = await response.Content.ReadAsByteArrayAsync().Within();
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(compressed.Length));
        using var input = new MemoryStream(compressed);
        using System.IO.Stream decoder = coding switch
        {
            "gzip" => new System.IO.Compression.GZipStream(input, System.IO.Compression.CompressionMode.Decompress),
            "br" => new System.IO.Compression.BrotliStream(input, System.IO.Compression.CompressionMode.Decompress),
            _ => new System.IO.Compression.ZLibStream(input, System.IO.Compression.CompressionMode.Decompress),
        };
        using var output = new MemoryStream();
        await decoder.CopyToAsync(output).Within();
        var vendored = await File.ReadAllBytesAsync(RepoPaths.Combine("src", "SocketIoSignal", "ClientBundles", "4.8.1", file)).Within();
        Assert.That(output.ToArray(), Is.EqualTo(vendored));
        Assert.That(compressed.Length, Is.LessThan(vendored.Length / 2));
    }

    [Test(Description = "http.Server › should serve client (gzip)")]
    public Task HttpServerShouldServeClientGzip() => CompressedAsync("socket.io.js", "gzip,br,deflate", "gzip");

    [Test(Description = "http.Server › should serve client (br)")]
    public Task HttpServerShouldServeClientBr() => CompressedAsync("socket.io.js", "br", "br");

    [Test(Description = "http.Server › should serve client with necessary CORS headers")]
    public async Task HttpServerShouldServeClientWithNecessaryCorsHeaders()
    {
        var server = await StartAsync(engineIo: o => o.AllowedOrigins = ["https://good-origin.com"]);
        var (response, _) = await GetAsync($"{server.Url}/socket.io/socket.io.js", ("Origin", "https://good-origin.com"));
        using (response)
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(200));
            Assert.That(response.Headers.TryGetValues("Access-Control-Allow-Origin", out var origin) ? string.Join(",", origin) : null, Is.EqualTo("https://good-origin.com"));
        }
        // another origin still gets the file (a script tag needs no CORS), without the headers
        var (other, _) = await GetAsync($"{server.Url}/socket.io/socket.io.js", ("Origin", "https://other-origin.com"));
        using (other)
        {
            Assert.That((int)other.StatusCode, Is.EqualTo(200));
            Assert.That(other.Headers.Contains("Access-Control-Allow-Origin"), Is.False);
        }
    }
}
