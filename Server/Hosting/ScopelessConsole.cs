using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace SocketIoSignal.Hosting;

/// <summary>
/// The console logger without log scopes, unless the configuration asks for them to be printed. While a provider
/// takes the factory's scopes, every <c>BeginScope</c> pushes one into the async context, and Kestrel opens one per
/// connection that lives as long as the connection: for a server of idle WebSockets that is memory per connection
/// for text the console formatter does not print by default.
/// </summary>
internal static class ScopelessConsole
{
    public static void Apply(IServiceCollection services, IConfiguration configuration)
    {
        var console = configuration.GetSection("Logging:Console");
        if (console.GetValue<bool>("FormatterOptions:IncludeScopes") || console.GetValue<bool>("IncludeScopes"))
        {
            return;
        }
        for (int i = 0; i < services.Count; i++)
        {
            if (services[i].ServiceType == typeof(ILoggerProvider) && services[i].ImplementationType == typeof(ConsoleLoggerProvider))
            {
                services[i] = ServiceDescriptor.Singleton<ILoggerProvider>(sp => new Provider(ActivatorUtilities.CreateInstance<ConsoleLoggerProvider>(sp)));
            }
        }
    }

    /// <summary>The console provider as it is, minus <see cref="ISupportExternalScope"/>: its loggers get no scopes.</summary>
    [ProviderAlias("Console")]
    private sealed class Provider(ConsoleLoggerProvider console) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => console.CreateLogger(categoryName);

        public void Dispose() => console.Dispose();
    }
}
