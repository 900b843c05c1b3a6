using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Adapter.Redis;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis;

/// <summary>Cluster nodes in this process, each with its own connection, uid and recorded deliveries.</summary>
public static class RedisTestNodes
{
    private static readonly IMeterFactory Meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    public static async Task<RedisCluster> StartAsync(string prefix, int heartbeatMs = 2000, int nodeTimeoutMs = 6000)
    {
        var options = Options.Create(new RedisOptions
        {
            Configuration = RedisSetUp.Redis.Address,
            KeyPrefix = prefix,
            HeartbeatInterval = heartbeatMs,
            NodeTimeout = nodeTimeoutMs,
        });
        var cluster = new RedisCluster(options, NodeIdentity.CreateRandom(), TimeProvider.System, NullLogger<RedisCluster>.Instance, Meters);
        await cluster.StartAsync(CancellationToken.None).Within();
        return cluster;
    }
}

/// <summary>Records what an adapter delivers to the sockets of its node.</summary>
public sealed class RecordingDelivery : ILocalDelivery
{
    private readonly ConcurrentQueue<(string Id, string Text)> _delivered = new();
    private readonly SemaphoreSlim _signal = new(0);

    public ConcurrentDictionary<string, bool> Sockets { get; } = new();

    public IEnumerable<string> LocalSocketIds => Sockets.Keys;

    public void Deliver(IEnumerable<string> socketIds, EncodedPacket packet)
    {
        foreach (var id in socketIds)
        {
            _delivered.Enqueue((id, packet.Text));
        }
        _signal.Release();
    }

    /// <summary>The sockets that got a packet whose text contains <paramref name="marker"/>.</summary>
    public string[] Receivers(string marker) =>
        [.. _delivered.Where(d => d.Text.Contains(marker, StringComparison.Ordinal)).Select(d => d.Id).Order(StringComparer.Ordinal)];

    /// <summary>Waits until some socket got a packet containing <paramref name="marker"/>.</summary>
    public async Task WaitForAsync(string marker)
    {
        using var cts = new CancellationTokenSource(TaskTimeouts.Default);
        while (!_delivered.Any(d => d.Text.Contains(marker, StringComparison.Ordinal)))
        {
            try
            {
                await _signal.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"nothing containing {marker} was delivered");
            }
        }
    }
}
