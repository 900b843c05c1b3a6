using Microsoft.Extensions.Diagnostics.HealthChecks;
using SocketIoSignal.AspNetCore;
using SocketIoSignal.EngineIO;

namespace Microsoft.Extensions.DependencyInjection
{

/// <summary><c>AddHealthChecks().AddSocketIo()</c>.</summary>
public static class SocketIoHealthChecksBuilderExtensions
{
    /// <summary>
    /// A health check named <c>socketio</c>: healthy while the server accepts connections, unhealthy once it is
    /// shutting down. The Redis package adds its own check of the Redis connection.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddSocketIo(this IHealthChecksBuilder builder, string name = "socketio")
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<SocketIoHealthCheck>(name, HealthStatus.Unhealthy, ["socketio"]);
    }
}
}

namespace SocketIoSignal.AspNetCore
{
    internal sealed class SocketIoHealthCheck(EngineIoServer engine) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(engine.IsShuttingDown
                ? HealthCheckResult.Unhealthy("shutting down")
                : HealthCheckResult.Healthy($"{engine.SessionCount} sessions"));
    }
}
