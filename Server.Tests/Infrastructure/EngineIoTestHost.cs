using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Adapter;

namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>
/// The Engine.IO server alone on Kestrel (127.0.0.1, a free port): a bare web application with WebSockets and
/// one <see cref="EngineIoServer"/> on its path, talking to the handler the test chooses (a recorder, an echo,
/// or <see cref="SocketIoServer"/>, which the host can build). Every log line is kept, so a test can fail on an
/// Error. For the whole codelab app, see <see cref="TestServer"/>.
/// </summary>
internal sealed class EngineIoTestHost : IAsyncDisposable
{
    private EngineIoTestHost(WebApplication app, LogSink logs)
    {
        App = app;
        Logs = logs;
        Engine = app.Services.GetRequiredService<EngineIoServer>();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
        BaseUri = new Uri($"http://127.0.0.1:{Port}");
    }

    public WebApplication App { get; }

    public EngineIoServer Engine { get; }

    public LogSink Logs { get; }

    public int Port { get; }

    public Uri BaseUri { get; }

    public string Url => BaseUri.ToString().TrimEnd('/');

    public T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>Starts the host with this handler.</summary>
    public static Task<EngineIoTestHost> StartAsync(IEngineIoHandler handler, Action<EngineIoOptions>? options = null, TimeProvider? time = null) =>
        StartAsync(_ => handler, options, time);

    /// <summary>
    /// Starts the host with the handler <paramref name="handler"/> makes from the host's services (which hold a
    /// <see cref="SocketIoServer"/> with default options and in-memory rooms).
    /// </summary>
    public static async Task<EngineIoTestHost> StartAsync(Func<IServiceProvider, IEngineIoHandler> handler, Action<EngineIoOptions>? options = null, TimeProvider? time = null)
    {
        // A short close handshake bound keeps the host's shutdown quick when a test leaves sessions open.
        var engineOptions = new EngineIoOptions().WithCloseTimeout(200);
        // The engine tests speak both protocol revisions (a test of the default sets it back).
        engineOptions.AllowEIO3 = true;
        options?.Invoke(engineOptions);

        var logs = new LogSink();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.Logging.AddProvider(logs);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton(time ?? TimeProvider.System);
        builder.Services.AddSingleton(NodeIdentity.CreateRandom());
        builder.Services.AddSingleton<EngineIoMetrics>();
        builder.Services.AddSingleton<SocketIoMetrics>();
        builder.Services.AddSingleton<IRoomAdapterFactory, InMemoryRoomAdapterFactory>();
        builder.Services.AddSingleton(Options.Create(new SocketIoOptions()));
        builder.Services.AddSingleton(sp => SocketIoServer.Create(sp));
        builder.Services.AddSingleton(Options.Create(engineOptions));
        builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<EngineIoServer>(sp, handler(sp)));

        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        var engine = app.Services.GetRequiredService<EngineIoServer>();
        const string path = "/socket.io/";
        app.Run(context =>
        {
            var requestPath = context.Request.Path.Value ?? "";
            if (requestPath.StartsWith(path, StringComparison.Ordinal) || requestPath == path.TrimEnd('/'))
            {
                return engine.HandleAsync(context);
            }
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        app.Lifetime.ApplicationStopping.Register(() => engine.ShutdownAsync(engine.Options.CloseTimeout()).GetAwaiter().GetResult());
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return new EngineIoTestHost(app, logs);
    }

    /// <summary>Fails the test if the host logged an Error or worse.</summary>
    public void AssertNoErrors()
    {
        var errors = Logs.Errors.ToArray();
        NUnit.Framework.Assert.That(errors, NUnit.Framework.Is.Empty, "the server logged errors");
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(cts.Token);
        await App.DisposeAsync();
    }
}
