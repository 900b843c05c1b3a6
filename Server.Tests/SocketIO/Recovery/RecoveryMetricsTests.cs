using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests.Recovery;

/// <summary>What the recovery stores keep, as gauges; and their end at shutdown.</summary>
[TestFixture]
internal sealed class RecoveryMetricsTests
{
    /// <summary>The recovery gauges of one server (its node tag), read on demand.</summary>
    private sealed class Gauges : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, long> _values = new();

        public Gauges(string node)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == SocketIoMetrics.MeterName && instrument.Name.StartsWith("socketio.recovery.", StringComparison.Ordinal)
                    && instrument.Meter.Tags?.Any(t => t.Key == "node" && (string?)t.Value == node) == true)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _values[instrument.Name] = value);
            _listener.Start();
        }

        public (long Sessions, long Packets) Read()
        {
            _values.Clear();
            _listener.RecordObservableInstruments();
            return (_values.GetValueOrDefault("socketio.recovery.sessions", -1), _values.GetValueOrDefault("socketio.recovery.packets", -1));
        }

        public void Dispose() => _listener.Dispose();
    }

    [Test]
    public async Task GaugesCountKeptSessionsAndEventsAndCloseStopsTheStores()
    {
        await using var host = await RecoveryHost.StartAsync();
        using var gauges = new Gauges(host.Server.Get<NodeIdentity>().Id);
        Assert.That(gauges.Read(), Is.EqualTo((0L, 0L)), "nothing kept yet");

        var (client, socket, _) = await host.ConnectAsync();
        socket.Emit("one");
        await client.WaitForAsync("one");
        await host.DropAsync(client);
        host.Namespace.Emit("two");
        host.Namespace.Emit("three");
        Assert.That(host.Store.KeptPackets, Is.EqualTo(3));
        Assert.That(gauges.Read(), Is.EqualTo((1L, 3L)), "one session and three events kept");

        // io.close(): every store stops its sweep timer and lets go of what it kept
        await host.Io.CloseAsync().Within();
        Assert.That(host.Store.IsDisposed, Is.True);
        Assert.That(gauges.Read(), Is.EqualTo((0L, 0L)));
    }

    [Test]
    public async Task HostShutdownStopsTheStores()
    {
        var host = await RecoveryHost.StartAsync();
        var store = host.Store;
        var (client, socket, _) = await host.ConnectAsync();
        socket.Emit("one");
        await client.WaitForAsync("one");
        await client.DisposeAsync();
        await host.DisposeAsync();
        Assert.That(store.IsDisposed, Is.True);
        Assert.That((store.KeptSessions, store.KeptPackets), Is.EqualTo((0, 0)));
    }
}
