using System.IO.Compression;
using System.Net;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>
/// Polling responses compressed as engine.io's <c>httpCompression</c>: from <c>HttpCompression:Threshold</c> bytes,
/// gzip or deflate as <c>Accept-Encoding</c> allows, with the compressed length; compressed request bodies refused.
/// </summary>
[TestFixture]
public sealed class HttpCompressionTests
{
    private static string Frame(int eio, params string[] packets) =>
        eio == 4 ? string.Join('\u001e', packets) : string.Concat(packets.Select(p => $"{p.Length}:{p}"));

    /// <summary>Each header's answer is what the reference's <c>accepts(req).encodings(["gzip", "deflate"])</c> gives (checked with Node).</summary>
    [TestCase(null, "identity")]
    [TestCase("", "identity")]
    [TestCase("gzip", "gzip")]
    [TestCase("GZIP", "gzip")]
    [TestCase("deflate", "deflate")]
    [TestCase("br", "identity")]
    [TestCase("identity", "identity")]
    [TestCase("x-gzip", "identity")]
    [TestCase("*", "gzip")]
    [TestCase("*;q=0", "identity")]
    [TestCase("gzip;q=0", "identity")]
    [TestCase("gzip;q=0, deflate", "deflate")]
    [TestCase("deflate, gzip", "deflate")]
    [TestCase("deflate;q=0.5, gzip;q=0.5", "deflate")]
    [TestCase("gzip;q=0.5, *", "deflate")]
    [TestCase("*;q=0.1, deflate;q=0.1", "deflate")]
    [TestCase("gzip;q=abc, deflate", "deflate")]
    [TestCase("gzip , deflate;q=0.9", "gzip")]
    [TestCase("gzip;level=1;q=0.2, deflate;q=0.1", "gzip")]
    [TestCase("gzip;q=0.1, gzip", "gzip")]
    [TestCase("deflate;q=1.0, *;q=0.9", "deflate")]
    [TestCase("gzip;q=.5, deflate;q=0.4", "gzip")]
    [TestCase("gzip, deflate, br, zstd", "gzip")]
    public void TheCodingIsNegotiatedAsTheReferenceNegotiatesIt(string? acceptEncoding, string expected)
    {
        var coding = HttpCompression.Choose(acceptEncoding);
        Assert.That(coding == ContentCoding.Identity ? "identity" : HttpCompression.Name(coding), Is.EqualTo(expected));
    }

