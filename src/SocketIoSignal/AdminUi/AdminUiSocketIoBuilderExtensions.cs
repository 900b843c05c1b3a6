using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SocketIoSignal.AdminUi;
using SocketIoSignal.AspNetCore;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Adapter;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary><c>AddSocketIo().AddAdminUi(o => …)</c>: the server side of the Socket.IO Admin UI.</summary>
public static class AdminUiSocketIoBuilderExtensions
{
    /// <summary>
    /// Adds the server side of the Socket.IO Admin UI (<c>@socket.io/admin-ui</c> 0.5.x), as Node's
    /// <c>instrument(io, options)</c>: a namespace (<c>/admin</c>) that the official UI connects to, to see this
    /// server's statistics, namespaces, sockets, rooms, clients and events, and to make sockets join or leave rooms
    /// or disconnect. A login is required: set <see cref="AdminUiOptions.Username"/> and
    /// <see cref="AdminUiOptions.Password"/>, or explicitly <see cref="AdminUiOptions.AllowAnonymous"/>. Options are
    /// bound from the <c>AdminUi</c> configuration section when the application has a configuration, then
    /// <paramref name="configure"/> runs; they are validated when the application starts. The UI's files are not
    /// served by this call (see docs/admin-ui.md).
    /// </summary>
    /// <param name="builder">The builder <c>AddSocketIo</c> returned.</param>
    /// <param name="configure">Sets the options in code, e.g. <c>o.Username = "admin"; o.Password = secret;</c>.</param>
    /// <returns>The same builder.</returns>
    public static ISocketIoBuilder AddAdminUi(this ISocketIoBuilder builder, Action<AdminUiOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<AdminUiOptions>()
            .Configure<IServiceProvider>((o, sp) => OptionsBinding.BindSection(sp, AdminUiOptions.Section, o))
            .ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }
        if (services.Any(d => d.ServiceType == typeof(AdminUiInstrumentation)))
        {
            return builder;
        }
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdminUiOptions>, AdminUiOptionsValidation>());
        services.AddSingleton<RoomEvents>();
        // The server's adapters report room changes, whichever adapter factory is registered (AddRedis may come later):
        // the server is made with the registered factory wrapped.
        services.Replace(ServiceDescriptor.Singleton(sp => SocketIoServer.Create(sp, new ObservedRoomAdapterFactory(sp.GetRequiredService<IRoomAdapterFactory>(), sp.GetRequiredService<RoomEvents>()))));
        services.AddSingleton<AdminUiInstrumentation>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<AdminUiInstrumentation>());
        return builder;
    }
}
