using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Adapter.Redis;

namespace SocketIoSignal.Hosting;

/// <summary>Scale-out: rooms in Redis (<c>--redis host:port</c>) and the <c>/healthz</c> probe.</summary>
public static class ScaleOut
{
    /// <summary>
    /// Replaces the in-memory rooms with the Redis cluster adapter. <paramref name="redis"/> (the <c>--redis</c>
    /// value) is used unless <c>Redis:Configuration</c> says otherwise.
    /// </summary>
    public static IServiceCollection AddRedisRooms(this IServiceCollection services, IConfiguration configuration, string redis)
    {
        services.Configure<RedisOptions>(configuration.GetSection(RedisOptions.Section));
        services.PostConfigure<RedisOptions>(o =>
        {
            if (string.IsNullOrWhiteSpace(o.Configuration))
            {
                o.Configuration = redis;
            }
        });
        services.TryAddSingleton<RedisCluster>();
        services.Replace(ServiceDescriptor.Singleton<IRoomAdapterFactory>(sp => sp.GetRequiredService<RedisCluster>()));
        services.AddHostedService(sp => new ClusterLifetime(sp.GetRequiredService<RedisCluster>()));
        return services;
    }

    /// <summary>
    /// <c>GET /healthz</c>: 200 <c>ok</c> when the node can serve — with Redis configured, when Redis answers and
    /// this node's heartbeat is current; 503 otherwise, so a load balancer stops sending clients here.
    /// </summary>
    public static void UseHealthz(this WebApplication app)
    {
        var cluster = app.Services.GetService<RedisCluster>();
        // Not async on the way through: an async middleware keeps its state machine for as long as the request
        // below it runs, which for a WebSocket is the whole connection.
        app.Use((context, next) => context.Request.Path != "/healthz" ? next(context) : HealthzAsync(context, cluster));
    }

    private static async Task HealthzAsync(HttpContext context, RedisCluster? cluster)
    {
        {
            bool ready = cluster is null || await cluster.IsReadyAsync(TimeSpan.FromSeconds(1));
            context.Response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "text/plain";
            context.Response.Headers.CacheControl = "no-store";
            await context.Response.WriteAsync(ready ? "ok" : "redis unreachable");
        }
    }

    /// <summary>Starts the cluster before Kestrel listens (subscribed, first heartbeat sent).</summary>
    private sealed class ClusterLifetime(RedisCluster cluster) : Microsoft.Extensions.Hosting.IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => cluster.StartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => cluster.StopAsync(cancellationToken);
    }
}
