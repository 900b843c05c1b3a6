using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>The documented limits (README "Limits and security"): each one holds, and its offender alone suffers.</summary>
[TestFixture]
[Parallelizable(ParallelScope.None)]
public sealed class LimitsTests
{
    [Test]
    public async Task HandshakesPerIpPerMinute()
    {
        await using var h = await HostileServer.StartAsync("--EngineIo:HandshakesPerIpPerMinute=20", "--EngineIo:HandshakeRateExemptLoopback=false");
        int ok = 0;
        var refused = new List<string>();
        foreach (int eio in Enumerable.Range(0, 30).Select(i => i % 2 == 0 ? 3 : 4))
        {
            var (status, body) = await h.Raw.GetTextAsync(h.Raw.Query(eio, "polling"));
            if (status == HttpStatusCode.OK)
            {
                ok++;
            }
            else
            {
                Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden));
                refused.Add(body);
            }
        }
        // 20 in the bucket, 2 taken by the canary (a token may have come back meanwhile).
        Assert.That(ok, Is.InRange(18, 19));
        Assert.That(refused, Has.All.Contains("\"code\":4"));
        await h.FinishAsync();
    }

    [Test]
    public async Task LoopbackIsExemptByDefault()
    {
        await using var h = await HostileServer.StartAsync("--EngineIo:HandshakesPerIpPerMinute=5");
        for (int i = 0; i < 20; i++)
        {
            await h.Raw.HandshakeAsync(i % 2 == 0 ? 3 : 4);
        }
        await h.FinishAsync();
    }

    [Test]
    public async Task MaxSessions()
    {
        await using var h = await HostileServer.StartAsync("--EngineIo:MaxSessions=5");
        for (int i = 0; i < 3; i++)
        {
            await h.Raw.HandshakeAsync(i % 2 == 0 ? 3 : 4);
        }
        foreach (int eio in new[] { 3, 4 })
        {
            var (status, body) = await h.Raw.GetTextAsync(h.Raw.Query(eio, "polling"));
            Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(body, Does.Contain("\"code\":4"));
            await using var tcp = await RawTcp.ConnectAsync(h.Port);
            Assert.That(await tcp.UpgradeAsync($"/socket.io/?EIO={eio}&transport=websocket"), Is.EqualTo(403));
        }
        await h.FinishAsync();
    }

    [Test]
    public async Task EventRatePerConnection()
    {
        await using var h = await HostileServer.StartAsync("--SocketIo:MaxEventsPerSecond=200", "--SocketIo:RateLimitDisconnectAfter=1000");
        var io = h.Server.Get<SocketIoServer>();
        foreach (int eio in new[] { 3, 4 })
        {
            long droppedBefore = io.Metrics.DroppedPackets;
            var flooder = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, eio, "/");
            await using (flooder)
            {
                var started = DateTime.UtcNow;
                // Far over 200/s: dropped and counted, then, still over after 1 s, disconnected.
                while (!flooder.Closed && DateTime.UtcNow - started < TimeSpan.FromSeconds(8))
                {
                    try
                    {
                        await flooder.SendAsync("2[\"bye\",\"x\"]");
                    }
                    catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException)
                    {
                        break;
                    }
                    while (flooder.TryTake())
                    {
                    }
                }
                await Eventually.UntilAsync(() => flooder.Closed, TaskTimeouts.Default, "the persistent offender is disconnected");
                Assert.That(DateTime.UtcNow - started, Is.GreaterThan(TimeSpan.FromSeconds(0.9)), "not before RateLimitDisconnectAfter");
            }
            Assert.That(io.Metrics.DroppedPackets, Is.GreaterThan(droppedBefore), "drops counted");
        }
        await h.FinishAsync();
    }

    [Test]
    public async Task RoomNameLength()
    {
        await using var h = await HostileServer.StartAsync();
        foreach (int eio in new[] { 3, 4 })
        {
            foreach (var (length, expected) in new[] { (1024, "created"), (1025, "full") })
            {
                var c = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, eio, "/");
                await using (c)
                {
                    await c.SendAsync($"2[\"create or join\",\"{new string((char)('a' + eio), length)}\"]");
                    string text;
                    while ((text = await c.NextTextAsync()).Contains("\"log\"", StringComparison.Ordinal))
                    {
                    }
                    Assert.That(text, Does.StartWith($"2[\"{expected}\""), $"{length} characters");
                }
            }
        }
        await h.FinishAsync();
    }

    [Test]
    public async Task KestrelLimitsAreBoundWithSafeDefaults()
    {
        await using (var h = await HostileServer.StartAsync())
        {
            var limits = h.Server.Get<IOptions<KestrelServerOptions>>().Value.Limits;
            Assert.That(limits.MaxConcurrentConnections, Is.EqualTo(120000));
            Assert.That(limits.MaxConcurrentUpgradedConnections, Is.EqualTo(100000));
            Assert.That(limits.MaxRequestHeadersTotalSize, Is.EqualTo(32 * 1024), "Kestrel's header limits kept");
            Assert.That(limits.MinRequestBodyDataRate, Is.Not.Null);
            // A header flood: Kestrel answers 431, the server goes on.
            await using var tcp = await RawTcp.ConnectAsync(h.Port);
            await tcp.SendAsync("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n" +
                string.Concat(Enumerable.Range(0, 200).Select(i => $"X-Flood-{i}: {new string('v', 200)}\r\n")) + "\r\n");
            Assert.That((await tcp.ReadResponseAsync()).Status, Is.EqualTo(431));
            await h.FinishAsync();
        }
        // Configuration overrides them; upgrades past the cap are refused without a 5xx.
        await using (var h = await HostileServer.StartAsync("--Kestrel:Limits:MaxConcurrentUpgradedConnections=3", "--Kestrel:Limits:MaxConcurrentConnections=50"))
        {
            var limits = h.Server.Get<IOptions<KestrelServerOptions>>().Value.Limits;
            Assert.That(limits.MaxConcurrentUpgradedConnections, Is.EqualTo(3));
            Assert.That(limits.MaxConcurrentConnections, Is.EqualTo(50));
            // The canary holds two upgraded connections: one more fits, the next is refused.
            using var third = await h.Raw.ConnectWebSocketAsync(4);
            await using var tcp = await RawTcp.ConnectAsync(h.Port);
            int status = await tcp.UpgradeAsync("/socket.io/?EIO=4&transport=websocket");
            Assert.That(status, Is.InRange(400, 499));
            await h.FinishAsync();
        }
    }
}
