using System.Net;
using System.Net.WebSockets;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>Item 2: the upgrade from polling to WebSocket, its ordering guarantee, its timeout, and what it refuses.</summary>
[TestFixture]
public sealed class UpgradeTests
{
    private const string Code3 = "{\"code\":3,\"message\":\"Bad request\"}";

    private static string Frame(int eio, params string[] packets) =>
        eio == 4 ? string.Join('\u001e', packets) : string.Concat(packets.Select(p => $"{p.Length}:{p}"));

    private static async Task<bool> IsClosedOrAbortedAsync(ClientWebSocket ws)
    {
        try
        {
            while (true)
            {
                var (type, _) = await ws.ReceiveMessageAsync();
                if (type == WebSocketMessageType.Close)
                {
                    return true;
                }
            }
        }
        catch (WebSocketException)
        {
            return true;
        }
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task FullUpgradeAnswersThePendingPollWithNoopAndDeliversQueuedPacketsOnceInOrder(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var session = h.Session(sid);
        var pending = h.Raw.GetTextAsync(h.Poll(eio, sid));
        using var ws = await h.Raw.ConnectWebSocketAsync(eio, sid);
        await ws.SendTextAsync("2probe");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3probe"));
        Assert.That(await pending.Within(), Is.EqualTo((HttpStatusCode.OK, Frame(eio, "6"))), "the waiting poll is released with a noop");
        // While the client finishes the upgrade, the server keeps sending.
        for (int i = 1; i <= 3; i++)
        {
            session.Send("m" + i);
        }
        await ws.SendTextAsync("5");
        session.Send("m4");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4m1"));
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4m2"));
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4m3"));
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4m4"));
        Assert.That(session.Transport, Is.EqualTo(TransportKind.WebSocket));
        await ws.SendTextAsync("4over ws");
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:over ws"));
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4over ws"));
        // Polling on the upgraded sid is refused; the session lives on.
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.BadRequest, Code3)));
        Assert.That(await h.Raw.PostTextAsync(h.Poll(eio, sid), Frame(eio, "4x")), Is.EqualTo((HttpStatusCode.BadRequest, Code3)));
        Assert.That(session.IsOpen, Is.True);
        h.Host.AssertNoErrors();
    }

    /// <summary>
    /// The published case "ignores HTTP requests with same sid after upgrade": the client sends <c>2probe</c>,
    /// <c>5</c> and at once a GET on another connection. Here the bad order is forced — the GET is processed (and
    /// waits) before the probe, or after the probe but before <c>5</c> — and the answer is the same 400 as when
    /// the GET comes after the upgrade.
    /// </summary>
    [TestCase(3, true)]
    [TestCase(4, true)]
    [TestCase(3, false)]
    [TestCase(4, false)]
    public async Task AGetRacingTheUpgradeGetsThe400OfAGetAfterIt(int eio, bool getBeforeProbe)
    {
        await using var h = await EngineHarness.StartAsync();
        for (int round = 0; round < 10; round++)
        {
            var (sid, _) = await h.Raw.HandshakeAsync(eio);
            var session = h.Session(sid);
            using var ws = await h.Raw.ConnectWebSocketAsync(eio, sid);
            Task<(HttpStatusCode, string)>? get = null;
            if (getBeforeProbe)
            {
                get = h.Raw.GetTextAsync(h.Poll(eio, sid));
                await Eventually.UntilAsync(() => session.HasPendingPoll, TaskTimeouts.Default, "the poll waits");
            }
            await ws.SendTextAsync("2probe");
            Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3probe"));
            if (!getBeforeProbe)
            {
                get = h.Raw.GetTextAsync(h.Poll(eio, sid));
                await Eventually.UntilAsync(() => session.HasPendingPoll, TaskTimeouts.Default, "the poll waits");
            }
            await ws.SendTextAsync("5");
            Assert.That(await get!.Within(), Is.EqualTo((HttpStatusCode.BadRequest, Code3)), $"round {round}");
            await ws.SendTextAsync("4hello");
            Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4hello"), "the echo, over the upgraded WebSocket");
            Assert.That(session.Transport, Is.EqualTo(TransportKind.WebSocket));
        }
        h.Host.AssertNoErrors();
    }

    /// <summary>A client that waits for its poll before sending <c>5</c> (every real one) gets the noop after the grace.</summary>
    [TestCase(3)]
    [TestCase(4)]
    public async Task APollWaitingAtTheProbeGetsItsNoopWithinTheGrace(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var session = h.Session(sid);
        using var ws = await h.Raw.ConnectWebSocketAsync(eio, sid);
        await ws.SendTextAsync("2probe");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3probe"));
        // A GET sent before the client saw 3probe, arriving after it: answered with a noop, the upgrade still open.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(await h.Raw.GetTextAsync(h.Poll(eio, sid)), Is.EqualTo((HttpStatusCode.OK, Frame(eio, "6"))));
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(EngineIoSession.UpgradePollGrace - TimeSpan.FromMilliseconds(20)));
        await ws.SendTextAsync("5");
        await Eventually.UntilAsync(() => session.Transport == TransportKind.WebSocket, TaskTimeouts.Default, "the upgrade completes");
        h.Host.AssertNoErrors();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task PacketsSentAroundTheUpgradeArriveExactlyOnceInOrderAcrossBothTransports(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var session = h.Session(sid);
        var received = new List<string>();
        int next = 0;
        void SendSome(int n)
        {
            for (int i = 0; i < n; i++)
            {
                session.Send("m" + next++);
            }
        }

        static IEnumerable<string> Split(int eio, string payload)
        {
            if (eio == 4)
            {
                return payload.Split('\u001e');
            }
            var list = new List<string>();
            for (int i = 0; i < payload.Length;)
            {
                int colon = payload.IndexOf(':', i);
                int len = int.Parse(payload[i..colon], System.Globalization.CultureInfo.InvariantCulture);
                list.Add(payload.Substring(colon + 1, len));
                i = colon + 1 + len;
            }
            return list;
        }

        SendSome(5);
        received.AddRange(Split(eio, (await h.Raw.GetTextAsync(h.Poll(eio, sid))).Body));
        using var ws = await h.Raw.ConnectWebSocketAsync(eio, sid);
        SendSome(5);
        await ws.SendTextAsync("2probe");
        SendSome(5);
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3probe"));
        SendSome(5);
        // A client still polling during the upgrade gets what is queued (or a noop when nothing is).
        received.AddRange(Split(eio, (await h.Raw.GetTextAsync(h.Poll(eio, sid))).Body).Where(p => p != "6"));
        SendSome(5);
        await ws.SendTextAsync("5");
        SendSome(5);
        while (received.Count(p => p.StartsWith('4')) < next)
        {
            received.Add(await ws.ReceiveTextAsync());
        }
        Assert.That(received.Where(p => p.StartsWith('4')), Is.EqualTo(Enumerable.Range(0, next).Select(i => "4m" + i)));
        session.Send("last");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4last"), "nothing doubled is still on its way");
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AStalledProbeIsClosedAfterUpgradeTimeoutAndPollingGoesOn(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var session = h.Session(sid);
        using var ws = await h.Raw.ConnectWebSocketAsync(eio, sid);
        await ws.SendTextAsync("2probe");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3probe"));
        h.Time.Advance(h.Engine.Options.UpgradeTimeout - TimeSpan.FromMilliseconds(1));
        var stillUpgrading = await h.Raw.GetTextAsync(h.Poll(eio, sid));
        Assert.That(stillUpgrading, Is.EqualTo((HttpStatusCode.OK, Frame(eio, "6"))), "just before the timeout the upgrade is still on");
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(await IsClosedOrAbortedAsync(ws), Is.True);
        Assert.That(session.IsOpen, Is.True);
        Assert.That(session.Transport, Is.EqualTo(TransportKind.Polling));
        // Polling waits again (no more noops) and works both ways.
        var poll = h.Raw.GetTextAsync(h.Poll(eio, sid));
        Assert.That(await h.Raw.PostTextAsync(h.Poll(eio, sid), Frame(eio, "4after")), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:after"));
        Assert.That(await poll.Within(), Is.EqualTo((HttpStatusCode.OK, Frame(eio, "4after"))));
        Assert.That(h.Handler.Closed, Is.Empty);
    }

    [Test]
    public async Task AProbeThatNeverSpeaksIsClosedAfterUpgradeTimeout()
    {
        await using var h = await EngineHarness.StartAsync(o => o.WithUpgradeTimeout(500));
        var (sid, _) = await h.Raw.HandshakeAsync(4);
        using var ws = await h.Raw.ConnectWebSocketAsync(4, sid);
        await Eventually.UntilAsync(() => h.Session(sid).HasProbe, TaskTimeouts.Default, "the probe arrived");
        h.Time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.That(await IsClosedOrAbortedAsync(ws), Is.True);
        Assert.That(h.IsOpen(sid), Is.True);
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AWebSocketForAnUpgradedSessionIsClosedAndTheFirstGoesOn(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        using var ws = await h.Raw.ConnectWebSocketAsync(eio, sid);
        await ws.SendTextAsync("2probe");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3probe"));
        await ws.SendTextAsync("5");
        await Eventually.UntilAsync(() => h.Session(sid).Transport == TransportKind.WebSocket, TaskTimeouts.Default, "upgraded");
        using var second = await h.Raw.ConnectWebSocketAsync(eio, sid);
        var (type, _) = await second.ReceiveMessageAsync();
        Assert.That(type, Is.EqualTo(WebSocketMessageType.Close), "accepted, then closed with a close frame");
        await ws.SendTextAsync("4hello");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4hello"));
        Assert.That(h.Handler.Closed, Is.Empty);
    }

    [Test]
    public async Task ASecondProbeWhileOneIsInFlightIsClosed()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(4);
        using var first = await h.Raw.ConnectWebSocketAsync(4, sid);
        await first.SendTextAsync("2probe");
        Assert.That(await first.ReceiveTextAsync(), Is.EqualTo("3probe"));
        using var second = await h.Raw.ConnectWebSocketAsync(4, sid);
        var (type, _) = await second.ReceiveMessageAsync();
        Assert.That(type, Is.EqualTo(WebSocketMessageType.Close));
        await first.SendTextAsync("5");
        h.Session(sid).Send("through the first");
        Assert.That(await first.ReceiveTextAsync(), Is.EqualTo("4through the first"));
    }

    [Test]
    public async Task WithUpgradesOffTheHandshakeOffersNoneAndAProbeIsClosed()
    {
        await using var h = await EngineHarness.StartAsync(o => o.AllowUpgrades = false);
        var (sid, body) = await h.Raw.HandshakeAsync(4);
        Assert.That(body, Does.Contain("\"upgrades\":[]"));
        using var ws = await h.Raw.ConnectWebSocketAsync(4, sid);
        var (type, _) = await ws.ReceiveMessageAsync();
        Assert.That(type, Is.EqualTo(WebSocketMessageType.Close));
        Assert.That(h.Session(sid).Transport, Is.EqualTo(TransportKind.Polling));
        Assert.That(h.IsOpen(sid), Is.True);
    }

    [Test]
    public async Task UpgradeWithoutProbeIsRefused()
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(4);
        using var ws = await h.Raw.ConnectWebSocketAsync(4, sid);
        await ws.SendTextAsync("5");
        Assert.That(await IsClosedOrAbortedAsync(ws), Is.True);
        Assert.That(h.Session(sid).Transport, Is.EqualTo(TransportKind.Polling));
        Assert.That(h.IsOpen(sid), Is.True, "a bad probe closes only the probe");
    }
}
