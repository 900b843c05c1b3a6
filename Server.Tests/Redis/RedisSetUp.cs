using NUnit.Framework;

namespace SocketIoSignal.Tests.Redis;

/// <summary>One redis-server for every test of this namespace.</summary>
[SetUpFixture]
public sealed class RedisSetUp
{
    private static RedisProcess? s_redis;

    public static RedisProcess Redis => s_redis ?? throw new InvalidOperationException("redis-server not started");

    [OneTimeSetUp]
    public async Task StartAsync() => s_redis = await RedisProcess.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (s_redis is not null)
        {
            await s_redis.DisposeAsync();
        }
    }

    /// <summary>A key prefix of one's own, so tests do not see each other's rooms.</summary>
    public static string UniquePrefix() => "t" + Guid.NewGuid().ToString("N")[..12];
}
