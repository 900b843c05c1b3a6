using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using System.Collections.Concurrent;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Signaling;
using SocketIoSignal.SocketIO;

namespace SocketIoSignal.Plain;

/// <summary>
/// The plain WebSocket endpoint (<c>Signaling:PlainWebSocketPath</c>, <c>/ws</c>): no Engine.IO, no Socket.IO
/// framing, each text frame one JSON array <c>["event", args…]</c>. Its clients join the Socket.IO server's "/"
/// namespace (<see cref="PlainWebSocketConnection"/>), so the codelab's handlers, rooms, limits and Redis treat them
/// as any other client. The Engine.IO limits hold here too: the origin check, MaxSessions, MaxHttpBufferSize,
/// MaxQueuedBytes, CloseTimeout; and the Socket.IO ones: the event rate, MaxJsonDepth.
/// </summary>
internal sealed partial class PlainWebSocketEndpoint
{
    private readonly EngineIoServer _engine;
    private readonly EngineIoOptions _engineOptions;
    private readonly ILogger<PlainWebSocketEndpoint> _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<PlainWebSocketConnection, byte> _connections = new();
    private long _bytesIn;
    private long _bytesOut;
    private long _protocolErrors;

    public PlainWebSocketEndpoint(SocketIoServer io, EngineIoServer engine, IOptions<EngineIoOptions> engineOptions, IOptions<SocketIoOptions> socketIoOptions,
        TimeProvider time, IHostApplicationLifetime lifetime, ILogger<PlainWebSocketEndpoint> logger)
    {
        Io = io;
        _engine = engine;
        _engineOptions = engineOptions.Value;
        MaxJsonDepth = socketIoOptions.Value.MaxJsonDepth;
        _time = time;
        _logger = logger;
        lifetime.ApplicationStopping.Register(Shutdown);
    }

    public SocketIoServer Io { get; }

    public IReadOnlySet<string> Events => CodelabSignaling.Events;

    public int MaxMessageBytes => _engineOptions.MaxHttpBufferSize;

    public long MaxQueuedBytes => _engineOptions.MaxQueuedBytes;

    public TimeSpan CloseTimeout => _engineOptions.CloseTimeout;

    public int MaxJsonDepth { get; }

    /// <summary>Open plain connections.</summary>
    public int Count => _connections.Count;

    /// <summary>Bytes of JSON received and sent (WebSocket payloads, without frame headers).</summary>
    public long BytesInTotal => Interlocked.Read(ref _bytesIn);

    public long BytesOutTotal => Interlocked.Read(ref _bytesOut);

    public long ProtocolErrors => Interlocked.Read(ref _protocolErrors);

    internal void BytesIn(int n) => Interlocked.Add(ref _bytesIn, n);

    internal void BytesOut(int n) => Interlocked.Add(ref _bytesOut, n);

    internal void Dropped(string why) => LogDropped(why);

    internal void ProtocolError(string id, string why)
    {
        Interlocked.Increment(ref _protocolErrors);
        LogProtocolError(id, why);
    }

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            context.Response.Headers.Upgrade = "websocket";
            context.Response.Headers.SecWebSocketVersion = "13";
            await context.Response.WriteAsync("a WebSocket endpoint: each text frame is one JSON array, [\"event\", args…]\n");
            return;
        }
        if (!Cors.Apply(context, _engineOptions.AllowedOrigins))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        if (_connections.Count + _engine.SessionCount >= _engineOptions.MaxSessions)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        var handshake = HandshakeInfo.From(context, Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseNullableQuery(context.Request.QueryString.Value), _time);
        var accepted = await _engine.TryAcceptWebSocketAsync(context, protocol: 4, initial: null);
        if (accepted is null)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        var connection = new PlainWebSocketConnection(accepted, handshake, this);
        _connections[connection] = 0;
        LogOpened(connection.Id);
        try
        {
            await connection.RunAsync();
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            accepted.Finish();
        }
    }

    private void Shutdown()
    {
        foreach (var connection in _connections.Keys)
        {
            connection.Shutdown();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "plain WebSocket {Id} opened")]
    private partial void LogOpened(string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "plain WebSocket {Id}: {Why}; closing the connection")]
    private partial void LogProtocolError(string id, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "plain WebSocket: dropped ({Why})")]
    private partial void LogDropped(string why);
}

/// <summary>Maps the plain WebSocket endpoint and its page.</summary>
internal static class PlainWebSocketApp
{
    public static void AddPlainWebSocket(this IServiceCollection services) => services.AddSingleton<PlainWebSocketEndpoint>();

    /// <summary>The endpoint at <paramref name="path"/> (none when empty).</summary>
    public static void MapPlainWebSocket(this WebApplication app, string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return;
        }
        var endpoint = app.Services.GetRequiredService<PlainWebSocketEndpoint>();
        // As the Socket.IO endpoint: the handshake is recognised inside the endpoint, answered by the engine.
        var pipeline = ((IEndpointRouteBuilder)app).CreateApplicationBuilder();
        pipeline.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        pipeline.Run(endpoint.HandleAsync);
        app.Map(path, pipeline.Build()).WithDisplayName("plain WebSocket " + path);
    }
}
