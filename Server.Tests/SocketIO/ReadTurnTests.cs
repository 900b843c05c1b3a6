using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Hostile;
using SocketIoSignal.Tests.Infrastructure;

using static SocketIoSignal.Tests.Infrastructure.ClientFrames;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>
/// Events are handled at the end of their read's turn (as Node, a tick after the read), never after the end of the
/// connection that follows them: a page that sends its last message and closes at once loses nothing. What the
/// messages read together send is written once per socket after the last of them, and before any control frame
/// read behind them.
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

    [Test]
    public async Task MessagesReadTogetherAreAnsweredInOneWritePerSocket()
    {
        await using var server = await TestServer.StartAsync(["--mode", "codelab"]);
        string node = server.Get<NodeIdentity>().Id;
        var writes = new ConcurrentQueue<long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "engineio.websocket.writes" && instrument.Meter.Tags?.Any(t => t.Key == "node" && (string?)t.Value == node) == true)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => writes.Enqueue(value));
        listener.Start();
        await using var peer = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        await using var tcp = await RawTcp.ConnectAsync(server.Port);
        Assert.That(await tcp.UpgradeAsync("/socket.io/?EIO=4&transport=websocket"), Is.EqualTo(101));
        await tcp.ReadFrameAsync();
        await tcp.SendAsync(Frame(0x81, "40"u8.ToArray()));
        await tcp.ReadFrameAsync();
        long before = writes.Sum();

        // Twenty events in one TCP write: each is relayed to the peer and logged back to the sender.
        const int count = 20;
        await tcp.SendAsync(Cat([.. Enumerable.Range(0, count).Select(i => Frame(0x81, Encoding.UTF8.GetBytes($"42[\"message\",\"m{i}\"]")))]));
        for (int i = 0; i < count; i++)
        {
            var (_, log) = await tcp.ReadFrameAsync();
            Assert.That(Encoding.UTF8.GetString(log), Is.EqualTo($"42[\"log\",[\"Message from server:\",\"Client said: \",\"m{i}\"]]"));
            var relayed = await peer.WaitForAsync("message");
            Assert.That(relayed.Args[0]!.GetValue<string>(), Is.EqualTo($"m{i}"));
        }
        // One write to each of the two sockets when the twenty came in one read (a few if the read was split),
        // not one per message and socket.
        Assert.That(writes.Sum() - before, Is.LessThanOrEqualTo(6), "WebSocket writes for 40 frames");
    }

    [Test]
    public async Task AMessageAndAPingInOneWriteTheAnswerGoesBeforeThePong()
    {
        await using var server = await TestServer.StartAsync(["--mode", "codelab"]);
        await using var tcp = await RawTcp.ConnectAsync(server.Port);
        Assert.That(await tcp.UpgradeAsync("/socket.io/?EIO=4&transport=websocket"), Is.EqualTo(101));
        await tcp.ReadFrameAsync();
        await tcp.SendAsync(Frame(0x81, "40"u8.ToArray()));
        await tcp.ReadFrameAsync();
        await tcp.SendAsync(Cat(Frame(0x81, "42[\"message\",\"first\"]"u8.ToArray()), Frame(0x89, "p"u8.ToArray()), Frame(0x81, "42[\"message\",\"second\"]"u8.ToArray())));
        var (b0, log) = await tcp.ReadFrameAsync();
        Assert.That((b0, Encoding.UTF8.GetString(log)), Is.EqualTo((0x81, "42[\"log\",[\"Message from server:\",\"Client said: \",\"first\"]]")));
        var (pongB0, pong) = await tcp.ReadFrameAsync();
        Assert.That((pongB0, Encoding.UTF8.GetString(pong)), Is.EqualTo((0x8A, "p")));
        var (_, second) = await tcp.ReadFrameAsync();
        Assert.That(Encoding.UTF8.GetString(second), Does.EndWith("\"second\"]]"));
    }
}
