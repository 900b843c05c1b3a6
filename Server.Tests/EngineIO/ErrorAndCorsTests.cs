using System.Net;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>Item 5 (error codes, exactly as the reference) and the origin rules of item 7.</summary>
[TestFixture]
public sealed class ErrorAndCorsTests
{
    private const string Code0 = "{\"code\":0,\"message\":\"Transport unknown\"}";
    private const string Code1 = "{\"code\":1,\"message\":\"Session ID unknown\"}";
    private const string Code2 = "{\"code\":2,\"message\":\"Bad handshake method\"}";
    private const string Code3 = "{\"code\":3,\"message\":\"Bad request\"}";
    private const string Code4 = "{\"code\":4,\"message\":\"Forbidden\"}";
    private const string Code5 = "{\"code\":5,\"message\":\"Unsupported protocol version\"}";

    private static async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> SendAsync(EngineIoRaw raw, HttpMethod method, string url, string? origin = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        var response = await raw.Http.SendAsync(request).Within();
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    private static async Task ExpectError(EngineIoRaw raw, string url, HttpStatusCode status, string body, HttpMethod? method = null)
    {
        var (s, b, response) = await SendAsync(raw, method ?? HttpMethod.Get, url);
        using (response)
        {
            Assert.That(s, Is.EqualTo(status), url);
            Assert.That(b, Is.EqualTo(body), url);
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        }
    }

    private static string WebSocketUpgrade(string pathAndQuery, string? origin = null) =>
        $"GET {pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        (origin is null ? "" : $"Origin: {origin}\r\n") + "\r\n";

    [TestCase("__proto__")]
    [TestCase("constructor")]
    [TestCase("toString")]
    [TestCase("")]
    [TestCase("flashsocket")]
    [TestCase("polling&transport=websocket")]
    public async Task UnknownTransportIsCode0OnPollingAndOnWebSocket(string transport)
    {
        await using var h = await EngineHarness.StartAsync();
        foreach (var eio in new[] { 3, 4 })
        {
            await ExpectError(h.Raw, $"/socket.io/?EIO={eio}&transport={transport}", HttpStatusCode.BadRequest, Code0);
            await using var tcp = await RawHttpConnection.OpenAsync(h.Host.BaseUri);
            await tcp.SendAsync(WebSocketUpgrade($"/socket.io/?EIO={eio}&transport={transport}"));
            var (status, _, body) = await tcp.ReadResponseAsync();
            Assert.That(status, Is.EqualTo(400));
            Assert.That(body, Is.EqualTo(Code0));
        }
        Assert.That(h.Engine.SessionCount, Is.Zero);
    }

    [Test]
    public async Task TransportMissingIsCode0()
    {
        await using var h = await EngineHarness.StartAsync();
        await ExpectError(h.Raw, "/socket.io/?EIO=4", HttpStatusCode.BadRequest, Code0);
    }

    [TestCase("")]
    [TestCase("EIO=abc&")]
    [TestCase("EIO=5&")]
    [TestCase("EIO=2&")]
    [TestCase("EIO=%204&")]
    [TestCase("EIO=&")]
    [TestCase("EIO=3&EIO=4&")]
    public async Task UnsupportedProtocolIsCode5OnPollingAndOnWebSocket(string eio)
    {
        await using var h = await EngineHarness.StartAsync();
        await ExpectError(h.Raw, $"/socket.io/?{eio}transport=polling", HttpStatusCode.BadRequest, Code5);
        await using var tcp = await RawHttpConnection.OpenAsync(h.Host.BaseUri);
        await tcp.SendAsync(WebSocketUpgrade($"/socket.io/?{eio}transport=websocket"));
        var (status, _, body) = await tcp.ReadResponseAsync();
        Assert.That((status, body), Is.EqualTo((400, Code5)));
        Assert.That(h.Engine.SessionCount, Is.Zero);
    }

    [TestCase(3, "AAAAAAAAAAAAAAAAAAAA")]
    [TestCase(4, "AAAAAAAAAAAAAAAAAAAA")]
    [TestCase(4, "__proto__")]
    [TestCase(3, "constructor")]
    public async Task UnknownSidIsCode1(int eio, string sid)
    {
        await using var h = await EngineHarness.StartAsync();
        await ExpectError(h.Raw, h.Raw.Query(eio, "polling", sid), HttpStatusCode.BadRequest, Code1);
        var (status, body) = await h.Raw.PostTextAsync(h.Raw.Query(eio, "polling", sid), eio == 3 ? "2:4a" : "4a");
        Assert.That((status, body), Is.EqualTo((HttpStatusCode.BadRequest, Code1)));
        await using var tcp = await RawHttpConnection.OpenAsync(h.Host.BaseUri);
        await tcp.SendAsync(WebSocketUpgrade(h.Raw.Query(eio, "websocket", sid)));
        var (wsStatus, _, wsBody) = await tcp.ReadResponseAsync();
        Assert.That((wsStatus, wsBody), Is.EqualTo((400, Code1)));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task HandshakeWithAnotherMethodIsCode2(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (status, body) = await h.Raw.PostTextAsync(h.Raw.Query(eio, "polling"), "4a");
        Assert.That((status, body), Is.EqualTo((HttpStatusCode.BadRequest, Code2)));
        await ExpectError(h.Raw, h.Raw.Query(eio, "polling"), HttpStatusCode.BadRequest, Code2, HttpMethod.Put);
        await ExpectError(h.Raw, h.Raw.Query(eio, "polling"), HttpStatusCode.BadRequest, Code2, HttpMethod.Delete);
        Assert.That(h.Engine.SessionCount, Is.Zero);
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task WebSocketTransportWithoutUpgradeHeaderIsCode3(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        await ExpectError(h.Raw, h.Raw.Query(eio, "websocket"), HttpStatusCode.BadRequest, Code3);
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        await ExpectError(h.Raw, h.Raw.Query(eio, "websocket", sid), HttpStatusCode.BadRequest, Code3);
        Assert.That(h.IsOpen(sid), Is.True, "a bad upgrade attempt leaves the session alone");
    }

    [TestCase("a")]
    [TestCase("1a")]
    [TestCase("-1")]
    [TestCase("")]
    [TestCase("0);alert(1")]
    [TestCase("1&j=2")]
    public async Task JsonpIndexMustBeDigitsOnly(string j)
    {
        await using var h = await EngineHarness.StartAsync();
        await ExpectError(h.Raw, h.Raw.Query(3, "polling", extra: "j=" + Uri.EscapeDataString(j).Replace("%26j%3D", "&j=", StringComparison.Ordinal)), HttpStatusCode.BadRequest, Code3);
        Assert.That(h.Engine.SessionCount, Is.Zero);
    }

    [Test]
    public async Task ProtocolMismatchOnASessionIsCode3()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(4);
        await ExpectError(h.Raw, h.Raw.Query(3, "polling", sid), HttpStatusCode.BadRequest, Code3);
    }

    // ---- CORS ----

    [TestCase(3)]
    [TestCase(4)]
    public async Task WithoutOriginTheHandshakeIsAllowedAndCarriesNoCorsHeaders(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (status, _, response) = await SendAsync(h.Raw, HttpMethod.Get, h.Raw.Query(eio, "polling"));
        using (response)
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Headers.Contains("Access-Control-Allow-Origin"), Is.False);
        }
    }

