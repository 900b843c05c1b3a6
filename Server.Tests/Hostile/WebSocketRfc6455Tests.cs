using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

using static SocketIoSignal.Tests.Infrastructure.ClientFrames;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>
/// RFC 6455 case by case, modelled on the Autobahn testsuite's sections 1 (framing), 2 (pings and pongs), 3 (reserved
/// bits), 4 (opcodes), 5 (fragmentation), 6 (UTF-8), 7 (close handling) and 9 (large messages), against the
/// Engine.IO echo (an Engine.IO message <c>4…</c> comes back as it went; v4 binary messages too). Each case sends its
/// bytes (whole, or in small writes), then expects the frames the server must send and, for a violation, the close
/// code the RFC names, the close handshake and a FIN; a valid case ends with a clean close started by the client.
/// The violations then run once more against the whole server beside the canary pair, which must lose nothing.
/// docs/rfc6455.md lists the cases.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.None)]
internal sealed class WebSocketRfc6455Tests
{
    private const int ProtocolError = 1002;
    private const int InvalidPayload = 1007;
    private const int TooBig = 1009;

    /// <summary>A frame the server is expected to send: its first byte and payload.</summary>
    public sealed record Expected(int B0, byte[] Payload);

    /// <summary>One case: the client's bytes, how they are written, what must come back, and the close code if any.</summary>
    public sealed record RfcCase(string Id, string Name, byte[] Bytes, Expected[] Replies, int CloseCode, int Chop = 0)
    {
        public override string ToString() => Id + " " + Name;
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>An Engine.IO message of <paramref name="size"/> bytes in all ("4" and filler).</summary>
    private static byte[] Message(int size) => Utf8("4" + new string('*', size - 1));

    private static Expected Text(byte[] payload) => new(0x81, payload);

    private static Expected Binary(byte[] payload) => new(0x82, payload);

    private static Expected Pong(byte[] payload) => new(0x8A, payload);

    private static RfcCase Ok(string id, string name, byte[] bytes, params Expected[] replies) => new(id, name, bytes, replies, 0);

    private static RfcCase Fails(string id, string name, byte[] bytes, int code, params Expected[] replies) => new(id, name, bytes, replies, code);

    /// <summary>The same bytes written in pieces of <paramref name="chop"/> bytes.</summary>
    private static RfcCase Chopped(RfcCase c, int chop) => c with { Id = c.Id, Name = c.Name + $" (written {chop} bytes at a time)", Chop = chop };

