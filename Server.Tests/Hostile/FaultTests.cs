using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>Faults: TCP resets mid-request, graceful shutdown on SIGTERM, a listener restart with clients coming back.</summary>
[TestFixture]
[Parallelizable(ParallelScope.None)]
public sealed class FaultTests
{
    [Test]
    public async Task ConnectionResetMidPollMidUpgradeMidMessage()
    {
        await using var h = await HostileServer.StartAsync();
        foreach (int eio in new[] { 3, 4 })
        {
            // Mid-poll: a GET waiting for packets, then RST.
            var (sid, _) = await h.Raw.HandshakeAsync(eio);
            var poll = await RawTcp.ConnectAsync(h.Port);
            await poll.SendAsync($"GET {h.Raw.Query(eio, "polling", sid)} HTTP/1.1\r\nHost: x\r\n\r\n");
            await Eventually.UntilAsync(() => h.Engine.TryGetSession(sid, out var s) && s!.HasPendingPoll, TaskTimeouts.Default, "GET waiting");
            poll.Reset();
            await Eventually.UntilAsync(() => !h.Engine.TryGetSession(sid, out _), TaskTimeouts.Default, "mid-poll reset closes the session");

            // Mid-upgrade: the probe's connection is reset after 2probe/3probe; the polling session goes on.
            (sid, _) = await h.Raw.HandshakeAsync(eio);
            var probe = await RawTcp.ConnectAsync(h.Port);
            Assert.That(await probe.UpgradeAsync(h.Raw.Query(eio, "websocket", sid)), Is.EqualTo(101));
            await probe.SendFrameAsync(1, "2probe"u8.ToArray());
            await probe.ReadUntilAsync("3probe");
            probe.Reset();
            await Eventually.UntilAsync(() => h.Engine.TryGetSession(sid, out var s) && !s!.HasProbe, TaskTimeouts.Default, "probe gone");
            Assert.That(h.Engine.TryGetSession(sid, out var alive) && alive!.IsOpen, Is.True, "polling survives a reset probe");

            // Mid-message: a WebSocket frame announced at 1000 bytes, 10 sent, then RST.
            var ws = await RawTcp.ConnectAsync(h.Port);
            Assert.That(await ws.UpgradeAsync(h.Raw.Query(eio, "websocket")), Is.EqualTo(101));
            string wsSid = System.Text.RegularExpressions.Regex.Match(await ws.ReadUntilAsync("}"), "\"sid\":\"([^\"]+)\"").Groups[1].Value;
            await ws.SendAsync([0x81, 0x80 | 126, 0x03, 0xe8, 1, 2, 3, 4, .. Encoding.ASCII.GetBytes("4abcdefghi")]);
            ws.Reset();
            await Eventually.UntilAsync(() => !h.Engine.TryGetSession(wsSid, out _), TaskTimeouts.Default, "mid-message reset closes the session");
        }
        // The canary's two sessions and the two polling sessions that survived their reset probes.
        await Eventually.UntilAsync(() => h.Counters().Sessions == 4, TaskTimeouts.Default, "the reset sessions are gone");
        await h.FinishAsync();
    }

    /// <summary>
    /// A POST reset after half its body: the session closes and nothing is logged as an error (the server aborts
    /// the connection, so Kestrel does not try to drain a body whose read already failed).
    /// </summary>
    [Test]
    public async Task ConnectionResetMidPost()
    {
        await using var h = await HostileServer.StartAsync();
        foreach (int eio in new[] { 3, 4 })
        {
            string sid;
            // Mid-POST: half a body, then RST.
            var (s0, _) = await h.Raw.HandshakeAsync(eio);
            sid = s0;
            var post = await RawTcp.ConnectAsync(h.Port);
            await post.SendAsync($"POST {h.Raw.Query(eio, "polling", sid)} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n4abc");
            await Eventually.UntilAsync(() => h.Engine.TryGetSession(sid, out var s) && s!.IsPostActive, TaskTimeouts.Default, "POST reading");
            post.Reset();
            await Eventually.UntilAsync(() => !h.Engine.TryGetSession(sid, out _), TaskTimeouts.Default, "mid-POST reset closes the session");

        }
        await h.FinishAsync();
    }

