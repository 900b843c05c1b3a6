using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SocketIoSignal.AspNetCore;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Adapter;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary><c>services.AddSocketIo(o => …)</c>: the Socket.IO server's services.</summary>
public static class SocketIoServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Socket.IO server (Engine.IO 3 and 4, Socket.IO protocols 4 and 5) with in-memory rooms. Options are
    /// bound from the configuration sections <c>SocketIo</c> and <c>EngineIo</c> when the application has a
    /// configuration, then <paramref name="configure"/> runs; both are validated when the application starts.
    /// Map the endpoint with <c>app.MapSocketIo()</c>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets Socket.IO options in code, after the configuration is bound.</param>
    /// <returns>A builder to configure the engine, add connection handlers, Redis or the admin UI.</returns>
    public static ISocketIoBuilder AddSocketIo(this IServiceCollection services, Action<SocketIoOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new SocketIoBuilder(services);
        if (services.Any(d => d.ServiceType == typeof(SocketIoMarker)))
        {
            if (configure is not null)
            {
                services.Configure(configure);
            }
            return builder;
        }
        services.AddSingleton<SocketIoMarker>();
        services.AddOptions<EngineIoOptions>()
            .Configure<IServiceProvider>((o, sp) => OptionsBinding.BindSection(sp, EngineIoOptions.Section, o))
            .ValidateOnStart();
        services.AddOptions<SocketIoOptions>()
            .Configure<IServiceProvider>((o, sp) => OptionsBinding.BindSection(sp, SocketIoOptions.Section, o))
            .ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EngineIoOptions>, EngineIoOptionsValidation>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SocketIoOptions>, SocketIoOptionsValidation>());
        services.AddMetrics();
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(NodeIdentity.CreateRandom());
        services.TryAddSingleton<EngineIoMetrics>();
        services.TryAddSingleton<SocketIoMetrics>();
        services.TryAddSingleton<IRoomAdapterFactory, InMemoryRoomAdapterFactory>();
        services.TryAddSingleton(sp => SocketIoServer.Create(sp));
        services.TryAddSingleton<ISocketIoServer>(sp => sp.GetRequiredService<SocketIoServer>());
        services.TryAddSingleton(sp => new EngineIoServer(
            sp.GetRequiredService<IOptions<EngineIoOptions>>(),
            sp.GetRequiredService<SocketIoServer>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<EngineIoServer>>(),
            sp.GetRequiredService<EngineIoMetrics>(),
            sp.GetRequiredService<SocketIoServer>().Engine));
        services.AddHostedService<SocketIoLifetime>();
        return builder;
    }

    /// <summary>Marks that AddSocketIo ran, so a second call only adds its configuration.</summary>
    private sealed class SocketIoMarker;
}
