using Microsoft.AspNetCore.Http;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// The Engine.IO server under Socket.IO, as Node's <c>io.engine</c> exposes it: its events (<c>connection</c>,
/// <c>connection_error</c>, <c>initial_headers</c>, <c>headers</c>) and the number of open connections. The
/// <c>allowRequest</c> option is <see cref="EngineIoOptions.AllowRequest"/>. Listeners run on the request's thread,
/// before the response is written; one that throws is logged and the request goes on.
/// </summary>
public sealed class Engine
{
    private EngineIoServer? _server;
    private readonly Handlers<Action<EngineConnection>> _connection = new();
    private readonly Handlers<Action<EngineConnectionError>> _connectionError = new();
    private readonly Handlers<Action<IHeaderDictionary, HttpRequest>> _initialHeaders = new();
    private readonly Handlers<Action<IHeaderDictionary, HttpRequest>> _headers = new();

    internal Engine()
    {
    }

    /// <summary>Open Engine.IO connections (Node's <c>io.engine.clientsCount</c>).</summary>
    public int ClientsCount => _server?.SessionCount ?? 0;

    /// <summary>A new Engine.IO connection, before Socket.IO sees it (Node's <c>io.engine.on("connection", socket)</c>).</summary>
    public Engine OnConnection(Action<EngineConnection> handler)
    {
        _connection.Add(handler);
        return this;
    }

    /// <summary>
    /// A request refused with an Engine.IO error: unknown transport or session, bad method or request, a handshake
    /// that <see cref="EngineIoOptions.AllowRequest"/> or a limit refused, an unsupported protocol version (Node's
    /// <c>io.engine.on("connection_error", err)</c>).
    /// </summary>
    public Engine OnConnectionError(Action<EngineConnectionError> handler)
    {
        _connectionError.Add(handler);
        return this;
    }

    /// <summary>
    /// The headers of the response to a handshake (the first polling response or the WebSocket 101), which the
    /// handler may change, e.g. to set a cookie (Node's <c>io.engine.on("initial_headers", (headers, req))</c>).
    /// </summary>
    public Engine OnInitialHeaders(Action<IHeaderDictionary, HttpRequest> handler)
    {
        _initialHeaders.Add(handler);
        return this;
    }

    /// <summary>
    /// The headers of every polling response and WebSocket 101 of a session, the handshake's included, which the
    /// handler may change (Node's <c>io.engine.on("headers", (headers, req))</c>).
    /// </summary>
    public Engine OnHeaders(Action<IHeaderDictionary, HttpRequest> handler)
    {
        _headers.Add(handler);
        return this;
    }

    internal void Attach(EngineIoServer server) => _server = server;

    internal void RaiseConnection(EngineConnection connection)
    {
        foreach (var handler in _connection.List)
        {
            Guard(() => handler(connection), "connection");
        }
    }

    internal bool ObservesConnections => _connection.Any;

    internal bool ObservesErrors => _connectionError.Any;

    internal void RaiseConnectionError(EngineConnectionError error)
    {
        foreach (var handler in _connectionError.List)
        {
            Guard(() => handler(error), "connection_error");
        }
    }

    /// <summary>initial_headers (for a handshake), then headers, on the response about to be written.</summary>
    internal void RaiseHeaders(HttpContext context, bool initial)
    {
        if (initial)
        {
            foreach (var handler in _initialHeaders.List)
            {
                Guard(() => handler(context.Response.Headers, context.Request), "initial_headers");
            }
        }
        foreach (var handler in _headers.List)
        {
            Guard(() => handler(context.Response.Headers, context.Request), "headers");
        }
    }

    internal void Guard(Action action, string eventName)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            _server?.ListenerFailed(ex, eventName);
        }
    }
}
