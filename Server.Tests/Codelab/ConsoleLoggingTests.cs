using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using NUnit.Framework;
using SocketIoSignal.Hosting;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>
/// The server's console logger takes no log scopes unless asked to print them: Kestrel's scope per connection would
/// otherwise live in the async context of every idle WebSocket.
/// </summary>
[TestFixture]
internal sealed class ConsoleLoggingTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddConfiguration(configuration.GetSection("Logging")).AddConsole());
        ScopelessConsole.Apply(services, configuration);
        return services.BuildServiceProvider();
    }

    [Test]
    public void WithoutIncludeScopesTheConsoleTakesNoScopes()
    {
        using var provider = Build([]);
        var providers = provider.GetServices<ILoggerProvider>().ToArray();
        Assert.That(providers, Has.Length.EqualTo(1));
        Assert.That(providers[0], Is.Not.InstanceOf<ISupportExternalScope>(), "no provider takes the factory's scopes");
        Assert.That(providers[0].GetType().GetCustomAttributes(typeof(ProviderAliasAttribute), false).Cast<ProviderAliasAttribute>().Single().Alias,
            Is.EqualTo("Console"), "Logging:Console settings still apply to it");
        // A scope begun now leaves the async context as it was: nothing is pushed for the connection to keep.
        var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("test");
        var before = ExecutionContext.Capture();
        using (logger.BeginScope("connection {Id}", 1))
        {
            Assert.That(ExecutionContext.Capture(), Is.SameAs(before));
        }
    }

    [TestCase("Logging:Console:FormatterOptions:IncludeScopes")]
    [TestCase("Logging:Console:IncludeScopes")]
    public void AskedToPrintScopesTheConsoleIsLeftAsItIs(string setting)
    {
        using var provider = Build(new() { [setting] = "true" });
        Assert.That(provider.GetServices<ILoggerProvider>().Single(), Is.InstanceOf<ConsoleLoggerProvider>());
        var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("test");
        var before = ExecutionContext.Capture();
        using (logger.BeginScope("connection {Id}", 1))
        {
            Assert.That(ExecutionContext.Capture(), Is.Not.SameAs(before), "the scope is pushed, to be printed");
        }
    }
}
