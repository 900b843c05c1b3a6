using System.IO.Compression;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Primitives;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.EngineIO.Protocol;
using SocketIoSignal.EngineIO.WebSockets;
using SocketIoSignal.Tests.Hostile;
using SocketIoSignal.Tests.Infrastructure;

using static SocketIoSignal.Tests.Infrastructure.ClientFrames;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>
/// permessage-deflate (RFC 7692): negotiated only when EngineIo:PerMessageDeflate is on; messages from the threshold
/// up compressed (unless sent with compress off), compressed client messages inflated, context takeover as agreed.
/// Checked against .NET's own client implementation and on the wire.
/// </summary>
[TestFixture]
internal sealed class PerMessageDeflateTests
{
    private static readonly string Big = "4" + string.Concat(Enumerable.Repeat("hello permessage-deflate ", 200));

    private static EngineIoOptions On(bool serverTakeover = false, bool clientTakeover = false) => new()
    {
        PerMessageDeflate = true,
        PerMessageDeflateServerNoContextTakeover = !serverTakeover,
        PerMessageDeflateClientNoContextTakeover = !clientTakeover,
    };

    [Test]
    public void NegotiationTakesTheFirstAcceptableOffer()
    {
        var options = On();
        string? Answer(string header) => PerMessageDeflate.Negotiate(new StringValues(header), options)?.ResponseHeader;
        Assert.Multiple(() =>
        {
            // What Chromium and ws offer.
            Assert.That(Answer("permessage-deflate; client_max_window_bits"),
                Is.EqualTo("permessage-deflate; server_no_context_takeover; client_no_context_takeover"));
            Assert.That(Answer("permessage-deflate; server_max_window_bits=10; client_max_window_bits=12"),
                Is.EqualTo("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12"));
            Assert.That(Answer("permessage-deflate; server_max_window_bits=\"11\""), Does.Contain("server_max_window_bits=11"));
            // An offer we cannot take (an 8-bit window, a parameter twice, an unknown one) falls to the next.
            Assert.That(Answer("permessage-deflate; server_max_window_bits=8, permessage-deflate"), Is.EqualTo("permessage-deflate; server_no_context_takeover; client_no_context_takeover"));
            Assert.That(Answer("permessage-deflate; server_no_context_takeover; server_no_context_takeover"), Is.Null);
            Assert.That(Answer("permessage-deflate; foo=1"), Is.Null);
            Assert.That(Answer("permessage-deflate; server_max_window_bits=16"), Is.Null);
            Assert.That(Answer("permessage-deflate; server_max_window_bits"), Is.Null);
            Assert.That(Answer("x-webkit-deflate-frame"), Is.Null);
            Assert.That(Answer(""), Is.Null);
        });
        // With context takeover on both sides, nothing is asked of the client.
        var takeover = On(serverTakeover: true, clientTakeover: true);
        Assert.That(PerMessageDeflate.Negotiate(new StringValues("permessage-deflate; client_max_window_bits"), takeover)!.ResponseHeader,
            Is.EqualTo("permessage-deflate"));
        // A client that asks the server not to keep its context gets that.
        Assert.That(PerMessageDeflate.Negotiate(new StringValues("permessage-deflate; server_no_context_takeover"), takeover)!.ResponseHeader,
            Is.EqualTo("permessage-deflate; server_no_context_takeover"));
    }

    [Test]
    public async Task OffByDefaultTheOfferIsDeclined()
    {
        await using var h = await EngineHarness.StartAsync();
        await using var tcp = await RawTcp.ConnectAsync(h.Host.Port);
        var head = await UpgradeAsync(tcp, h.Raw.Query(4, "websocket"), "permessage-deflate; client_max_window_bits");
        Assert.That(head, Does.StartWith("HTTP/1.1 101"));
        Assert.That(head, Does.Not.Contain("Sec-WebSocket-Extensions"));
        // A frame with RSV1 is then a protocol error.
        await tcp.ReadFrameAsync();
        await tcp.SendAsync(Compressed(0x81, Encoding.UTF8.GetBytes(Big)));
        var (code, _) = await tcp.ReadCloseFrameAsync();
        Assert.That(code, Is.EqualTo(1002));
    }

