using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Adapter;

namespace SocketIoSignal.Hosting;

/// <summary>AddSocketIo() / UseSocketIo(): the Socket.IO server on its path, and the client bundle beside it.</summary>
public static class SocketIoEndpoint
{
    public static IServiceCollection AddSocketIo(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<EngineIoOptions>(configuration.GetSection(EngineIoOptions.Section));
        services.Configure<SocketIoOptions>(configuration.GetSection(SocketIoOptions.Section));
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(NodeIdentity.CreateRandom());
        services.TryAddSingleton<EngineIoMetrics>();
        services.TryAddSingleton<SocketIoMetrics>();
        services.TryAddSingleton<IRoomAdapterFactory, InMemoryRoomAdapterFactory>();
        services.TryAddSingleton<SocketIoServer>();
        services.TryAddSingleton(sp => new EngineIoServer(
            sp.GetRequiredService<IOptions<EngineIoOptions>>(),
            sp.GetRequiredService<SocketIoServer>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<EngineIoServer>>(),
            sp.GetRequiredService<EngineIoMetrics>()));
        return services;
    }

    /// <summary>Routes the Engine.IO path (and the client bundle under it) to the server.</summary>
    public static void UseSocketIo(this WebApplication app, ClientBundles? bundles)
    {
        var engine = app.Services.GetRequiredService<EngineIoServer>();
        app.UseEngineIo(engine, bundles);
        app.Lifetime.ApplicationStopping.Register(() =>
            engine.ShutdownAsync(TimeSpan.FromMilliseconds(engine.Options.CloseTimeout)).GetAwaiter().GetResult());
    }

    public static void UseEngineIo(this WebApplication app, EngineIoServer engine, ClientBundles? bundles = null)
    {
        string path = engine.Options.Path.TrimEnd('/') + "/";
        app.Use((context, next) =>
        {
            var requestPath = context.Request.Path.Value ?? "";
            if (!requestPath.StartsWith(path, StringComparison.Ordinal) && requestPath != path.TrimEnd('/'))
            {
                return next(context);
            }
            if (bundles is not null && bundles.TryServe(context, out var served))
            {
                return served;
            }
            return engine.HandleAsync(context);
        });
    }
}
