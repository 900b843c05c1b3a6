using System.IO.Compression;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>
/// Around the Node suite's close, handshake and server-attachment cases, what they leave out: the protocol
/// violations over WebSocket, the CORS preflight without EngineIo:AllowedHeaders and its validation, and the coding
/// of every client file served.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class HttpSideTests
{
    private static readonly HttpClient Http = new(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None }) { Timeout = TaskTimeouts.Default };

    /// <summary>Over WebSocket Node sends what was queued, then closes the WebSocket; here the client is told the same way.</summary>
    [TestCase("40", "40", true)]
    [TestCase("42[\"some event\"]", null, false)]
    [TestCase("40", "4abc", true)]
    public async Task AProtocolViolationOverWebSocketDeliversWhatWasQueuedThenCloses(string first, string? second, bool answered)
    {
        await using var server = await SuiteServer.StartAsync();
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).Within();
        Assert.That(await ws.ReceiveTextAsync(), Does.StartWith("0{"));
        await ws.SendTextAsync(first);
        if (answered)
        {
            Assert.That(await ws.ReceiveTextAsync(), Does.StartWith("40{\"sid\":"));
        }
        if (second is not null)
        {
            await ws.SendTextAsync(second);
        }
        // then nothing but the end of the connection (the close packet, then the close frame)
        while (await ws.ReceiveMessageAsync() is var (type, data) && type != WebSocketMessageType.Close)
        {
            Assert.That(Encoding.UTF8.GetString(data), Is.EqualTo("1"));
        }
        Assert.That(ws.State, Is.EqualTo(WebSocketState.CloseReceived).Or.EqualTo(WebSocketState.Closed));
        server.AssertNoErrors();
    }

    /// <summary>Without EngineIo:AllowedHeaders a preflight is allowed the headers it asks for, as with Node's cors.</summary>
    [Test]
    public async Task WithoutAllowedHeadersAPreflightIsAllowedTheHeadersItAsksFor()
    {
        await using var server = await SuiteServer.StartAsync(engineIo: o => o.AllowedOrigins = ["http://localhost:54023"]);
        using var request = new HttpRequestMessage(HttpMethod.Options, $"{server.Url}/socket.io/default/?transport=polling&EIO=4");
        request.Headers.Add("Origin", "http://localhost:54023");
        request.Headers.Add("Access-Control-Request-Headers", "x-token,content-type");
        using var response = await Http.SendAsync(request).Within();
        Assert.That((int)response.StatusCode, Is.EqualTo(204));
        Assert.That(response.Headers.GetValues("Access-Control-Allow-Headers"), Is.EqualTo(new[] { "x-token,content-type" }));
    }

    /// <summary>A value that is no header name stops the start, naming the option.</summary>
    [Test]
    public void AllowedHeadersThatAreNoHeaderNamesStopTheStart()
    {
        var error = Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(
            () => SuiteServer.StartAsync(engineIo: o => o.AllowedHeaders = ["content-type\r\nx-injected: 1"]));
        Assert.That(error!.Message, Does.Contain("EngineIo:AllowedHeaders"));
    }

    /// <summary>Every client file in the coding Node's negotiator chooses, and the very bytes once decoded.</summary>
    [TestCase("socket.io.min.js", "deflate", "deflate")]
    [TestCase("socket.io.esm.min.js.map", "gzip;q=0.5, br", "br")]
    [TestCase("socket.io.msgpack.min.js", "*", "br")]
    [TestCase("socket.io.min.js.map", "identity;q=1, deflate;q=0.5, gzip", "gzip")]
    [TestCase("socket.io.js", "gzip;q=0", null)]
    public async Task EveryClientFileComesInTheCodingNodeWouldChoose(string file, string accept, string? coding)
    {
        await using var server = await SuiteServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{server.Url}/socket.io/{file}");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", accept);
        using var response = await Http.SendAsync(request).Within();
        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(response.Content.Headers.ContentEncoding, coding is null ? Is.Empty : Is.EqualTo(new[] { coding }));
        Assert.That(response.Headers.Vary, Does.Contain("Accept-Encoding"));
        var body = await response.Content.ReadAsByteArrayAsync().Within();
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(body.Length));
        using var input = new MemoryStream(body);
        using Stream decoder = coding switch
        {
            "gzip" => new GZipStream(input, CompressionMode.Decompress),
            "br" => new BrotliStream(input, CompressionMode.Decompress),
            "deflate" => new ZLibStream(input, CompressionMode.Decompress),
            _ => input,
        };
        using var output = new MemoryStream();
        await decoder.CopyToAsync(output).Within();
        var vendored = await File.ReadAllBytesAsync(RepoPaths.Combine("src", "SocketIoSignal", "ClientBundles", "4.8.1", file)).Within();
        Assert.That(output.ToArray(), Is.EqualTo(vendored));
    }
}
