using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>The open packet of a WebSocket handshake: after the 101, one whole unmasked text frame of its own.</summary>
[TestFixture]
public sealed class OpenPacketFrameTests
{
    [TestCase(3)]
    [TestCase(4)]
    public async Task TheOpenPacketFollowsThe101AsOneTextFrame(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        await using var tcp = await SocketIoSignal.Tests.Hostile.RawTcp.ConnectAsync(h.Host.BaseUri.Port);
        Assert.That(await tcp.UpgradeAsync($"/socket.io/?EIO={eio}&transport=websocket"), Is.EqualTo(101));
        var frame = Encoding.Latin1.GetBytes(await tcp.ReadUntilAsync("}"));
        Assert.That(frame[0], Is.EqualTo(0x81), "FIN, text");
        Assert.That(frame[1] & 0x80, Is.Zero, "unmasked");
        int length = frame[1] & 0x7F;
        Assert.That(length, Is.LessThan(126));
        Assert.That(frame.Length, Is.EqualTo(2 + length), "nothing but the one frame");
        Assert.That(Encoding.UTF8.GetString(frame, 2, length), Does.StartWith("0{\"sid\":\""));
    }
}