    [TestCase(false, false)]
    [TestCase(true, true)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    public async Task DotNetClientRoundTripsThroughDeflate(bool serverTakeover, bool clientTakeover)
    {
        await using var h = await EngineHarness.StartAsync(o =>
        {
            o.PerMessageDeflate = true;
            o.PerMessageDeflateServerNoContextTakeover = !serverTakeover;
            o.PerMessageDeflateClientNoContextTakeover = !clientTakeover;
        });
        using var ws = new ClientWebSocket();
        ws.Options.DangerousDeflateOptions = new WebSocketDeflateOptions { ClientContextTakeover = clientTakeover, ServerContextTakeover = serverTakeover };
        var uri = new Uri(new Uri(h.Host.BaseUri.ToString().Replace("http://", "ws://")), h.Raw.Query(4, "websocket"));
        await ws.ConnectAsync(uri, CancellationToken.None).Within();
        Assert.That(await ws.ReceiveTextAsync(), Does.StartWith("0{"));
        for (int i = 0; i < 5; i++)
        {
            // Large (compressed both ways) and small (sent as it is), several times: the contexts carry over or not.
            foreach (var text in new[] { Big + i, "4small" + i, Big + "€😀" + i })
            {
                await ws.SendTextAsync(text);
                Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:" + text[1..]));
                Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo(text));
            }
        }
        await ws.SendBinaryAsync(new byte[5000]);
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("binary:" + new string('0', 10000)));
        var (type, data) = await ws.ReceiveMessageAsync();
        Assert.That((type, data.Length), Is.EqualTo((WebSocketMessageType.Binary, 5000)));
        h.Host.AssertNoErrors();
    }

    [Test]
    public async Task FromTheThresholdUpFramesAreCompressedUnlessCompressIsOff()
    {
        await using var h = await EngineHarness.StartAsync(o =>
        {
            o.PerMessageDeflate = true;
            o.PerMessageDeflateThreshold = 1024;
        }, echo: false);
        await using var tcp = await RawTcp.ConnectAsync(h.Host.Port);
        var head = await UpgradeAsync(tcp, h.Raw.Query(4, "websocket"), "permessage-deflate; client_max_window_bits");
        Assert.That(head, Does.Contain("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover"));
        var (b0, open) = await tcp.ReadFrameAsync();
        Assert.That(b0, Is.EqualTo(0x81), "the open packet is under the threshold: not compressed");
        var session = h.Engine.Sessions.Single();
        string at = "4" + new string('a', 1023);
        string under = "4" + new string('a', 1022);
        session.Send(EngineIoPacket.Message(at[1..]));
        session.Send(EngineIoPacket.Message(under[1..]));
        session.Send(EngineIoPacket.Message(at[1..]), compress: false);
        var one = await tcp.ReadFrameAsync();
        Assert.That(one.B0, Is.EqualTo(0xC1), "1024 bytes: compressed (RSV1)");
        Assert.That(Inflate(one.Payload), Is.EqualTo(at));
        var two = await tcp.ReadFrameAsync();
        Assert.That((two.B0, Encoding.UTF8.GetString(two.Payload)), Is.EqualTo((0x81, under)));
        var three = await tcp.ReadFrameAsync();
        Assert.That((three.B0, Encoding.UTF8.GetString(three.Payload)), Is.EqualTo((0x81, at)), "compress(false) is honoured");
        // A compressed client message, fragmented: RSV1 on the first frame only.
        var compressed = DeflateRaw(Encoding.UTF8.GetBytes(Big));
        int cut = compressed.Length / 2;
        await tcp.SendAsync(Frame(0x41, compressed[..cut]));
        await tcp.SendAsync(Frame(0x80, compressed[cut..]));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:" + Big[1..]));
        // RSV1 on a continuation frame is a protocol error.
        await tcp.SendAsync(Frame(0x41, compressed[..cut]));
        await tcp.SendAsync(Frame(0xC0, compressed[cut..]));
        var (code, reason) = await tcp.ReadCloseFrameAsync();
        Assert.That((code, reason), Is.EqualTo((1002, "RSV1 set on a continuation frame")));
    }

    [Test]
    public async Task ABroadcastPacketIsCompressedOnceForAllReceivers()
    {
        await using var h = await EngineHarness.StartAsync(o => o.PerMessageDeflate = true, echo: false);
        var clients = new List<RawTcp>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var tcp = await RawTcp.ConnectAsync(h.Host.Port);
                clients.Add(tcp);
                await UpgradeAsync(tcp, h.Raw.Query(4, "websocket"), "permessage-deflate");
                await tcp.ReadFrameAsync();
            }
            await Eventually.UntilAsync(() => h.Engine.SessionCount == 3, TaskTimeouts.Default, "three sessions");
            var packet = EngineIoPacket.Message(Big[1..]);
            foreach (var session in h.Engine.Sessions)
            {
                session.Send(packet);
            }
            byte[]? first = null;
            foreach (var tcp in clients)
            {
                var (b0, payload) = await tcp.ReadFrameAsync();
                Assert.That(b0, Is.EqualTo(0xC1));
                Assert.That(Inflate(payload), Is.EqualTo(Big));
                first ??= payload;
                Assert.That(payload, Is.EqualTo(first));
            }
            using var deflate = new PerMessageDeflate(new DeflateParameters(true, true, 15, 15), 1024);
            var once = packet.Deflated(15, deflate.CompressFunc);
            Assert.That(packet.Deflated(15, deflate.CompressFunc), Is.SameAs(once), "made once, kept on the packet");
            Assert.That(once, Is.EqualTo(first));
        }
        finally
        {
            foreach (var tcp in clients)
            {
                await tcp.DisposeAsync();
            }
        }
    }

    internal static async Task<string> UpgradeAsync(RawTcp tcp, string path, string? extensions)
    {
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        string ext = extensions is null ? "" : $"Sec-WebSocket-Extensions: {extensions}\r\n";
        await tcp.SendAsync($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n");
        var (_, head, _) = await tcp.ReadResponseAsync();
        return head;
    }

    internal static string Inflate(byte[] payload)
    {
        using var input = new MemoryStream([.. payload, 0, 0, 0xFF, 0xFF]);
        using var inflate = new DeflateStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = inflate.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, n);
            }
        }
        catch (InvalidDataException)
        {
            // The stream has no final block: it ends where the input does.
        }
        return Encoding.UTF8.GetString(output.ToArray());
    }

    /// <summary>One compressed message in one frame (RSV1 set).</summary>
    internal static byte[] Compressed(int b0, byte[] message) => Frame(b0 | 0x40, DeflateRaw(message));
}
