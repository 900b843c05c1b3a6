using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Hostile;
using SocketIoSignal.Tests.Infrastructure;

using static SocketIoSignal.Tests.Infrastructure.ClientFrames;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>
/// Events are handled at the end of their read's turn (as Node, a tick after the read), never after the end of the
/// connection that follows them: a page that sends its last message and closes at once loses nothing.
/// </summary>
[TestFixture]
internal sealed class ReadTurnTests
{
    [Test]
    public async Task AnEventAndTheCloseFrameInOneWriteTheEventIsStillRelayed()
    {
        await using var server = await TestServer.StartAsync(["--mode", "codelab"]);
        await using var peer = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        await using var tcp = await RawTcp.ConnectAsync(server.Port);
        Assert.That(await tcp.UpgradeAsync("/socket.io/?EIO=4&transport=websocket"), Is.EqualTo(101));
        var (_, open) = await tcp.ReadFrameAsync();
        Assert.That(Encoding.UTF8.GetString(open), Does.StartWith("0{"));
        await tcp.SendAsync(Frame(0x81, "40"u8.ToArray()));
        var (_, connected) = await tcp.ReadFrameAsync();
        Assert.That(Encoding.UTF8.GetString(connected), Does.StartWith("40{"));
        await tcp.SendAsync(Cat(Frame(0x81, "42[\"message\",\"last words\"]"u8.ToArray()), Close(1000)));
        var relayed = await peer.WaitForAsync("message");
        Assert.That(relayed.Args[0]!.GetValue<string>(), Is.EqualTo("last words"));
    }
}
