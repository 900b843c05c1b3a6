using SocketIoSignal.AspNetCore;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configuration of the server beyond its <see cref="SocketIoOptions"/>.</summary>
public static class SocketIoBuilderExtensions
{
    /// <summary>Sets Engine.IO options (heartbeat, limits, CORS) in code, after the <c>EngineIo</c> section is bound.</summary>
    /// <param name="builder">The builder <c>AddSocketIo</c> returned.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same builder.</returns>
    public static ISocketIoBuilder ConfigureEngineIo(this ISocketIoBuilder builder, Action<EngineIoOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Handles the sockets of namespace <paramref name="namespaceName"/> with <typeparamref name="THandler"/>, made
    /// by dependency injection once per connection in a scope that lives as long as the socket.
    /// </summary>
    /// <typeparam name="THandler">The handler class; its constructor takes any registered services.</typeparam>
    /// <param name="builder">The builder <c>AddSocketIo</c> returned.</param>
    /// <param name="namespaceName">The namespace, <c>/</c> by default.</param>
    /// <returns>The same builder.</returns>
    public static ISocketIoBuilder AddConnectionHandler<THandler>(this ISocketIoBuilder builder, string namespaceName = "/")
        where THandler : class, ISocketIoConnectionHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(namespaceName);
        builder.Services.AddSingleton(new ConnectionHandlerRegistration(namespaceName, typeof(THandler)));
        return builder;
    }
}
