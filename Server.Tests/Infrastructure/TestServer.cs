using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SocketIoSignal.Hosting;

namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>
/// The real server (Kestrel) on 127.0.0.1 and a free port, built exactly as Program.cs builds it, with a log
/// sink that records every Error so a test can fail on one.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(WebApplication app, LogSink logs)
    {
        App = app;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
        BaseUri = new Uri($"http://127.0.0.1:{Port}");
    }

    public WebApplication App { get; }

    public LogSink Logs { get; }

    public int Port { get; }

    public Uri BaseUri { get; }

    public string Url => BaseUri.ToString().TrimEnd('/');

    public T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>Starts the server with these command-line arguments (port and host are chosen here).</summary>
    public static async Task<TestServer> StartAsync(IEnumerable<string>? args = null, Action<WebApplicationBuilder>? configure = null)
    {
        var logs = new LogSink();
        var all = new List<string> { "--port", "0", "--host", "127.0.0.1" };
        all.AddRange(args ?? []);
        var app = SignalServer.Build([.. all], builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddProvider(logs);
            configure?.Invoke(builder);
        });
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return new TestServer(app, logs);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(cts.Token);
        await App.DisposeAsync();
    }

    /// <summary>Fails the test if the server logged an Error or worse.</summary>
    public void AssertNoErrors()
    {
        var errors = Logs.Errors.ToArray();
        NUnit.Framework.Assert.That(errors, NUnit.Framework.Is.Empty, "the server logged errors");
    }
}
