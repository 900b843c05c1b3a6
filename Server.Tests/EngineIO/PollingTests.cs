using System.Net;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>Items 2, 3 and 6 over long-polling: one GET and one POST at a time, every payload encoding, the limits.</summary>
[TestFixture]
public sealed class PollingTests
{
    private const string Code1 = "{\"code\":1,\"message\":\"Session ID unknown\"}";
    private const string Code3 = "{\"code\":3,\"message\":\"Bad request\"}";

    private static string Frame(int eio, params string[] packets) =>
        eio == 4 ? string.Join('\u001e', packets) : string.Concat(packets.Select(p => $"{p.Length}:{p}"));

    [TestCase(3)]
    [TestCase(4)]
    public async Task PostedPacketsReachTheHandlerInOrderAndEchoesComeBackInOnePoll(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var (status, body) = await h.Raw.PostTextAsync(h.Poll(eio, sid), Frame(eio, "4hello", "4€", "4😀", "4"));
        Assert.That((status, body), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:hello"));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:€"));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:😀"));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:"));
        var poll = await h.Raw.GetTextAsync(h.Poll(eio, sid));
        Assert.That(poll, Is.EqualTo((HttpStatusCode.OK, Frame(eio, "4hello", "4€", "4😀", "4"))));
        h.Host.AssertNoErrors();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task APendingPollIsAnsweredWhenTheServerSends(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var poll = h.Raw.GetTextAsync(h.Poll(eio, sid));
        Assert.That(poll.IsCompleted, Is.False);
        h.Session(sid).Send("from server");
        Assert.That(await poll.Within(), Is.EqualTo((HttpStatusCode.OK, Frame(eio, "4from server"))));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task ASecondConcurrentGetIs400AndClosesTheSession(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var first = h.Raw.GetTextAsync(h.Poll(eio, sid));
        var second = h.Raw.GetTextAsync(h.Poll(eio, sid, "t=burst"));
        var results = await Task.WhenAll(first, second).Within();
        // Whichever arrived second is the overlap; the one left waiting is ended with a close packet.
        Assert.That(results, Is.EquivalentTo(new[] { (HttpStatusCode.OK, Frame(eio, "1")), (HttpStatusCode.BadRequest, Code3) }));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.TransportError));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.BadRequest, Code1)));
        h.Host.AssertNoErrors();
    }

    private static string PostHead(string pathAndQuery, int contentLength, string contentType = "text/plain;charset=UTF-8", string extra = "") =>
        $"POST {pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {contentType}\r\nContent-Length: {contentLength}\r\n{extra}\r\n";

    [TestCase(3)]
    [TestCase(4)]
    public async Task ASecondConcurrentPostIs400AndClosesTheSession(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        await using var slow = await RawHttpConnection.OpenAsync(h.Host.BaseUri);
        await slow.SendAsync(PostHead(h.Poll(eio, sid), 10, extra: "Expect: 100-continue\r\n"));
        // Kestrel says 100 Continue once the server starts reading this body: the POST is active from here on.
        var (interim, _, _) = await slow.ReadResponseAsync();
        Assert.That(interim, Is.EqualTo(100));
        var (status, body) = await h.Raw.PostTextAsync(h.Poll(eio, sid), Frame(eio, "4x"));
        Assert.That((status, body), Is.EqualTo((HttpStatusCode.BadRequest, Code3)));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.TransportError));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.BadRequest, Code1)));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("close:TransportError"), "the overlapping POST's packet was not delivered");
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task PutOrDeleteWithAValidSidIs400AndTheSessionGoesOn(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
        {
            using var request = new HttpRequestMessage(method, h.Poll(eio, sid)) { Content = new StringContent(Frame(eio, "4x")) };
            using var response = await h.Raw.Http.SendAsync(request).Within();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(Code3));
        }
        Assert.That(h.IsOpen(sid), Is.True);
        Assert.That(await h.Raw.PostTextAsync(h.Poll(eio, sid), Frame(eio, "4still here")), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:still here"));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.OK, Frame(eio, "4still here"))));
    }

    [Test]
    public async Task V4PostAsOctetStreamIsAnswered400AtOnce()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(4);
        await using var tcp = await RawHttpConnection.OpenAsync(h.Host.BaseUri);
        // The body is announced and never sent: the answer must not wait for it.
        await tcp.SendAsync(PostHead(h.Poll(4, sid), 100, "application/octet-stream"));
        var (status, _, body) = await tcp.ReadResponseAsync(TimeSpan.FromSeconds(5));
        Assert.That((status, body), Is.EqualTo((400, Code3)));
        h.Host.AssertNoErrors();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task PostOverMaxHttpBufferSizeByContentLengthIs413WithoutReadingTheBody(int eio)
    {
        await using var h = await EngineHarness.StartAsync(o => o.MaxHttpBufferSize = 1000);
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        await using var tcp = await RawHttpConnection.OpenAsync(h.Host.BaseUri);
        await tcp.SendAsync(PostHead(h.Poll(eio, sid), 2_000_000));
        var (status, _, _) = await tcp.ReadResponseAsync(TimeSpan.FromSeconds(5));
        Assert.That(status, Is.EqualTo(413));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.MessageTooBig));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.BadRequest, Code1)));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task ChunkedPostOverMaxHttpBufferSizeIs413BeforeItEnds(int eio)
    {
        await using var h = await EngineHarness.StartAsync(o => o.MaxHttpBufferSize = 1000);
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        await using var tcp = await RawHttpConnection.OpenAsync(h.Host.BaseUri);
        await tcp.SendAsync($"POST {h.Poll(eio, sid)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
        var chunk = new string('a', 600);
        // 1200 bytes in two chunks, and the body never ends: the server must answer on its own.
        await tcp.SendAsync($"{chunk.Length:x}\r\n{chunk}\r\n{chunk.Length:x}\r\n{chunk}\r\n");
        var (status, _, _) = await tcp.ReadResponseAsync(TimeSpan.FromSeconds(5));
        Assert.That(status, Is.EqualTo(413));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.MessageTooBig));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task PostAtMaxHttpBufferSizeIsAccepted(int eio)
    {
        await using var h = await EngineHarness.StartAsync(o => o.MaxHttpBufferSize = 1000);
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var text = new string('x', eio == 4 ? 999 : 995);
        var payload = Frame(eio, "4" + text);
        Assert.That(Encoding.UTF8.GetByteCount(payload), Is.EqualTo(1000));
        Assert.That(await h.Raw.PostTextAsync(h.Poll(eio, sid), payload), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:" + text));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task PacketsPerPayloadAreBounded(int eio)
    {
        await using var h = await EngineHarness.StartAsync(o => o.MaxPacketsPerPayload = 5);
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        Assert.That(await h.Raw.PostTextAsync(h.Poll(eio, sid), Frame(eio, "4a", "4b", "4c", "4d", "4e")), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Raw.PostTextAsync(h.Poll(eio, sid), Frame(eio, "4a", "4b", "4c", "4d", "4e", "4f")), Is.EqualTo((HttpStatusCode.BadRequest, Code3)));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ParseError));
    }

    [TestCase(3, "1:")]
    [TestCase(3, "3:99:")]
    [TestCase(3, "99999991:4abc")]
    [TestCase(4, "\u001e")]
    [TestCase(4, "")]
    [TestCase(4, "9x")]
    [TestCase(4, "b@@@")]
    [TestCase(3, "4hello")]
    public async Task AMalformedPayloadIs400AndAParseError(int eio, string body)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        Assert.That(await h.Raw.PostTextAsync(h.Poll(eio, sid), body), Is.EqualTo((HttpStatusCode.BadRequest, Code3)));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ParseError));
        Assert.That(h.IsOpen(sid), Is.False);
        h.Host.AssertNoErrors();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task InvalidUtf8InATextPayloadIsAParseError(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var bytes = eio == 4 ? new byte[] { 0x34, 0xC3, 0x28 } : new byte[] { 0x32, 0x3A, 0x34, 0xC3, 0x28 };
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain");
        using var response = await h.Raw.Http.PostAsync(h.Poll(eio, sid), content).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ParseError));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AClientCloseAnswersThePendingPollWithANoop(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var poll = h.Raw.GetTextAsync(h.Poll(eio, sid));
        // A send answers the poll, so the second poll below is the pending one when the close arrives.
        h.Session(sid).Send("x");
        Assert.That(await poll.Within(), Is.EqualTo((HttpStatusCode.OK, Frame(eio, "4x"))));
        var pending = h.Raw.GetTextAsync(h.Poll(eio, sid));
        var post = h.Raw.PostTextAsync(h.Poll(eio, sid), Frame(eio, "1"));
        var results = await Task.WhenAll(pending, post).Within();
        Assert.That(results[0], Is.EqualTo((HttpStatusCode.OK, Frame(eio, "6"))));
        Assert.That(results[1], Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.TransportClose));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.BadRequest, Code1)));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AServerCloseEndsThePendingPollWithAClosePacket(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var poll = h.Raw.GetTextAsync(h.Poll(eio, sid));
        h.Session(sid).Send("last");
        h.Session(sid).Close();
        var first = await poll.Within();
        var all = first.Body;
        if (!all.EndsWith(Frame(eio, "1"), StringComparison.Ordinal))
        {
            all += (await h.Raw.GetTextAsync(h.Poll(eio, sid))).Body;
        }
        // The close packet comes with "last" when the poll was still waiting as the close began; when the poll had
        // already taken "last", it comes after a noop in the next poll, as Node sends a close it could not write.
        Assert.That(all, Is.EqualTo(Frame(eio, "4last", "1")).Or.EqualTo(Frame(eio, "4last") + Frame(eio, "6", "1")));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ForcedClose));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.BadRequest, Code1)));
    }

    /// <summary>
    /// A close with no poll waiting goes out as Node's polling transport sends a close it cannot write at once: the
    /// next poll takes what was queued, the one after a noop and the close packet; then the session is gone.
    /// </summary>
    [TestCase(3)]
    [TestCase(4)]
    public async Task AServerCloseWithNoPollWaitingComesAsNoopAndCloseAfterTheQueue(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        h.Session(sid).Send("last");
        h.Session(sid).Close();
        Assert.That(h.Session(sid).ReadyState, Is.EqualTo("closing"));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.OK, Frame(eio, "4last"))));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.OK, Frame(eio, "6", "1"))));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ForcedClose));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.BadRequest, Code1)));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AServerCloseNobodyPollsForEndsAfterTheCloseTimeout(int eio)
    {
        await using var h = await EngineHarness.StartAsync(o => o.WithCloseTimeout(2000));
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        h.Session(sid).Close();
        h.Time.Advance(TimeSpan.FromMilliseconds(2100));
        await Eventually.UntilAsync(() => !h.Engine.TryGetSession(sid, out _), TaskTimeouts.Default, "the session ends without a poll");
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.BadRequest, Code1)));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AnAbortedPollClosesTheSession(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        await using (var tcp = await RawHttpConnection.OpenAsync(h.Host.BaseUri))
        {
            await tcp.SendAsync($"GET {h.Poll(eio, sid)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            await Eventually.UntilAsync(() => h.Session(sid).HasPendingPoll, TaskTimeouts.Default, "the GET is waiting");
        }
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.TransportError));
        Assert.That(h.Engine.SessionCount, Is.Zero);
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AClientThatNeverPollsIsDroppedWhenItsQueueIsFull(int eio)
    {
        await using var h = await EngineHarness.StartAsync(o => o.MaxQueuedBytes = 10000);
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var session = h.Session(sid);
        var chunk = new string('z', 999);
        int accepted = 0;
        while (session.Send(chunk))
        {
            accepted++;
            Assert.That(session.QueuedBytes, Is.LessThanOrEqualTo(10000));
            Assert.That(accepted, Is.LessThan(100), "the queue must refuse long before this");
        }
        Assert.That(accepted, Is.EqualTo(10));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.SendBufferFull));
        Assert.That(session.QueuedBytes, Is.Zero);
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.BadRequest, Code1)));
    }

    // ---- binary ----

    [Test]
    public async Task V4BinaryTravelsAsBase64RecordsInPolling()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(4);
        Assert.That(await h.Raw.PostTextAsync(h.Poll(4, sid), "4a\u001ebAQID\u001eb"), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:a"));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("binary:010203"));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("binary:"));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(4, sid)), Is.EqualTo((HttpStatusCode.OK, "4a\u001ebAQID\u001eb")));
    }

    [Test]
    public async Task V3Base64ClientGetsB4PacketsInATextPayload()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(3, "b64=1");
        Assert.That(h.Session(sid).SupportsBinary, Is.False);
        Assert.That(await h.Raw.PostTextAsync(h.Poll(3, sid, "b64=1"), "2:4a6:b4AQID"), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:a"));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("binary:010203"));
        using var response = await h.Raw.GetAsync(h.Poll(3, sid, "b64=1"));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/plain"));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("2:4a6:b4AQID"));
    }

    [Test]
    public async Task V3BinaryPayloadPostIsDecoded()
    {
        await using var h = await EngineHarness.StartAsync(echo: false);
        var (sid, _) = await h.Raw.HandshakeAsync(3);
        byte[] body = [0x00, 0x04, 0xFF, 0x34, 0xE2, 0x82, 0xAC, 0x01, 0x04, 0xFF, 0x04, 0x01, 0x02, 0x03, 0x00, 0x01, 0xFF, 0x34];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        using var response = await h.Raw.Http.PostAsync(h.Poll(3, sid), content).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:€"));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("binary:010203"));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:"));
    }

    [Test]
    public async Task V3BinaryPayloadPostThatIsMalformedIsAParseError()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(3);
        using var content = new ByteArrayContent([0x00, 0x09, 0xFF, 0x34]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        using var response = await h.Raw.Http.PostAsync(h.Poll(3, sid), content).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ParseError));
    }

    [Test]
    public async Task V3SessionWithBinaryToSendAnswersWithABinaryPayload()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(3);
        var session = h.Session(sid);
        session.Send("€");
        session.SendBinary(new byte[] { 1, 2, 3 });
        using var response = await h.Raw.GetAsync(h.Poll(3, sid));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/octet-stream"));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.EqualTo(new byte[]
        {
            0x00, 0x04, 0xFF, 0x34, 0xE2, 0x82, 0xAC,
            0x01, 0x04, 0xFF, 0x04, 0x01, 0x02, 0x03,
        }));
        // Text only again: a text payload.
        session.Send("t");
        Assert.That(await h.Raw.GetTextAsync(h.Poll(3, sid)), Is.EqualTo((HttpStatusCode.OK, "2:4t")));
    }

    // ---- JSONP ----

    [Test]
    public async Task JsonpHandshakeAndPollsAreScripts()
    {
        await using var h = await EngineHarness.StartAsync();
        using var handshake = await h.Raw.GetAsync(h.Raw.Query(3, "polling", extra: "j=0"));
        var script = await handshake.Content.ReadAsStringAsync();
        Assert.That(handshake.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/javascript"));
        Assert.That(script, Does.Match("^___eio\\[0\\]\\(\"\\d+:0\\{\\\\\"sid\\\\\":\\\\\"[A-Za-z0-9_-]{20}\\\\\",.*\\}\"\\);$"));
        var sid = System.Text.RegularExpressions.Regex.Match(script, "sid\\\\\":\\\\\"([A-Za-z0-9_-]{20})").Groups[1].Value;
        Assert.That(h.Session(sid).SupportsBinary, Is.False, "JSONP clients take base64");
        h.Session(sid).Send("a\"b\nc");
        h.Session(sid).SendBinary(new byte[] { 1, 2, 3 });
        var (status, body) = await h.Raw.GetTextAsync(h.Poll(3, sid, "j=7"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body, Is.EqualTo("___eio[7](\"6:4a\\\"b\\nc6:b4AQID\");"));
    }

    [Test]
    public async Task JsonpPostIsFormEncodedWithEscapedNewlines()
    {
        await using var h = await EngineHarness.StartAsync(echo: false);
        var sid = await h.JsonpHandshakeAsync();
        Assert.That(sid, Has.Length.EqualTo(20));
        // The client sends "a<LF>b" and "c\nd" (backslash n) as: a\nb and c\\nd, then form-encodes.
        string payload = "4:4a\\nb5:4c\\\\nd5:4x y€";
        var form = "d=" + Uri.EscapeDataString(payload).Replace("%20", "+", StringComparison.Ordinal);
        var (status, body) = await h.Raw.PostTextAsync(h.Poll(3, sid, "j=0"), form, "application/x-www-form-urlencoded");
        Assert.That((status, body), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:a\nb"));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:c\\nd"));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:x y€"));
    }

    [Test]
    public async Task JsonpPostWithoutDIsAParseError()
    {
        await using var h = await EngineHarness.StartAsync();
        var sid = await h.JsonpHandshakeAsync();
        Assert.That(sid, Has.Length.EqualTo(20));
        var (status, _) = await h.Raw.PostTextAsync(h.Poll(3, sid, "j=0"), "x=2%3A4a", "application/x-www-form-urlencoded");
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ParseError));
    }
}
