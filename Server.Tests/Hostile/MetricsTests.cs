using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>The server's System.Diagnostics.Metrics instruments, read with a MeterListener.</summary>
[TestFixture]
[Parallelizable(ParallelScope.None)]
public sealed class MetricsTests
{
    [Test]
    public async Task CountersForSessionsSocketsRoomsPacketsBytesDropsAndErrors()
    {
        await using var h = await HostileServer.StartAsync("--SocketIo:MaxEventsPerSecond=20", "--SocketIo:RateLimitDisconnectAfter=0", "--EngineIo:MaxQueuedBytes=100000");
        string node = h.Server.Get<NodeIdentity>().Id;
        var sums = new ConcurrentDictionary<string, long>();
        var gauges = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name is EngineIoMetrics.MeterName or SocketIoMetrics.MeterName
                && instrument.Meter.Tags?.Any(t => t.Key == "node" && (string?)t.Value == node) == true)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "reason")
                {
                    reason = tag.Value as string;
                }
            }
            string key = reason is null ? instrument.Name : $"{instrument.Name}[{reason}]";
            if (instrument is ObservableGauge<long>)
            {
                gauges[key] = value;
            }
            else
            {
                sums.AddOrUpdate(key, value, (_, v) => v + value);
            }
        });
        listener.Start();

        var client = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 4, "/");
        await using (client)
        {
            await client.SendAsync("2[\"create or join\",\"metrics\"]");
            // Past 40 packets at once (burst = 2 × 20): the rest are dropped as rate-limited.
            for (int i = 0; i < 100; i++)
            {
                await client.SendAsync("2[\"bye\"]");
            }
            await Eventually.UntilAsync(() => sums.GetValueOrDefault("socketio.packets.dropped[rate-limited]") > 0, TaskTimeouts.Default, "rate-limited drops counted");
            listener.RecordObservableInstruments();
            Assert.That(gauges.GetValueOrDefault("socketio.rooms"), Is.GreaterThanOrEqualTo(5), "canary room + metrics room + socket rooms");
            Assert.That(gauges.ContainsKey("engineio.timers.live") && gauges.ContainsKey("socketio.timers.live") && gauges.ContainsKey("engineio.queued.bytes"), Is.True);
            Assert.That(sums.GetValueOrDefault("engineio.sessions.active"), Is.EqualTo(1));
            Assert.That(sums.GetValueOrDefault("socketio.sockets.connected"), Is.EqualTo(1));
            Assert.That(sums.GetValueOrDefault("engineio.bytes.in"), Is.GreaterThan(100 * 8));
            Assert.That(sums.GetValueOrDefault("engineio.packets.in"), Is.GreaterThanOrEqualTo(100));
            Assert.That(sums.GetValueOrDefault("socketio.packets.in"), Is.GreaterThanOrEqualTo(100));
        }
        // A send past MaxQueuedBytes: the packet is dropped (send-buffer-full) and the session with it.
        var victim = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 4, "/");
        await using (victim)
        {
            Assert.That(h.Engine.TryGetSession(victim.Sid, out var session), Is.True);
            session!.Send(new string('x', 200_000));
            await victim.ExpectClosedAsync();
        }
        // A protocol error, by reason.
        var bad = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 4, "/");
        await using (bad)
        {
            await bad.SendRawAsync("9");
            await bad.ExpectClosedAsync();
        }
        await Eventually.UntilAsync(() => sums.GetValueOrDefault("engineio.sessions.active") == 0, TaskTimeouts.Default, "sessions active back to 0");
        Assert.That(sums.GetValueOrDefault("engineio.packets.dropped[send-buffer-full]"), Is.GreaterThan(0));
        Assert.That(sums.Keys.Any(k => k.StartsWith("engineio.protocol.errors[", StringComparison.Ordinal)), Is.True, string.Join(",", sums.Keys));
        Assert.That(sums.GetValueOrDefault("socketio.sockets.connected"), Is.EqualTo(0));
        await h.FinishAsync();
    }
}
