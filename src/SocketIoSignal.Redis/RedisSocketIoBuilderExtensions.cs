using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using SocketIoSignal.AspNetCore;
using SocketIoSignal.Redis;
using SocketIoSignal.SocketIO.Adapter;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary><c>AddSocketIo().AddRedis(o => …)</c>: rooms shared through Redis.</summary>
public static class RedisSocketIoBuilderExtensions
{
    /// <summary>
    /// Replaces the in-memory rooms with rooms in Redis, shared by every server process (and Node.js socket.io
    /// process with <c>@socket.io/redis-adapter</c>) on the same Redis. Options are bound from the <c>Redis</c>
    /// configuration section, then <paramref name="configure"/> runs; they are validated at start. The node
    /// connects, subscribes and sends its first heartbeat before the application starts listening.
    /// </summary>
    /// <param name="builder">The builder <c>AddSocketIo</c> returned.</param>
    /// <param name="configure">Sets the options in code, e.g. <c>o.Configuration = "127.0.0.1:6379"</c>.</param>
    /// <returns>The same builder.</returns>
    public static ISocketIoBuilder AddRedis(this ISocketIoBuilder builder, Action<RedisOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<RedisOptions>()
            .Configure<IServiceProvider>((o, sp) => OptionsBinding.BindSection(sp, RedisOptions.Section, o))
            .ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisOptions>, RedisOptionsValidation>());
        services.TryAddSingleton<RedisCluster>();
        services.Replace(ServiceDescriptor.Singleton<IRoomAdapterFactory>(sp => sp.GetRequiredService<RedisCluster>()));
        // Before the Socket.IO lifetime and Kestrel: the node is in the cluster when it starts listening.
        services.Insert(0, ServiceDescriptor.Singleton<Hosting.IHostedService, RedisClusterLifetime>());
        return builder;
    }

    /// <summary>
    /// A health check named <c>redis</c>: healthy when Redis answers a PING and this node's heartbeat is current,
    /// so a load balancer stops sending new clients to a node cut off from the cluster.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddSocketIoRedis(this IHealthChecksBuilder builder, string name = "redis")
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<RedisHealthCheck>(name, HealthStatus.Unhealthy, ["socketio", "redis"]);
    }
}