    public static IEnumerable<RfcCase> All()
    {
        // ---- 1: framing, text and binary, lengths around the 7/16/64-bit boundaries ----
        int n = 1;
        foreach (int size in new[] { 1, 125, 126, 127, 128, 65535, 65536 })
        {
            var m = Message(size);
            yield return Ok($"1.1.{n}", $"text message of {size} bytes", Frame(0x81, m), Text(m));
            n++;
        }
        yield return Chopped(Ok("1.1.8", "text message of 65536 bytes", Frame(0x81, Message(65536)), Text(Message(65536))), 997);
        n = 1;
        foreach (int size in new[] { 0, 125, 126, 127, 128, 65535, 65536 })
        {
            var b = RandomNumberGenerator.GetBytes(size);
            yield return Ok($"1.2.{n}", $"binary message of {size} bytes", Frame(0x82, b), Binary(b));
            n++;
        }
        yield return Chopped(Ok("1.2.8", "binary message of 65536 bytes", Frame(0x82, new byte[65536]), Binary(new byte[65536])), 997);

        // ---- 2: pings and pongs ----
        yield return Ok("2.1", "ping without payload", Frame(0x89, []), Pong([]));
        yield return Ok("2.2", "ping with a text payload", Frame(0x89, Utf8("Hello, world!")), Pong(Utf8("Hello, world!")));
        yield return Ok("2.3", "ping with a binary payload", Frame(0x89, [0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]), Pong([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]));
        yield return Ok("2.4", "ping with 125 bytes", Frame(0x89, new byte[125]), Pong(new byte[125]));
        yield return Fails("2.5", "ping with 126 bytes", Frame(0x89, new byte[126]), ProtocolError);
        yield return Ok("2.6", "ping with 125 bytes, written a byte at a time", Frame(0x89, Enumerable.Repeat((byte)0xfe, 125).ToArray()), Pong(Enumerable.Repeat((byte)0xfe, 125).ToArray())) with { Chop = 1 };
        yield return Ok("2.7", "unsolicited pong without payload is ignored", Cat(Frame(0x8A, []), Frame(0x81, Utf8("4after"))), Text(Utf8("4after")));
        yield return Ok("2.8", "unsolicited pong with payload is ignored", Cat(Frame(0x8A, Utf8("unsolicited")), Frame(0x81, Utf8("4after"))), Text(Utf8("4after")));
        yield return Ok("2.10", "ten pings, ten pongs", Cat(Enumerable.Range(0, 10).Select(i => Frame(0x89, Utf8("p" + i))).ToArray()),
            Enumerable.Range(0, 10).Select(i => Pong(Utf8("p" + i))).ToArray());
        yield return Ok("2.11", "ten pings written a byte at a time", Cat(Enumerable.Range(0, 10).Select(i => Frame(0x89, Utf8("p" + i))).ToArray()),
            Enumerable.Range(0, 10).Select(i => Pong(Utf8("p" + i))).ToArray()) with { Chop = 1 };

        // ---- 3: reserved bits ----
        yield return Fails("3.1", "RSV1 on a text frame (no extension)", Frame(0xC1, Utf8("4x")), ProtocolError);
        yield return Fails("3.2", "RSV2 on a text frame, after a valid one", Cat(Frame(0x81, Utf8("4x")), Frame(0xA1, Utf8("4x"))), ProtocolError, Text(Utf8("4x")));
        yield return Fails("3.3", "RSV1+RSV2 after a valid frame, then a ping", Cat(Frame(0x81, Utf8("4x")), Frame(0xE1, Utf8("4x")), Frame(0x89, [])), ProtocolError, Text(Utf8("4x")));
        yield return Fails("3.4", "RSV3 on a text frame, written a byte at a time", Frame(0x91, Utf8("4x")), ProtocolError) with { Chop = 1 };
        yield return Fails("3.5", "RSV1+RSV3 on a binary frame", Frame(0xD2, [1, 2]), ProtocolError);
        yield return Fails("3.6", "RSV2+RSV3 on a ping", Frame(0xB9, []), ProtocolError);
        yield return Fails("3.7", "all RSV bits on a close frame", Frame(0xF8, [0x03, 0xe8]), ProtocolError);

        // ---- 4: opcodes ----
        foreach (int op in new[] { 3, 4, 5, 6, 7 })
        {
            yield return Fails($"4.1.{op - 2}", $"reserved data opcode {op}", Frame(0x80 | op, []), ProtocolError);
        }
        yield return Fails("4.1.6", "reserved data opcode 4 with payload, after a valid frame", Cat(Frame(0x81, Utf8("4x")), Frame(0x84, Utf8("abc"))), ProtocolError, Text(Utf8("4x")));
        foreach (int op in new[] { 0xB, 0xC, 0xD, 0xE, 0xF })
        {
            yield return Fails($"4.2.{op - 0xA}", $"reserved control opcode 0x{op:X}", Frame(0x80 | op, []), ProtocolError);
        }

        // ---- 5: fragmentation ----
        yield return Fails("5.1", "ping in two fragments", Cat(Frame(0x09, Utf8("a")), Frame(0x80, Utf8("b"))), ProtocolError);
        yield return Fails("5.2", "pong in two fragments", Cat(Frame(0x0A, Utf8("a")), Frame(0x80, Utf8("b"))), ProtocolError);
        yield return Ok("5.3", "text message in two fragments", Cat(Frame(0x01, Utf8("4frag")), Frame(0x80, Utf8("ment"))), Text(Utf8("4fragment")));
        yield return Ok("5.4", "text message in two fragments, written a byte at a time", Cat(Frame(0x01, Utf8("4frag")), Frame(0x80, Utf8("ment"))), Text(Utf8("4fragment"))) with { Chop = 1 };
        yield return Ok("5.6", "a ping between the fragments", Cat(Frame(0x01, Utf8("4frag")), Frame(0x89, Utf8("p")), Frame(0x80, Utf8("ment"))), Pong(Utf8("p")), Text(Utf8("4fragment")));
        yield return Ok("5.7", "a ping between the fragments, written a byte at a time", Cat(Frame(0x01, Utf8("4frag")), Frame(0x89, Utf8("p")), Frame(0x80, Utf8("ment"))), Pong(Utf8("p")), Text(Utf8("4fragment"))) with { Chop = 1 };
        yield return Fails("5.9", "continuation, final, without a message", Frame(0x80, Utf8("x")), ProtocolError);
        yield return Fails("5.10", "continuation, not final, without a message", Frame(0x00, Utf8("x")), ProtocolError);
        yield return Fails("5.13", "continuation without a message, then a valid message", Cat(Frame(0x00, Utf8("x")), Frame(0x81, Utf8("4x"))), ProtocolError);
        yield return Fails("5.18", "text message inside a text message", Cat(Frame(0x01, Utf8("4a")), Frame(0x01, Utf8("b"))), ProtocolError);
        yield return Fails("5.18b", "binary message inside a text message", Cat(Frame(0x01, Utf8("4a")), Frame(0x82, [1])), ProtocolError);
        yield return Ok("5.19", "five fragments with pings between them", Cat(Frame(0x01, Utf8("4a")), Frame(0x00, Utf8("b")), Frame(0x89, Utf8("1")), Frame(0x00, Utf8("c")), Frame(0x89, Utf8("2")), Frame(0x00, Utf8("d")), Frame(0x80, Utf8("e"))),
            Pong(Utf8("1")), Pong(Utf8("2")), Text(Utf8("4abcde")));
        yield return Ok("5.20", "empty fragments around a message", Cat(Frame(0x01, Utf8("4")), Frame(0x00, []), Frame(0x00, Utf8("x")), Frame(0x80, [])), Text(Utf8("4x")));

        // ---- 6: UTF-8 ----
        yield return Ok("6.1.1", "text message without data", Frame(0x81, Utf8("4")), Text(Utf8("4")));
        yield return Ok("6.2.1", "valid UTF-8 in one frame", Frame(0x81, Utf8("4Hello-µ@ßöäüàá-UTF-8!!")), Text(Utf8("4Hello-µ@ßöäüàá-UTF-8!!")));
        var kosme = Utf8("4κόσμε😀€");
        yield return Ok("6.2.3", "valid UTF-8 split into one-byte fragments", Cat([.. kosme.Select((b, i) => Frame(i == 0 ? 0x01 : i == kosme.Length - 1 ? 0x80 : 0x00, [b]))]), Text(kosme));
        yield return Ok("6.2.4", "valid UTF-8, a 4-byte sequence split at every point", Cat(Frame(0x01, Utf8("4")), Frame(0x00, [0xF0]), Frame(0x00, [0x9F, 0x98]), Frame(0x80, [0x80])), Text(Utf8("4😀")));
        yield return Fails("6.3.1", "invalid UTF-8 (lone continuation byte)", Frame(0x81, [0x34, 0x80]), InvalidPayload);
        yield return Fails("6.3.2", "invalid UTF-8 in the middle of valid text, fragmented", Cat(Frame(0x01, Utf8("4κόσμε")), Frame(0x00, [0xed, 0xa0, 0x80]), Frame(0x80, Utf8("edited"))), InvalidPayload);
        yield return Fails("6.4.1", "fail fast: an invalid sequence in the first fragment, the message never finished", Frame(0x01, [0x34, 0xce, 0xba, 0xf4, 0x90, 0x80, 0x80]), InvalidPayload);
        yield return Fails("6.4.2", "fail fast: a sequence that cannot become valid at the end of a fragment", Frame(0x01, [0x34, 0xf4, 0x90]), InvalidPayload);
        yield return Fails("6.4.3", "fail fast: one byte at a time", Frame(0x01, [0x34, 0xce, 0xba, 0xf4, 0x90, 0x80, 0x80]), InvalidPayload) with { Chop = 1 };
        foreach (var (id, name, bytes) in new (string, string, byte[])[]
        {
            ("6.6", "truncated 2-byte sequence at the end", [0x34, 0xc3]),
            ("6.8", "5-byte sequence", [0x34, 0xf8, 0x88, 0x80, 0x80, 0x80]),
            ("6.9", "code point above U+10FFFF", [0x34, 0xf4, 0x90, 0x80, 0x80]),
            ("6.10", "overlong encoding of '/'", [0x34, 0xc0, 0xaf]),
            ("6.11", "overlong 3-byte NUL", [0x34, 0xe0, 0x80, 0x80]),
            ("6.12", "UTF-16 surrogate U+D800", [0x34, 0xed, 0xa0, 0x80]),
            ("6.13", "surrogate pair encoded as two sequences", [0x34, 0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80]),
            ("6.14", "byte 0xFE", [0x34, 0xfe]),
            ("6.15", "byte 0xFF", [0x34, 0xff]),
        })
        {
            yield return Fails(id, "invalid UTF-8: " + name, Frame(0x81, bytes), InvalidPayload);
        }
        yield return Fails("6.16", "a valid start, then its sequence broken in the next fragment", Cat(Frame(0x01, [0x34, 0xe2]), Frame(0x80, [0x82, 0x28])), InvalidPayload);
        yield return Fails("6.17", "a sequence left open by the last fragment", Cat(Frame(0x01, [0x34, 0xf0, 0x9f]), Frame(0x80, [0x98])), InvalidPayload);
        yield return Ok("6.18", "noncharacters U+FFFE and U+10FFFF are valid", Frame(0x81, [0x34, 0xef, 0xbf, 0xbe, 0xf4, 0x8f, 0xbf, 0xbf]), Text([0x34, 0xef, 0xbf, 0xbe, 0xf4, 0x8f, 0xbf, 0xbf]));

        // ---- 7: close handling ----
        yield return new RfcCase("7.1.1", "a message, then a close", Cat(Frame(0x81, Utf8("4x")), Close(1000)), [Text(Utf8("4x"))], -1000);
        yield return new RfcCase("7.1.2", "close without payload is answered without payload", Frame(0x88, []), [], -1);
        yield return new RfcCase("7.1.3", "nothing after the close is taken", Cat(Close(1000), Frame(0x81, Utf8("4late"))), [], -1000);
        yield return new RfcCase("7.1.4", "a ping after the close gets no pong", Cat(Close(1000), Frame(0x89, Utf8("late"))), [], -1000);
        yield return new RfcCase("7.1.5", "a close in the middle of a fragmented message", Cat(Frame(0x01, Utf8("4frag")), Close(1000)), [], -1000);
        yield return Fails("7.3.2", "close with a one-byte payload", Frame(0x88, [0x03]), ProtocolError);
        yield return new RfcCase("7.3.3", "close with a code and no reason", Close(1000), [], -1000);
        yield return new RfcCase("7.3.4", "close with a code and a reason", Close(1000, Utf8("bye")), [], -1000);
        yield return new RfcCase("7.3.5", "close with a code and a 123-byte reason", Close(1000, Utf8(new string('*', 123))), [], -1000);
        yield return Fails("7.3.6", "close with a code and a 124-byte reason (126 bytes: over 125)", Close(1000, Utf8(new string('*', 124))), ProtocolError);
        n = 1;
        foreach (int code in new[] { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999 })
        {
            yield return new RfcCase($"7.7.{n++}", $"valid close code {code} is answered with it", Close(code), [], -code);
        }
        n = 1;
        foreach (int code in new[] { 0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535 })
        {
            yield return Fails($"7.9.{n++}", $"invalid close code {code}", Close(code), ProtocolError);
        }
        yield return Fails("7.5.1", "close reason that is not UTF-8", Close(1000, [0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64]), InvalidPayload);

        // ---- 9: large messages, in one frame and in fragments, and the limit (MaxHttpBufferSize 1,000,000) ----
        n = 1;
        foreach (int size in new[] { 65536, 262144, 999_999 })
        {
            var m = Message(size);
            yield return Ok($"9.1.{n++}", $"text message of {size} bytes in one frame", Frame(0x81, m), Text(m));
        }
        n = 1;
        foreach (int fragment in new[] { 64, 256, 1024, 4096, 65536 })
        {
            var m = Message(262144);
            var frames = new List<byte[]>();
            for (int at = 0; at < m.Length; at += fragment)
            {
                bool first = at == 0;
                bool last = at + fragment >= m.Length;
                frames.Add(Frame((last ? 0x80 : 0) | (first ? 0x01 : 0x00), m[at..Math.Min(m.Length, at + fragment)]));
            }
            var msg = Ok($"9.2.{n}", $"text message of 262144 bytes in fragments of {fragment}", Cat([.. frames]), Text(m));
            // Past 1024 fragments a message is refused as too big.
            yield return m.Length / fragment > 1024 ? Fails($"9.2.{n}", $"text message of 262144 bytes in {m.Length / fragment} fragments of {fragment} (over 1024 fragments)", msg.Bytes, TooBig) : msg;
            n++;
        }
        yield return Chopped(Ok("9.3.1", "binary message of 262144 bytes", Frame(0x82, new byte[262144]), Binary(new byte[262144])), 65536);
        yield return Fails("9.4.1", "text message of 1,000,001 bytes (over the limit), refused at its header", Frame(0x81, [], announced: 1_000_001), TooBig);
        yield return Fails("9.4.2", "fragments adding up past the limit", Cat(Frame(0x01, Message(600_000)), Frame(0x80, [], announced: 400_001)), TooBig);

        // ---- the rest of RFC 6455 §5 ----
        yield return Fails("10.1", "unmasked client frame", Frame(0x81, Utf8("4x"), mask: false), ProtocolError);
        yield return Fails("10.2", "64-bit length with the high bit set", [0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], ProtocolError);
        yield return Fails("10.3", "reserved opcode 7 right behind a valid binary frame", Cat(Frame(0x82, [1, 2, 3]), Frame(0x87, [])), ProtocolError, Binary([1, 2, 3]));
    }

