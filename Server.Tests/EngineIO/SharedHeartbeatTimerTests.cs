using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>The heartbeats of many sessions behind one shared timer: each still on its own schedule, on fake time.</summary>
[TestFixture]
public sealed class SharedHeartbeatTimerTests
{
    private const int Interval = 25000;
    private const int Timeout = 20000;

    private static TimeSpan Ms(int ms) => TimeSpan.FromMilliseconds(ms);

    [Test]
    public async Task StaggeredSessionsArePingedAndTimedOutEachOnItsOwnSchedule()
    {
        await using var h = await EngineHarness.StartAsync();
        var sockets = new List<(ClientWebSocket Ws, string Sid)>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var ws = await h.Raw.ConnectWebSocketAsync(4);
                sockets.Add((ws, EngineIoRaw.SidOf(await ws.ReceiveTextAsync())));
                h.Time.Advance(Ms(1000));
            }
            // Session i opened at i seconds; now is 3 s. Session 0 is due at 25 s, 1 at 26 s, 2 at 27 s.
            h.Time.Advance(Ms(Interval - 3000 - 1));
            Assert.That(sockets.Select(s => h.Session(s.Sid).AwaitingPong), Is.EqualTo(new[] { false, false, false }));
            h.Time.Advance(Ms(1));
            Assert.That(sockets.Select(s => h.Session(s.Sid).AwaitingPong), Is.EqualTo(new[] { true, false, false }));
            Assert.That(await sockets[0].Ws.ReceiveTextAsync(), Is.EqualTo("2"));
            h.Time.Advance(Ms(1000));
            Assert.That(sockets.Select(s => h.Session(s.Sid).AwaitingPong), Is.EqualTo(new[] { true, true, false }));
            Assert.That(await sockets[1].Ws.ReceiveTextAsync(), Is.EqualTo("2"));
            await sockets[1].Ws.SendTextAsync("3");
            await Eventually.UntilAsync(() => !h.Session(sockets[1].Sid).AwaitingPong, TaskTimeouts.Default, "the pong arrived");

            // Session 0 never answers: closed at 25 + 20 s, not a tick before; session 1 answered and stays.
            h.Time.Advance(Ms(Timeout - 1000 - 1));
            Assert.That(h.IsOpen(sockets[0].Sid), Is.True);
            h.Time.Advance(Ms(1));
            Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(SocketIoSignal.EngineIO.CloseReason.PingTimeout));
            Assert.That(h.IsOpen(sockets[0].Sid), Is.False);
            Assert.That(h.IsOpen(sockets[1].Sid), Is.True);
            Assert.That(h.IsOpen(sockets[2].Sid), Is.True);
            // One live timer per open session is counted, none per closed one; the queue holds a few entries each.
            Assert.That(h.Engine.Metrics.Timers.Live, Is.EqualTo(2));
            Assert.That(h.Engine.Timers.QueuedEntries, Is.LessThanOrEqualTo(3 * 3));
        }
        finally
        {
            foreach (var (ws, _) in sockets)
            {
                ws.Dispose();
            }
        }
    }
}
