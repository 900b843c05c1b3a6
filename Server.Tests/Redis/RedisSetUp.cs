using NUnit.Framework;

namespace SocketIoSignal.Tests.Redis;

/// <summary>One redis-server for every test of this namespace.</summary>
[SetUpFixture]
public sealed class RedisSetUp
{
    private static RedisProcess? s_redis;
    private static Task<RedisClusterProcess>? s_cluster;
    private static readonly Lock s_clusterGate = new();

    public static RedisProcess Redis => s_redis ?? throw new InvalidOperationException("redis-server not started");

    /// <summary>The three-master Redis Cluster, started by the first test that asks for it and shared by all.</summary>
    public static Task<RedisClusterProcess> ClusterAsync()
    {
        lock (s_clusterGate)
        {
            if (s_cluster is null || s_cluster.IsFaulted || s_cluster.IsCanceled)
            {
                s_cluster = RedisClusterProcess.StartAsync();
            }
            return s_cluster;
        }
    }

    [OneTimeSetUp]
    public async Task StartAsync() => s_redis = await RedisProcess.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (s_redis is not null)
        {
            await s_redis.DisposeAsync();
        }
        if (s_cluster is { IsCompletedSuccessfully: true })
        {
            await (await s_cluster).DisposeAsync();
        }
    }

    /// <summary>A key prefix of one's own, so tests do not see each other's rooms.</summary>
    public static string UniquePrefix() => "t" + Guid.NewGuid().ToString("N")[..12];
}
