using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.NodeSuite.Support;

/// <summary>
/// Node's <c>new Server(0, opts)</c>: the library as a user hosts it (AddSocketIo + MapSocketIo) on Kestrel,
/// 127.0.0.1 and a free port, with a log sink. One per test, as in the Node suite (starting one takes milliseconds).
/// </summary>
public sealed class SuiteServer : IAsyncDisposable
{
    private SuiteServer(WebApplication app, LogSink logs)
    {
        App = app;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
        Url = $"http://127.0.0.1:{Port}";
        Io = app.Services.GetRequiredService<SocketIoServer>();
    }

    public WebApplication App { get; }

    public LogSink Logs { get; }

    public int Port { get; }

    /// <summary>http://127.0.0.1:port (add the namespace for a client URL).</summary>
    public string Url { get; }

    /// <summary>Node's <c>io</c>.</summary>
    public SocketIoServer Io { get; }

    public static async Task<SuiteServer> StartAsync(Action<SocketIoOptions>? socketIo = null, Action<EngineIoOptions>? engineIo = null, int port = 0, string path = "/socket.io")
    {
        var logs = new LogSink();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddProvider(logs);
        var sio = builder.Services.AddSocketIo(o => socketIo?.Invoke(o));
        sio.ConfigureEngineIo(o =>
        {
            // the Node suite opens many connections from one address in a short time
            o.HandshakeRateExemptLoopback = true;
            engineIo?.Invoke(o);
        });
        var app = builder.Build();
        app.MapSocketIo(path);
        await app.StartAsync().Within(TimeSpan.FromSeconds(30));
        return new SuiteServer(app, logs);
    }

    /// <summary>The sockets of <paramref name="nsp"/> as they connect (Node's <c>io.of(nsp).on("connection")</c>), read in order.</summary>
    public Connections Connections(string nsp = "/")
    {
        var connections = new Connections();
        Io.Of(nsp).OnConnection(connections.Add);
        return connections;
    }

    /// <summary>Fails the test if the server logged an Error.</summary>
    public void AssertNoErrors() =>
        NUnit.Framework.Assert.That(Logs.Errors.ToArray(), NUnit.Framework.Is.Empty, "the server logged errors");

    private int _disposed;

    /// <summary>Stops the server (Node's <c>io.close()</c>); a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(cts.Token);
        await App.DisposeAsync();
    }
}

/// <summary>Server sockets in the order they connected.</summary>
public sealed class Connections
{
    private readonly Channel<SocketIoSocket> _next = Channel.CreateUnbounded<SocketIoSocket>();
    private readonly List<SocketIoSocket> _all = [];

    public void Add(SocketIoSocket socket)
    {
        lock (_all)
        {
            _all.Add(socket);
        }
        _next.Writer.TryWrite(socket);
    }

    public IReadOnlyList<SocketIoSocket> All
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    /// <summary>The next socket to connect (in order).</summary>
    public Task<SocketIoSocket> NextAsync(TimeSpan? timeout = null) => _next.Reader.ReadAsync().AsTask().Within(timeout);
}