    [TestCase(3, "gzip")]
    [TestCase(3, "deflate")]
    [TestCase(4, "gzip")]
    [TestCase(4, "deflate")]
    public async Task APollOfAtLeastTheThresholdIsCompressedWithTheCodingTheClientAccepts(int eio, string coding)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        string text = new('x', 2000);
        h.Session(sid).Send(text);
        var poll = await PollAsync(h.Raw, h.Poll(eio, sid), coding);
        Assert.That(poll.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(poll.ContentEncoding, Is.EqualTo(coding));
        Assert.That(poll.ContentType, Is.EqualTo("text/plain; charset=UTF-8"));
        Assert.That(poll.ContentLength, Is.EqualTo(poll.Body.Length), "Content-Length is the compressed length");
        Assert.That(poll.Body.Length, Is.LessThan(200));
        Assert.That(Encoding.UTF8.GetString(Decompress(poll.Body, coding)), Is.EqualTo(Frame(eio, "4" + text)));
        h.Host.AssertNoErrors();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task APollBelowTheThresholdOrToAClientThatAcceptsNoCodingIsSentAsItIs(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        // One byte under the threshold once framed: "4" + text (+ the "1018:" of v3).
        string under = new('y', eio == 3 ? 1017 : 1022);
        Assert.That(Encoding.UTF8.GetByteCount(Frame(eio, "4" + under)), Is.EqualTo(1023));
        h.Session(sid).Send(under);
        var small = await PollAsync(h.Raw, h.Poll(eio, sid), "gzip, deflate");
        Assert.That((small.ContentEncoding, Encoding.UTF8.GetString(small.Body)), Is.EqualTo(((string?)null, Frame(eio, "4" + under))));

        string at = under + "y";
        h.Session(sid).Send(at);
        var exact = await PollAsync(h.Raw, h.Poll(eio, sid), "gzip, deflate");
        Assert.That(exact.ContentEncoding, Is.EqualTo("gzip"), "1024 bytes is at the threshold");

        h.Session(sid).Send(new string('z', 5000));
        var refused = await PollAsync(h.Raw, h.Poll(eio, sid), "br;q=1, gzip;q=0, deflate;q=0");
        Assert.That(refused.ContentEncoding, Is.Null);
        Assert.That(Encoding.UTF8.GetString(refused.Body), Is.EqualTo(Frame(eio, "4" + new string('z', 5000))));
        Assert.That(refused.ContentLength, Is.EqualTo(refused.Body.Length));
    }

    [Test]
    public async Task TheThresholdIsAnOptionAndCompressionCanBeTurnedOff()
    {
        await using (var h = await EngineHarness.StartAsync(o => o.HttpCompression.Threshold = 10))
        {
            var (sid, _) = await h.Raw.HandshakeAsync(4);
            h.Session(sid).Send("twelve bytes");
            var poll = await PollAsync(h.Raw, h.Poll(4, sid), "deflate");
            Assert.That(poll.ContentEncoding, Is.EqualTo("deflate"));
            Assert.That(Encoding.UTF8.GetString(Decompress(poll.Body, "deflate")), Is.EqualTo("4twelve bytes"));
        }
        await using (var h = await EngineHarness.StartAsync(o => o.HttpCompression.Enabled = false))
        {
            var (sid, _) = await h.Raw.HandshakeAsync(4);
            h.Session(sid).Send(new string('x', 5000));
            var poll = await PollAsync(h.Raw, h.Poll(4, sid), "gzip, deflate");
            Assert.That(poll.ContentEncoding, Is.Null);
            Assert.That(Encoding.UTF8.GetString(poll.Body), Is.EqualTo("4" + new string('x', 5000)));
        }
    }

    [Test]
    public async Task V3BinaryAndJsonpPayloadsAreCompressedToo()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(3);
        var data = Enumerable.Range(0, 3000).Select(i => (byte)(i % 7)).ToArray();
        h.Session(sid).SendBinary(data);
        var binary = await PollAsync(h.Raw, h.Poll(3, sid), "gzip");
        Assert.That((binary.ContentType, binary.ContentEncoding), Is.EqualTo(("application/octet-stream", "gzip")));
        var inflated = Decompress(binary.Body, "gzip");
        // v3 binary payload: 1 (binary), the length's decimal digits, 255, then the type byte 4 and the data.
        Assert.That(inflated[..7], Is.EqualTo(new byte[] { 1, 3, 0, 0, 1, 255, 4 }));
        Assert.That(inflated[7..], Is.EqualTo(data));

        string jsonpSid = await h.JsonpHandshakeAsync();
        h.Session(jsonpSid).Send(new string('j', 2000));
        var script = await PollAsync(h.Raw, h.Poll(3, jsonpSid, "j=0"), "deflate");
        Assert.That((script.ContentType, script.ContentEncoding), Is.EqualTo(("text/javascript; charset=UTF-8", "deflate")));
        Assert.That(Encoding.UTF8.GetString(Decompress(script.Body, "deflate")), Does.StartWith("___eio[0](\"2001:4jjj"));
    }

