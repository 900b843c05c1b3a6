using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>socket.io 4.8 test/handshake.ts, against our server, over raw HTTP as the originals.</summary>
[TestFixture]
public sealed class HandshakeTests : NodeSuiteFixture
{
    [Test(Description = "should send the Access-Control-Allow-xxx headers on GET request")]
    public async Task ShouldSendTheAccessControlAllowXxxHeadersOnGetRequest()
    {
        var server = await StartAsync(engineIo: o => o.AllowedOrigins = ["http://localhost:54024"]);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{server.Url}/socket.io/default/?transport=polling&EIO=4");
        request.Headers.Add("Origin", "http://localhost:54024");
        using var response = await http.SendAsync(request).Within();
        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo("http://localhost:54024"));
        Assert.That(Header(response, "Access-Control-Allow-Credentials"), Is.EqualTo("true"));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;

    [Test(Description = "should send the Access-Control-Allow-xxx headers on OPTIONS request")]
    public async Task ShouldSendTheAccessControlAllowXxxHeadersOnOptionsRequest()
    {
        var server = await StartAsync(engineIo: o =>
        {
            o.AllowedOrigins = ["http://localhost:54023"];
            o.AllowedHeaders = ["content-type"];
        });
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Options, $"{server.Url}/socket.io/default/?transport=polling&EIO=4");
        request.Headers.Add("Origin", "http://localhost:54023");
        using var response = await http.SendAsync(request).Within();
        Assert.That((int)response.StatusCode, Is.EqualTo(204));
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo("http://localhost:54023"));
        Assert.That(Header(response, "Access-Control-Allow-Methods"), Is.EqualTo("GET,POST"));
        Assert.That(Header(response, "Access-Control-Allow-Headers"), Is.EqualTo("content-type"));
        Assert.That(Header(response, "Access-Control-Allow-Credentials"), Is.EqualTo("true"));
    }

    [Test(Description = "should allow request if custom function in opts.allowRequest returns true")]
    public async Task ShouldAllowRequestIfCustomFunctionInOptsAllowRequestReturnsTrue()
    {
        int asked = 0;
        var server = await StartAsync(engineIo: o => o.AllowRequest = _ =>
        {
            Interlocked.Increment(ref asked);
            return ValueTask.FromResult(AllowRequestResult.Allowed);
        });
        using var http = new HttpClient();
        using var response = await http.GetAsync($"{server.Url}/socket.io/default/?transport=polling&EIO=4").Within();
        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(await response.Content.ReadAsStringAsync().Within(), Does.StartWith("0{\"sid\":"));
        Assert.That(asked, Is.EqualTo(1));
    }

    [Test(Description = "should disallow request if custom function in opts.allowRequest returns false")]
    public async Task ShouldDisallowRequestIfCustomFunctionInOptsAllowRequestReturnsFalse()
    {
        int asked = 0;
        var server = await StartAsync(engineIo: o =>
        {
            // the origin is allowed here (ours refuses other origins by default, Node does not): the hook refuses
            o.AllowedOrigins = ["http://foo.example"];
            o.AllowRequest = _ =>
            {
                Interlocked.Increment(ref asked);
                return ValueTask.FromResult(AllowRequestResult.Refused());
            };
        });
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{server.Url}/socket.io/default/?transport=polling&EIO=4");
        request.Headers.Add("Origin", "http://foo.example");
        using var response = await http.SendAsync(request).Within();
        Assert.That((int)response.StatusCode, Is.EqualTo(403));
        // Node's body for a refusal without a message
        Assert.That(await response.Content.ReadAsStringAsync().Within(), Is.EqualTo("{\"code\":4,\"message\":\"Forbidden\"}"));
        Assert.That(asked, Is.EqualTo(1));
        Assert.That(server.App.Services.GetRequiredService<EngineIoServer>().SessionCount, Is.Zero);
    }
}
