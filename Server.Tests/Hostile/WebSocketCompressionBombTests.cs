using System.IO.Compression;
using NUnit.Framework;
using SocketIoSignal.Tests.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

using static SocketIoSignal.Tests.Infrastructure.ClientFrames;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>
/// permessage-deflate bombs: a small compressed message that inflates past MaxHttpBufferSize is closed with 1009 as
/// soon as the output passes the limit (nothing past it is inflated or kept), corrupt DEFLATE with 1007; the canary
/// pair loses nothing and the server holds no buffer afterwards.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.None)]
internal sealed class WebSocketCompressionBombTests
{
    private static byte[] Zeros(int count)
    {
        using var ms = new MemoryStream();
        using (var deflate = new DeflateStream(ms, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            // An Engine.IO message: "4" and then zeros (valid UTF-8, so only its size can be wrong).
            deflate.WriteByte((byte)'4');
            var chunk = new byte[65536];
            for (int left = count - 1; left > 0; left -= chunk.Length)
            {
                deflate.Write(chunk, 0, Math.Min(left, chunk.Length));
            }
            deflate.Flush();
            // Taken before the stream's end adds a final block: permessage-deflate sends the flush without 00 00 FF FF.
            return ms.ToArray()[..^4];
        }
    }

    [TestCase(1_000_001, TestName = "A message inflating to one byte over the limit closes with 1009")]
    [TestCase(200_000_000, TestName = "A message inflating to 200 MB closes with 1009 at the limit")]
    public async Task InflatingPastTheLimitCloses1009(int inflated)
    {
        await using var h = await HostileServer.StartAsync("--EngineIo:PerMessageDeflate=true");
        var bomb = Zeros(inflated);
        Assert.That(bomb.Length, Is.LessThan(1_000_000), "the compressed message itself is under the limit");
        var before = GC.GetTotalAllocatedBytes(precise: false);
        for (int i = 0; i < 3; i++)
        {
            await using var tcp = await RawTcp.ConnectAsync(h.Port);
            var head = await PerMessageDeflateTests.UpgradeAsync(tcp, "/socket.io/?EIO=4&transport=websocket", "permessage-deflate; client_max_window_bits");
            Assert.That(head, Does.Contain("Sec-WebSocket-Extensions: permessage-deflate"));
            await tcp.SendAsync(Frame(0xC1, bomb));
            var (code, reason) = await tcp.ReadCloseFrameAsync(TimeSpan.FromSeconds(30));
            Assert.That((code, reason), Is.EqualTo((1009, "message too big")));
            await tcp.SendAsync(Frame(0x88, [0x03, 0xf1]));
            Assert.That(await tcp.EndsWithFinAsync(), Is.True);
        }
        // The test process hosts the server: three bombs of 200 MB would allocate 600 MB if inflated whole.
        Assert.That(GC.GetTotalAllocatedBytes(precise: false) - before, Is.LessThan(100_000_000L), "inflating stopped at the limit");
        await Eventually.UntilAsync(() => h.Engine.Metrics.ReceiveBuffers == 0, TaskTimeouts.Default, "no buffer held after the bombs");
        await h.FinishAsync();
    }

    [Test]
    public async Task CorruptDeflateCloses1007()
    {
        await using var h = await HostileServer.StartAsync("--EngineIo:PerMessageDeflate=true");
        foreach (var payload in new[] { new byte[] { 0xff, 0xff, 0xff, 0xff }, [0x07], [0x01, 0x05, 0x00, 0x00, 0x00] })
        {
            await using var tcp = await RawTcp.ConnectAsync(h.Port);
            await PerMessageDeflateTests.UpgradeAsync(tcp, "/socket.io/?EIO=4&transport=websocket", "permessage-deflate");
            await tcp.SendAsync(Frame(0xC1, payload));
            var (code, _) = await tcp.ReadCloseFrameAsync(TimeSpan.FromSeconds(30));
            Assert.That(code, Is.EqualTo(1007), Convert.ToHexString(payload));
            await tcp.SendAsync(Frame(0x88, [0x03, 0xef]));
            Assert.That(await tcp.EndsWithFinAsync(), Is.True);
        }
        await h.FinishAsync();
    }
}
