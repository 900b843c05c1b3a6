using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;

namespace SocketIoSignal.Hosting;

/// <summary>
/// The server the published Engine.IO and Socket.IO protocol test suites expect: short heartbeats, any origin,
/// a raw Engine.IO echo at /engine.io/, and the Socket.IO suite's handlers at /socket.io/.
/// </summary>
public static class ConformanceHost
{
    public static readonly IReadOnlyDictionary<string, string?> Settings = new Dictionary<string, string?>
    {
        ["EngineIo:PingInterval"] = "300",
        ["EngineIo:PingTimeout"] = "200",
        ["EngineIo:MaxHttpBufferSize"] = "1000000",
        ["EngineIo:AllowedOrigins:0"] = "*",
        ["EngineIo:CookieV3"] = "false",
        // Between the two suite cases it must serve: a session without CONNECT must live through three 300 ms
        // heartbeats (about 950 ms) and yet be closed within mocha's 2000 ms.
        ["SocketIo:ConnectTimeout"] = "1500",
        // The suites attach their message listener after "open": the open packet must come in a later read.
        ["EngineIo:FirstFrameDelay"] = "20",
    };

    public static void UseConformance(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<EngineIoOptions>>().Value;
        var echoOptions = new EngineIoOptions
        {
            PingInterval = options.PingInterval,
            PingTimeout = options.PingTimeout,
            MaxHttpBufferSize = options.MaxHttpBufferSize,
            AllowedOrigins = options.AllowedOrigins,
            CookieV3 = false,
            AllowEIO3 = options.AllowEIO3,
            FirstFrameDelay = options.FirstFrameDelay,
        };
        var echo = new EngineIoServer(
            Options.Create(echoOptions),
            new EchoHandler(),
            app.Services.GetRequiredService<TimeProvider>(),
            app.Services.GetRequiredService<ILogger<EngineIoServer>>(),
            app.Services.GetRequiredService<EngineIoMetrics>());
        var pipeline = ((Microsoft.AspNetCore.Routing.IEndpointRouteBuilder)app).CreateApplicationBuilder();
        pipeline.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        pipeline.Run(echo.HandleAsync);
        app.Map("/engine.io/{**rest}", pipeline.Build());
        app.Lifetime.ApplicationStopping.Register(() => _ = echo.ShutdownAsync(echoOptions.CloseTimeout));

        var io = app.Services.GetRequiredService<SocketIoServer>();
        var time = app.Services.GetRequiredService<TimeProvider>();
        io.OnConnection(socket =>
        {
            EmitAuthApart(socket, time);
            socket.On("message", e => socket.Emit("message-back", [.. e.Args]));
            socket.On("message-with-ack", e => e.Ack([.. e.Args]));
        });
        io.Of("/custom").OnConnection(socket => EmitAuthApart(socket, time));
    }

    /// <summary>
    /// Emits "auth" a moment after the CONNECT answer. The suite reads each message with a listener it adds only
    /// after the previous message, so two frames that reach it in one TCP read lose the second; Node writes the
    /// CONNECT answer and this emit in separate ticks, Kestrel may coalesce them into one segment.
    /// </summary>
    private static void EmitAuthApart(SocketIoSocket socket, TimeProvider time)
    {
        var auth = socket.Handshake.Auth;
        _ = Task.Delay(TimeSpan.FromMilliseconds(20), time).ContinueWith(
            _ => socket.Emit("auth", auth), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Sends every message back as it came.</summary>
    private sealed class EchoHandler : IEngineIoHandler
    {
        public void OnConnect(EngineIoSession session)
        {
        }

        public void OnMessage(EngineIoSession session, string text) => session.Send(text);

        public void OnBinary(EngineIoSession session, ReadOnlyMemory<byte> data) => session.SendBinary(data);

        public void OnDisconnect(EngineIoSession session, CloseReason reason)
        {
        }
    }
}