    [Test]
    public async Task SameOriginIsAllowedByDefault()
    {
        await using var h = await EngineHarness.StartAsync();
        var (status, _, response) = await SendAsync(h.Raw, HttpMethod.Get, h.Raw.Query(4, "polling"), h.Host.Url);
        using (response)
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Headers.Contains("Access-Control-Allow-Credentials"), Is.False);
        }
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task CrossOriginIsRefusedByDefaultWith403Code4OnPollingAndWebSocket(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        foreach (var origin in new[] { "http://evil.example", $"http://127.0.0.1:{h.Host.Port + 1}", $"https://127.0.0.1:{h.Host.Port}", "null" })
        {
            var (status, body, response) = await SendAsync(h.Raw, HttpMethod.Get, h.Raw.Query(eio, "polling"), origin);
            using (response)
            {
                Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden), origin);
                Assert.That(body, Is.EqualTo(Code4));
                Assert.That(response.Headers.Contains("Access-Control-Allow-Origin"), Is.False);
            }
            await using var tcp = await RawHttpConnection.OpenAsync(h.Host.BaseUri);
            await tcp.SendAsync(WebSocketUpgrade(h.Raw.Query(eio, "websocket"), origin));
            var (wsStatus, _, wsBody) = await tcp.ReadResponseAsync();
            Assert.That((wsStatus, wsBody), Is.EqualTo((403, Code4)));
        }
        Assert.That(h.Engine.SessionCount, Is.Zero);
    }

    [Test]
    public async Task CrossOriginRequestOnAnExistingSessionIsRefused()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(4);
        var (status, body, response) = await SendAsync(h.Raw, HttpMethod.Get, h.Raw.Query(4, "polling", sid), "http://evil.example");
        response.Dispose();
        Assert.That((status, body), Is.EqualTo((HttpStatusCode.Forbidden, Code4)));
    }

    [Test]
    public async Task AllowedOriginIsReflectedWithCredentialsAndOthersAreRefused()
    {
        await using var h = await EngineHarness.StartAsync(o => o.AllowedOrigins = ["https://app.example"]);
        var (status, _, response) = await SendAsync(h.Raw, HttpMethod.Get, h.Raw.Query(3, "polling"), "https://app.example");
        using (response)
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "https://app.example" }));
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Credentials"), Is.EqualTo(new[] { "true" }));
            Assert.That(response.Headers.Vary, Does.Contain("Origin"));
        }
        var (other, body, refused) = await SendAsync(h.Raw, HttpMethod.Get, h.Raw.Query(3, "polling"), "https://evil.example");
        using (refused)
        {
            Assert.That((other, body), Is.EqualTo((HttpStatusCode.Forbidden, Code4)));
            Assert.That(refused.Headers.Contains("Access-Control-Allow-Origin"), Is.False, "an origin not in the list is never reflected");
        }
    }

    [Test]
    public async Task ErrorsCarryTheCorsHeadersToo()
    {
        await using var h = await EngineHarness.StartAsync(o => o.AllowedOrigins = ["https://app.example"]);
        var (status, body, response) = await SendAsync(h.Raw, HttpMethod.Get, "/socket.io/?EIO=4&transport=nope", "https://app.example");
        using (response)
        {
            Assert.That((status, body), Is.EqualTo((HttpStatusCode.BadRequest, Code0)));
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "https://app.example" }));
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Credentials"), Is.EqualTo(new[] { "true" }));
        }
    }

    [Test]
    public async Task StarAllowsAnyOriginWithoutCredentials()
    {
        await using var h = await EngineHarness.StartAsync(o => o.AllowedOrigins = ["*"]);
        var (status, _, response) = await SendAsync(h.Raw, HttpMethod.Get, h.Raw.Query(4, "polling"), "https://anyone.example");
        using (response)
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "*" }));
            Assert.That(response.Headers.Contains("Access-Control-Allow-Credentials"), Is.False);
        }
        var (errStatus, _, error) = await SendAsync(h.Raw, HttpMethod.Get, "/socket.io/?EIO=9&transport=polling", "https://anyone.example");
        using (error)
        {
            Assert.That(errStatus, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(error.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "*" }));
        }
    }

    [Test]
    public async Task PreflightIsAnsweredForAllowedOriginsOnly()
    {
        await using var h = await EngineHarness.StartAsync(o => o.AllowedOrigins = ["https://app.example"]);
        using (var request = new HttpRequestMessage(HttpMethod.Options, h.Raw.Query(4, "polling")))
        {
            request.Headers.Add("Origin", "https://app.example");
            request.Headers.Add("Access-Control-Request-Method", "POST");
            request.Headers.Add("Access-Control-Request-Headers", "content-type");
            using var response = await h.Raw.Http.SendAsync(request).Within();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "https://app.example" }));
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Methods").Single(), Does.Contain("POST").And.Contain("GET"));
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Headers"), Is.EqualTo(new[] { "content-type" }));
        }
        using (var request = new HttpRequestMessage(HttpMethod.Options, h.Raw.Query(4, "polling")))
        {
            request.Headers.Add("Origin", "https://evil.example");
            request.Headers.Add("Access-Control-Request-Method", "POST");
            using var response = await h.Raw.Http.SendAsync(request).Within();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(response.Headers.Contains("Access-Control-Allow-Methods"), Is.False);
        }
        Assert.That(h.Engine.SessionCount, Is.Zero);
    }
}