    public static IEnumerable<TestCaseData> Cases() => All().Select(c => new TestCaseData(c).SetName($"{c.Id} {c.Name}"));

    [TestCaseSource(nameof(Cases))]
    public async Task Case(RfcCase c)
    {
        await using var h = await EngineHarness.StartAsync();
        await using var tcp = await RawTcp.ConnectAsync(h.Host.Port);
        Assert.That(await tcp.UpgradeAsync(h.Raw.Query(4, "websocket")), Is.EqualTo(101));
        var (b0, open) = await tcp.ReadFrameAsync();
        Assert.That(b0, Is.EqualTo(0x81), "the open packet");
        Assert.That(Encoding.UTF8.GetString(open), Does.StartWith("0{"), "the open packet");
        await SendAsync(tcp, c.Bytes, c.Chop);
        foreach (var expected in c.Replies)
        {
            var (gotB0, payload) = await tcp.ReadFrameAsync(TimeSpan.FromSeconds(30));
            Assert.That(gotB0, Is.EqualTo(expected.B0), "frame type");
            Assert.That(payload, Is.EqualTo(expected.Payload), "frame payload");
        }
        if (c.CloseCode > 0)
        {
            var (code, reason) = await tcp.ReadCloseFrameAsync(TimeSpan.FromSeconds(30));
            Assert.That(code, Is.EqualTo(c.CloseCode), "close code: " + reason);
            Assert.That(reason, Is.Not.Empty);
            await tcp.SendAsync(Close(c.CloseCode));
        }
        else if (c.CloseCode < 0)
        {
            // The client closed: the server answers with the client's code (none if it sent none).
            var (code, _) = await tcp.ReadCloseFrameAsync(TimeSpan.FromSeconds(30));
            Assert.That(code, Is.EqualTo(c.CloseCode == -1 ? 0 : -c.CloseCode));
        }
        else
        {
            await tcp.SendAsync(Close(1000));
            var (code, _) = await tcp.ReadCloseFrameAsync(TimeSpan.FromSeconds(30));
            Assert.That(code, Is.EqualTo(1000), "a clean close after the case");
        }
        Assert.That(await tcp.EndsWithFinAsync(), Is.True, "a FIN, not a reset");
        h.Host.AssertNoErrors();
    }

