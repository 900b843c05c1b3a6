using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SocketIOClient;
using SocketIOClient.Transport;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Library;

/// <summary>
/// A plain ASP.NET application that uses the library as a user would (AddSocketIo / MapSocketIo, nothing of the
/// codelab app), on 127.0.0.1 and a free port, with a log sink.
/// </summary>
internal sealed class LibraryHost : IAsyncDisposable
{
    private LibraryHost(WebApplication app, LogSink logs)
    {
        App = app;
        Logs = logs;
        Url = app.Urls.First();
    }

    public WebApplication App { get; }

    public LogSink Logs { get; }

    public string Url { get; }

    public static async Task<LibraryHost> StartAsync(Action<WebApplicationBuilder> services, Action<WebApplication> map)
    {
        var logs = new LogSink();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        services(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync().Within(TimeSpan.FromSeconds(30));
        return new LibraryHost(app, logs);
    }

    /// <summary>A real .NET Socket.IO client (SocketIOClient 3.0.6, Engine.IO 4 over WebSocket), connected.</summary>
    public async Task<SocketIOClient.SocketIO> ConnectAsync(Dictionary<string, string>? headers = null)
    {
        var client = new SocketIOClient.SocketIO(Url, new SocketIOOptions
        {
            EIO = 4,
            Transport = TransportProtocol.WebSocket,
            Reconnection = false,
            ConnectionTimeout = TimeSpan.FromSeconds(10),
            ExtraHeaders = headers,
        });
        await client.ConnectAsync().Within();
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(cts.Token);
        await App.DisposeAsync();
    }
}
