using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using SocketIoSignal.AspNetCore;

namespace SocketIoSignal.Redis;

/// <summary>Starts the cluster before Kestrel listens (subscribed, first heartbeat sent); leaves it at stop.</summary>
internal sealed class RedisClusterLifetime(RedisCluster cluster) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => cluster.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => cluster.StopAsync(cancellationToken);
}

/// <summary>Healthy while Redis answers and this node's heartbeat is current.</summary>
internal sealed class RedisHealthCheck(IServiceProvider services) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (services.GetService(typeof(RedisCluster)) is not RedisCluster cluster)
        {
            return HealthCheckResult.Healthy("no Redis configured");
        }
        return await cluster.IsReadyAsync(TimeSpan.FromSeconds(1))
            ? HealthCheckResult.Healthy("redis reachable")
            : HealthCheckResult.Unhealthy("redis unreachable");
    }
}

internal sealed class RedisOptionsValidation : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions o)
    {
        var problems = new OptionsProblems(RedisOptions.Section)
            .Positive(nameof(o.HeartbeatInterval), o.HeartbeatInterval)
            .Check(o.NodeTimeout > o.HeartbeatInterval && o.NodeTimeout <= TimeSpan.FromDays(24), nameof(o.NodeTimeout), o.NodeTimeout, "longer than HeartbeatInterval")
            .Positive(nameof(o.ConnectTimeout), o.ConnectTimeout)
            .Positive(nameof(o.RequestsTimeout), o.RequestsTimeout)
            .Positive(nameof(o.MaxRemoteAckTimeout), o.MaxRemoteAckTimeout)
            .Check(o.MaxPendingRequests > 0, nameof(o.MaxPendingRequests), o.MaxPendingRequests, "a positive count")
            .Check(o.Mode is "classic" or "sharded" or "streams", nameof(o.Mode), o.Mode, "classic, sharded or streams")
            .Check(!string.IsNullOrWhiteSpace(o.Streams.StreamName), "Streams:StreamName", o.Streams.StreamName, "a stream name")
            .Check(o.Streams.StreamCount is > 0 and <= 1024, "Streams:StreamCount", o.Streams.StreamCount, "1 to 1024")
            .Check(!string.IsNullOrWhiteSpace(o.Streams.ChannelPrefix), "Streams:ChannelPrefix", o.Streams.ChannelPrefix, "a channel prefix")
            .Check(o.Streams.MaxLen > 0, "Streams:MaxLen", o.Streams.MaxLen, "a positive count")
            .Check(o.Streams.ReadCount > 0, "Streams:ReadCount", o.Streams.ReadCount, "a positive count")
            .Check(o.Streams.BlockTime > TimeSpan.Zero && o.Streams.BlockTime <= TimeSpan.FromMinutes(10), "Streams:BlockTime", o.Streams.BlockTime, "positive, at most 10 minutes")
            .Check(o.Streams.SessionKeyPrefix is not null, "Streams:SessionKeyPrefix", o.Streams.SessionKeyPrefix ?? "", "a key prefix")
            .Check(o.SubscriptionMode is "static" or "dynamic" or "dynamic-private", nameof(o.SubscriptionMode), o.SubscriptionMode, "static, dynamic or dynamic-private")
            .Check(o.MaxMessageBytes > 0, nameof(o.MaxMessageBytes), o.MaxMessageBytes, "a positive size in bytes")
            .Check(!string.IsNullOrWhiteSpace(o.KeyPrefix) && !o.KeyPrefix.Contains('#'), nameof(o.KeyPrefix), o.KeyPrefix, "a prefix without '#'")
            .Check(IsAddress(o.Configuration, out var why), nameof(o.Configuration), o.Configuration, "a Redis address such as 127.0.0.1:6379" + why);
        return problems.Result();
    }

    private static bool IsAddress(string configuration, out string why)
    {
        why = "";
        if (string.IsNullOrWhiteSpace(configuration))
        {
            return false;
        }
        try
        {
            var parsed = ConfigurationOptions.Parse(configuration);
            if (parsed.EndPoints.Count == 0)
            {
                return false;
            }
            foreach (var endpoint in parsed.EndPoints)
            {
                if (endpoint is System.Net.DnsEndPoint { Port: <= 0 or > 65535 } or System.Net.IPEndPoint { Port: <= 0 or > 65535 })
                {
                    return false;
                }
            }
            return true;
        }
        catch (ArgumentException ex)
        {
            why = " (" + ex.Message + ")";
            return false;
        }
    }
}
