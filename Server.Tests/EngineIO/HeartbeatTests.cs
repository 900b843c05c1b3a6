using System.Net;
using System.Net.WebSockets;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>Item 4: v3 client pings, v4 server pings, the timeout at pingInterval + pingTimeout, on fake time.</summary>
[TestFixture]
public sealed class HeartbeatTests
{
    private const int Interval = 25000;
    private const int Timeout = 20000;
    private const string Code1 = "{\"code\":1,\"message\":\"Session ID unknown\"}";

    private static TimeSpan Ms(int ms) => TimeSpan.FromMilliseconds(ms);

    [Test]
    public async Task V4PollingServerPingsEveryIntervalAndClosesWithoutPong()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(4);
        var poll = h.Raw.GetTextAsync(h.Poll(4, sid));
        await Eventually.UntilAsync(() => h.Session(sid).HasPendingPoll, TaskTimeouts.Default, "the GET is waiting");
        h.Time.Advance(Ms(Interval - 1));
        Assert.That(poll.IsCompleted, Is.False);
        h.Time.Advance(Ms(1));
        Assert.That(await poll.Within(), Is.EqualTo((HttpStatusCode.OK, "2")));
        Assert.That(await h.Raw.PostTextAsync(h.Poll(4, sid), "3"), Is.EqualTo((HttpStatusCode.OK, "ok")));
        // The pong restarts the interval; no pong this time.
        h.Time.Advance(Ms(Interval));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(4, sid)), Is.EqualTo((HttpStatusCode.OK, "2")));
        h.Time.Advance(Ms(Timeout - 1));
        Assert.That(h.IsOpen(sid), Is.True);
        h.Time.Advance(Ms(1));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.PingTimeout));
        Assert.That(CloseReason.PingTimeout.ToWire(), Is.EqualTo("ping timeout"));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(4, sid)), Is.EqualTo((HttpStatusCode.BadRequest, Code1)));
    }

    [Test]
    public async Task V4WebSocketServerPingsAndClosesWithoutPong()
    {
        await using var h = await EngineHarness.StartAsync();
        using var ws = await h.Raw.ConnectWebSocketAsync(4);
        var sid = EngineIoRaw.SidOf(await ws.ReceiveTextAsync());
        for (int round = 0; round < 3; round++)
        {
            h.Time.Advance(Ms(Interval));
            Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("2"));
            await ws.SendTextAsync("3");
            await Eventually.UntilAsync(() => !h.Session(sid).AwaitingPong, TaskTimeouts.Default, "the pong arrived");
        }
        h.Time.Advance(Ms(Interval));
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("2"));
        h.Time.Advance(Ms(Timeout));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.PingTimeout));
        Assert.That(h.Engine.SessionCount, Is.Zero);
    }

    [Test]
    public async Task V3PollingClientPingsServerPongsAndSilenceCloses()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(3);
        Assert.That(await h.Raw.PostTextAsync(h.Poll(3, sid), "1:2"), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(3, sid)), Is.EqualTo((HttpStatusCode.OK, "1:3")));
        Assert.That(await h.Raw.PostTextAsync(h.Poll(3, sid), "6:2probe"), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(3, sid)), Is.EqualTo((HttpStatusCode.OK, "6:3probe")));
        // The server never pings in v3.
        var poll = h.Raw.GetTextAsync(h.Poll(3, sid));
        await Eventually.UntilAsync(() => h.Session(sid).HasPendingPoll, TaskTimeouts.Default, "the GET is waiting");
        h.Time.Advance(Ms(Interval + Timeout - 1));
        Assert.That(poll.IsCompleted, Is.False);
        Assert.That(h.IsOpen(sid), Is.True);
        h.Time.Advance(Ms(1));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.PingTimeout));
        Assert.That(await poll.Within(), Is.EqualTo((HttpStatusCode.OK, "1:1")));
    }

    [Test]
    public async Task V3PingResetsTheDeadline()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(3);
        for (int i = 0; i < 3; i++)
        {
            h.Time.Advance(Ms(Interval + Timeout - 1));
            Assert.That(await h.Raw.PostTextAsync(h.Poll(3, sid), "1:2"), Is.EqualTo((HttpStatusCode.OK, "ok")));
            Assert.That(await h.Raw.GetTextAsync(h.Poll(3, sid)), Is.EqualTo((HttpStatusCode.OK, "1:3")));
        }
        Assert.That(h.IsOpen(sid), Is.True);
        h.Time.Advance(Ms(Interval + Timeout));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.PingTimeout));
    }

    [Test]
    public async Task V3WebSocketClientPingsServerPongsAndSilenceCloses()
    {
        await using var h = await EngineHarness.StartAsync();
        using var ws = await h.Raw.ConnectWebSocketAsync(3);
        var sid = EngineIoRaw.SidOf(await ws.ReceiveTextAsync());
        await ws.SendTextAsync("2");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3"));
        await ws.SendTextAsync("2probe");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3probe"));
        h.Time.Advance(Ms(Interval + Timeout - 1));
        Assert.That(h.IsOpen(sid), Is.True);
        h.Time.Advance(Ms(1));
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.PingTimeout));
    }

    [TestCase(4, "2")]
    [TestCase(3, "3")]
    public async Task AHeartbeatInTheWrongDirectionClosesAPollingSession(int eio, string packet)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        await h.Raw.PostTextAsync(h.Poll(eio, sid), eio == 3 ? "1:" + packet : packet);
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ParseError));
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.BadRequest, Code1)));
    }

    [TestCase(4, "2")]
    [TestCase(3, "3")]
    public async Task AHeartbeatInTheWrongDirectionClosesAWebSocketSession(int eio, string packet)
    {
        await using var h = await EngineHarness.StartAsync();
        using var ws = await h.Raw.ConnectWebSocketAsync(eio);
        await ws.ReceiveTextAsync();
        await ws.SendTextAsync(packet);
        Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ParseError));
        var (type, _) = await ws.ReceiveMessageAsync().ContinueWith(t => t.IsFaulted ? (WebSocketMessageType.Close, Array.Empty<byte>()) : t.Result).Within();
        Assert.That(type, Is.EqualTo(WebSocketMessageType.Close));
    }

    [Test]
    public async Task AHandshakeNeverPolledExpiresAtIntervalPlusTimeout()
    {
        await using var h = await EngineHarness.StartAsync();
        var (v3, _) = await h.Raw.HandshakeAsync(3);
        var (v4, _) = await h.Raw.HandshakeAsync(4);
        // v4: a ping after the interval, unanswered, then the timeout; v3: silence for interval + timeout.
        h.Time.Advance(Ms(Interval));
        Assert.That(h.Session(v4).AwaitingPong, Is.True);
        h.Time.Advance(Ms(Timeout - 1));
        Assert.That(h.IsOpen(v3), Is.True);
        Assert.That(h.IsOpen(v4), Is.True);
        h.Time.Advance(Ms(1));
        Assert.That(h.IsOpen(v3), Is.False);
        Assert.That(h.IsOpen(v4), Is.False);
        Assert.That(h.Engine.SessionCount, Is.Zero);
    }
}