    [TestCase(3, "gzip")]
    [TestCase(4, "gzip")]
    [TestCase(4, "deflate, identity")]
    public async Task APostWithAContentEncodingIsRefusedWith400AndOnlyItsSessionCloses(int eio, string coding)
    {
        await using var h = await EngineHarness.StartAsync();
        var (bystander, _) = await h.Raw.HandshakeAsync(eio);
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        // A small gzip body that would inflate to the payload "4hello" (v4) — never read.
        var body = Compress(Encoding.UTF8.GetBytes(Frame(eio, "4hello")), "gzip");
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("text/plain;charset=UTF-8");
        content.Headers.TryAddWithoutValidation("Content-Encoding", coding);
        using var response = await h.Raw.Http.PostAsync(h.Poll(eio, sid), content).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("{\"code\":3,\"message\":\"Bad request\"}"));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ParseError));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("close:ParseError"));
        Assert.That(h.IsOpen(sid), Is.False);
        // The other session goes on.
        Assert.That(await h.Raw.PostTextAsync(h.Poll(eio, bystander), Frame(eio, "4still here")), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:still here"));
        h.Host.AssertNoErrors();
    }

    [Test]
    public async Task APostWithContentEncodingIdentityIsAnOrdinaryPost()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(4);
        using var content = new StringContent("4plain", Encoding.UTF8);
        content.Headers.ContentEncoding.Add("identity");
        using var response = await h.Raw.Http.PostAsync(h.Poll(4, sid), content).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:plain"));
    }

    [Test]
    public async Task MaxHttpBufferSizeBoundsTheUncompressedBodyAndTheCompressedResponseStaysWithinIt()
    {
        // A poll carrying more than MaxHttpBufferSize of packets (the limit is on what a client sends) is compressed
        // as a whole, and a POST of exactly the limit is taken while one byte more is refused.
        await using var h = await EngineHarness.StartAsync(o => o.MaxHttpBufferSize = 4000);
        var (sid, _) = await h.Raw.HandshakeAsync(4);
        var text = new string('p', 3999);
        Assert.That(await h.Raw.PostTextAsync(h.Poll(4, sid), "4" + text), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:" + text));
        var poll = await PollAsync(h.Raw, h.Poll(4, sid), "gzip");
        Assert.That(poll.ContentEncoding, Is.EqualTo("gzip"));
        Assert.That(Encoding.UTF8.GetString(Decompress(poll.Body, "gzip")), Is.EqualTo("4" + text));
        var (status, _) = await h.Raw.PostTextAsync(h.Poll(4, sid), "4" + text + "p");
        Assert.That(status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
    }

    internal sealed record Poll(HttpStatusCode Status, string? ContentType, string? ContentEncoding, long? ContentLength, string? Vary, bool Chunked, byte[] Body);

    /// <summary>A GET with this <c>Accept-Encoding</c>; the body as it came (HttpClient does not decompress).</summary>
    internal static async Task<Poll> PollAsync(EngineIoRaw raw, string pathAndQuery, string? acceptEncoding)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }
        using var response = await raw.Http.SendAsync(request).Within();
        var body = await response.Content.ReadAsByteArrayAsync().Within();
        var encoding = response.Content.Headers.ContentEncoding.Count == 0 ? null : string.Join(",", response.Content.Headers.ContentEncoding);
        var vary = response.Headers.Vary.Count == 0 ? null : string.Join(",", response.Headers.Vary);
        return new Poll(response.StatusCode, response.Content.Headers.ContentType?.ToString(), encoding, response.Content.Headers.ContentLength,
            vary, response.Headers.TransferEncodingChunked == true, body);
    }

    internal static byte[] Decompress(byte[] body, string coding)
    {
        using var input = new MemoryStream(body);
        using Stream zip = coding == "gzip" ? new GZipStream(input, CompressionMode.Decompress) : new ZLibStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        zip.CopyTo(output);
        return output.ToArray();
    }

    private static byte[] Compress(byte[] data, string coding)
    {
        using var output = new MemoryStream();
        using (Stream zip = coding == "gzip" ? new GZipStream(output, CompressionLevel.Optimal) : new ZLibStream(output, CompressionLevel.Optimal))
        {
            zip.Write(data);
        }
        return output.ToArray();
    }
}
