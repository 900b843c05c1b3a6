using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

using static SocketIoSignal.Tests.Infrastructure.ClientFrames;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>
/// Every way a client frame can break RFC 6455, over raw TCP: the server answers with the close frame the RFC names
/// (1002 protocol error, 1007 invalid payload, 1009 too big) and a reason, completes the close handshake, and ends
/// the connection with a FIN — never a reset. Each case runs <see cref="Repetitions"/> times so that a race between
/// the close frame and the end of the connection cannot hide.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.None)]
public sealed class WebSocketProtocolErrorTests
{
    private const int Repetitions = 20;

    private const int ProtocolError = 1002;
    private const int InvalidPayload = 1007;
    private const int TooBig = 1009;

    public static IEnumerable<TestCaseData> Cases()
    {
        var text = "6"u8.ToArray();
        yield return Case("RSV1 set (a1 80 00 00 00 00)", [0xa1, 0x80, 0, 0, 0, 0], ProtocolError);
        yield return Case("RSV2 set", Frame(0xc1, text), ProtocolError);
        yield return Case("RSV3 set", Frame(0x91, text), ProtocolError);
        yield return Case("unmasked client frame", Frame(0x81, text, mask: false), ProtocolError);
        yield return Case("reserved data opcode 3", Frame(0x83, text), ProtocolError);
        yield return Case("reserved data opcode 7", Frame(0x87, text), ProtocolError);
        yield return Case("reserved control opcode 0xB", Frame(0x8b, []), ProtocolError);
        yield return Case("reserved control opcode 0xF", Frame(0x8f, []), ProtocolError);
        yield return Case("ping over 125 bytes", Frame(0x89, new byte[126]), ProtocolError);
        yield return Case("pong over 125 bytes", Frame(0x8a, new byte[200]), ProtocolError);
        yield return Case("fragmented ping", Frame(0x09, "x"u8.ToArray()), ProtocolError);
        yield return Case("orphan continuation", Frame(0x80, text), ProtocolError);
        yield return Case("orphan continuation, not final", Frame(0x00, text), ProtocolError);
        yield return Case("interleaved fragments (text inside text)", Cat(Frame(0x01, "4"u8.ToArray()), Frame(0x81, "x"u8.ToArray())), ProtocolError);
        yield return Case("interleaved fragments (binary inside text)", Cat(Frame(0x01, "4"u8.ToArray()), Frame(0x82, [1])), ProtocolError);
        yield return Case("64-bit length with the high bit set", [0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], ProtocolError);
        yield return Case("close frame of one byte", Frame(0x88, [3]), ProtocolError);
        yield return Case("close code 999", Close(999), ProtocolError);
        yield return Case("close code 1005", Close(1005), ProtocolError);
        yield return Case("close code 1006", Close(1006), ProtocolError);
        yield return Case("close code 5000", Close(5000), ProtocolError);
        yield return Case("close frame over 125 bytes", Frame(0x88, new byte[130]), ProtocolError);
        yield return Case("fragmented close", Frame(0x08, [3, 0xe8]), ProtocolError);
        yield return Case("junk after the 101", "GET / HTTP/1.1\r\n\r\n\0\u0001garbage"u8.ToArray(), ProtocolError);
        yield return Case("valid frame, then RSV bits in the same write", Cat(Frame(0x81, text), [0xa1, 0x80, 0, 0, 0, 0]), ProtocolError);
        yield return Case("invalid UTF-8 (c3 28)", Frame(0x81, [0x34, 0xc3, 0x28]), InvalidPayload);
        yield return Case("invalid UTF-8 byte ff", Frame(0x81, [0x34, 0xff]), InvalidPayload);
        yield return Case("UTF-8 surrogate (ed a0 80)", Frame(0x81, [0x34, 0xed, 0xa0, 0x80]), InvalidPayload);
        yield return Case("UTF-8 overlong (c0 af)", Frame(0x81, [0x34, 0xc0, 0xaf]), InvalidPayload);
        yield return Case("UTF-8 truncated at the end of the message", Frame(0x81, [0x34, 0xe2, 0x82]), InvalidPayload);
        yield return Case("invalid UTF-8 split across fragments", Cat(Frame(0x01, [0x34, 0xe2]), Frame(0x80, [0x82, 0x28])), InvalidPayload);
        yield return Case("UTF-8 truncated across fragments", Cat(Frame(0x01, [0x34, 0xf0, 0x9f]), Frame(0x80, [0x98])), InvalidPayload);
        yield return Case("close reason not UTF-8", Close(1000, [0xff, 0xfe]), InvalidPayload);
        yield return Case("header announcing 2^40 bytes, then silence", Frame(0x82, [], announced: 1UL << 40), TooBig);
        yield return Case("header announcing 2 MB of text", Frame(0x81, [], announced: 2_000_000), TooBig);
        yield return Case("fragments adding up past the limit", Cat(Frame(0x01, new byte[60_000]), Frame(0x00, [], announced: 1_000_000)), TooBig);
    }