    [Test]
    public async Task SigtermClosesEverySessionWithAClosePacketAndExits()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "SocketIoSignal.Server.dll");
        await using var process = ChildProcess.Start("dotnet", [dll, "--port", "0", "--host", "127.0.0.1"]);
        var line = await process.ReadLineAsync(TimeSpan.FromSeconds(30));
        int port = int.Parse(System.Text.RegularExpressions.Regex.Match(line ?? "", @"localhost:(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        using var raw = new EngineIoRaw(new Uri($"http://127.0.0.1:{port}"));
        var polls = new List<(int Eio, Task<(HttpStatusCode, string)> Get)>();
        foreach (int eio in new[] { 3, 4 })
        {
            var (sid, body) = await raw.HandshakeAsync(eio);
            if (eio == 3 && !body.Contains("40", StringComparison.Ordinal))
            {
                await raw.GetTextAsync(raw.Query(eio, "polling", sid));
            }
            var get = raw.GetTextAsync(raw.Query(eio, "polling", sid));
            polls.Add((eio, get));
        }
        var sockets = new List<ClientWebSocket>();
        foreach (int eio in new[] { 3, 4 })
        {
            var ws = await raw.ConnectWebSocketAsync(eio);
            await ws.ReceiveMessageAsync();
            if (eio == 3)
            {
                await ws.ReceiveMessageAsync();
            }
            sockets.Add(ws);
        }
        // Let the GETs arrive and wait (no event announces it from outside the process).
        await Task.Delay(300);
        var stopwatch = Stopwatch.StartNew();
        await process.TerminateAsync();
        foreach (var (eio, get) in polls)
        {
            var (status, body) = await get.Within();
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(body, Is.EqualTo(eio == 4 ? "1" : "1:1"), $"EIO {eio} pending GET gets the close packet");
        }
        foreach (var ws in sockets)
        {
            var (type, data) = await ws.ReceiveMessageAsync();
            Assert.That(type == WebSocketMessageType.Close || Encoding.UTF8.GetString(data) == "1", Is.True, "a close packet or frame");
            ws.Dispose();
        }
        await process.WaitForExitAsync(TimeSpan.FromSeconds(5));
        Assert.That(stopwatch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "exits within the bound");
        Assert.That(string.Join("\n", process.Errors), Does.Not.Contain("Unhandled").And.Not.Contain("fail:"));
    }

    [Test]
    public async Task ListenerRestartClientsReconnect()
    {
        var first = await HostileServer.StartAsync();
        int port = first.Port;
        var clients = new List<RawSocketIoClient>();
        foreach (int eio in new[] { 3, 4, 3, 4 })
        {
            clients.Add(await RawSocketIoClient.ConnectAsync(first.Server.BaseUri, eio, "/"));
        }
        await first.FinishAsync();
        await first.DisposeAsync();
        foreach (var c in clients)
        {
            // The stopping server said goodbye with a close packet.
            await c.ExpectClosedAsync();
            await c.DisposeAsync();
        }
        // A new listener on the same port (later arguments win); the clients come back and talk.
        await using var second = await HostileServer.StartAsync("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(second.Port, Is.EqualTo(port));
        var a = await RawSocketIoClient.ConnectAsync(second.Server.BaseUri, 3, "/");
        var b = await RawSocketIoClient.ConnectAsync(second.Server.BaseUri, 4, "/");
        await using (a)
        await using (b)
        {
            // One after the other: whoever asks first creates the room.
            await a.SendAsync("2[\"create or join\",\"back\"]");
            while (!(await a.NextTextAsync()).Contains("\"created\"", StringComparison.Ordinal))
            {
            }
            await b.SendAsync("2[\"create or join\",\"back\"]");
            while (!(await b.NextTextAsync()).Contains("\"joined\"", StringComparison.Ordinal))
            {
            }
            await a.SendAsync("2[\"message\",\"hello again\"]");
            while (!(await b.NextTextAsync()).Contains("hello again", StringComparison.Ordinal))
            {
            }
        }
        await second.FinishAsync();
    }
}
