using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.Redis;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis;

/// <summary>Cluster nodes in this process, each with its own connection, uid and recorded deliveries.</summary>
internal static class RedisTestNodes
{
    private static readonly IMeterFactory Meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    public static async Task<RedisCluster> StartAsync(string prefix, int heartbeatMs = 2000, int nodeTimeoutMs = 6000)
    {
        var options = Options.Create(new RedisOptions
        {
            Configuration = RedisSetUp.Redis.Address,
            KeyPrefix = prefix,
            HeartbeatInterval = TimeSpan.FromMilliseconds(heartbeatMs),
            NodeTimeout = TimeSpan.FromMilliseconds(nodeTimeoutMs),
        });
        var cluster = new RedisCluster(options, NodeIdentity.CreateRandom(), TimeProvider.System, NullLogger<RedisCluster>.Instance, Meters);
        await cluster.StartAsync(CancellationToken.None).Within();
        return cluster;
    }
}