    private static TestCaseData Case(string name, byte[] bytes, int code) => new TestCaseData(bytes, code).SetName("Closes " + code + ": " + name);

    [TestCaseSource(nameof(Cases))]
    public async Task ClosesWithTheRfcCodeThenFin(byte[] bytes, int code)
    {
        await using var h = await HostileServer.StartAsync();
        for (int i = 0; i < Repetitions; i++)
        {
            int eio = i % 2 == 0 ? 4 : 3;
            await using var tcp = await RawTcp.ConnectAsync(h.Port);
            Assert.That(await tcp.UpgradeAsync($"/socket.io/?EIO={eio}&transport=websocket"), Is.EqualTo(101));
            await tcp.SendAsync(bytes);
            var (got, reason) = await tcp.ReadCloseFrameAsync();
            Assert.That(got, Is.EqualTo(code), $"close code, try {i}");
            Assert.That(reason, Is.Not.Empty, $"close reason, try {i}");
            // The client answers the close frame, as RFC 6455 asks, then the server ends the connection with a FIN.
            await tcp.SendAsync(Close(code));
            Assert.That(await tcp.EndsWithFinAsync(), Is.True, $"a FIN, not a reset, try {i}");
        }
        // Counted once each connection's end has been processed (after its FIN left).
        await Eventually.UntilAsync(() => h.Engine.Metrics.ProtocolErrorCount >= Repetitions, TaskTimeouts.Default, "every violation counted as a protocol error");
        await h.FinishAsync();
    }

    [Test]
    public async Task AnnouncedHugeFrameIsRefusedBeforeItsPayload()
    {
        await using var h = await HostileServer.StartAsync();
        await using var tcp = await RawTcp.ConnectAsync(h.Port);
        Assert.That(await tcp.UpgradeAsync("/socket.io/?EIO=4&transport=websocket"), Is.EqualTo(101));
        // The header alone: 1009 comes at once — the server cannot have waited for (or buffered) a payload never sent.
        await tcp.SendAsync(Frame(0x82, [1, 2, 3], announced: 1UL << 40)[..^3]);
        var (code, reason) = await tcp.ReadCloseFrameAsync(TimeSpan.FromSeconds(5));
        Assert.That(code, Is.EqualTo(TooBig));
        Assert.That(reason, Is.EqualTo("message too big"));
        Assert.That(await tcp.EndsWithFinAsync(), Is.True);
        await h.FinishAsync();
    }

    [Test]
    public async Task WrongWebSocketVersionGets426WithVersion13()
    {
        await using var h = await HostileServer.StartAsync();
        foreach (var version in new[] { "8", "12", "14", "99", "" })
        {
            foreach (var sidPart in new[] { "", "&sid=unknown" })
            {
                await using var tcp = await RawTcp.ConnectAsync(h.Port);
                string header = version.Length == 0 ? "" : $"Sec-WebSocket-Version: {version}\r\n";
                await tcp.SendAsync($"GET /socket.io/?EIO=4&transport=websocket{sidPart} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{header}\r\n");
                var (status, head, _) = await tcp.ReadResponseAsync();
                if (sidPart.Length == 0)
                {
                    Assert.That(status, Is.EqualTo(426), $"version '{version}'");
                    Assert.That(head, Does.Contain("Sec-WebSocket-Version: 13"), $"version '{version}'");
                }
                else
                {
                    // An unknown sid is answered first, as the reference does.
                    Assert.That(status, Is.EqualTo(400), $"version '{version}', unknown sid");
                }
            }
        }
        var (sid, _) = await h.Raw.HandshakeAsync(4);
        await using (var tcp = await RawTcp.ConnectAsync(h.Port))
        {
            await tcp.SendAsync($"GET /socket.io/?EIO=4&transport=websocket&sid={sid} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n");
            var (status, head, _) = await tcp.ReadResponseAsync();
            Assert.That(status, Is.EqualTo(426));
            Assert.That(head, Does.Contain("Sec-WebSocket-Version: 13"));
        }
        // Version 13 is still accepted, and the Accept key is RFC 6455's.
        await using (var tcp = await RawTcp.ConnectAsync(h.Port))
        {
            await tcp.SendAsync("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            var (status, head, _) = await tcp.ReadResponseAsync();
            Assert.That(status, Is.EqualTo(101));
            Assert.That(head, Does.Contain("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        }
        await h.FinishAsync();
    }
}