    [Test]
    public async Task EveryViolationLeavesTheCanaryPairWhole()
    {
        await using var h = await HostileServer.StartAsync();
        // The cases with valid messages before the violation are left out here: a Socket.IO server closes a client
        // that sends it an Engine.IO message that is no Socket.IO packet.
        foreach (var c in All().Where(c => c.CloseCode > 0 && c.Replies.Length == 0))
        {
            await using var tcp = await RawTcp.ConnectAsync(h.Port);
            Assert.That(await tcp.UpgradeAsync("/socket.io/?EIO=4&transport=websocket"), Is.EqualTo(101), c.ToString());
            await SendAsync(tcp, c.Bytes, c.Chop);
            var (code, _) = await tcp.ReadCloseFrameAsync(TimeSpan.FromSeconds(30));
            Assert.That(code, Is.EqualTo(c.CloseCode), c.ToString());
            await tcp.SendAsync(Close(code));
            Assert.That(await tcp.EndsWithFinAsync(), Is.True, c.ToString());
        }
        await Eventually.UntilAsync(() => h.Engine.Metrics.ReceiveBuffers == 0, TaskTimeouts.Default, "every buffer a violation held given back");
        await h.FinishAsync();
    }

    private static async Task SendAsync(RawTcp tcp, byte[] bytes, int chop)
    {
        if (chop <= 0)
        {
            await tcp.SendAsync(bytes);
            return;
        }
        for (int at = 0; at < bytes.Length; at += chop)
        {
            await tcp.SendAsync(bytes[at..Math.Min(bytes.Length, at + chop)]);
        }
    }
}
