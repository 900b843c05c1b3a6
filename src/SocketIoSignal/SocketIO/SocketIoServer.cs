using Microsoft.Extensions.DependencyInjection;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO;

/// <summary>
/// The Socket.IO server: namespaces over Engine.IO sessions, protocol 4 (clients 1.x/2.x) and 5 (3.x/4.x)
/// side by side. It sees Engine.IO only through <see cref="IEngineIoHandler"/>.
/// </summary>
public sealed partial class SocketIoServer : IEngineIoHandler, ISocketIoServer
{
    private readonly ConcurrentDictionary<string, SocketIoNamespace> _namespaces = new(StringComparer.Ordinal);
    private readonly IRoomAdapterFactory _adapters;
    private readonly ILogger<SocketIoServer> _logger;

    /// <summary>The server as dependency injection makes it, with the registered adapter factory or <paramref name="adapters"/>.</summary>
    internal static SocketIoServer Create(IServiceProvider services, IRoomAdapterFactory? adapters = null) => new(
        services.GetRequiredService<IOptions<SocketIoOptions>>(),
        adapters ?? services.GetRequiredService<IRoomAdapterFactory>(),
        services.GetRequiredService<TimeProvider>(),
        services.GetRequiredService<ILogger<SocketIoServer>>(),
        services.GetRequiredService<SocketIoMetrics>());

    internal SocketIoServer(IOptions<SocketIoOptions> options, IRoomAdapterFactory adapters, TimeProvider time, ILogger<SocketIoServer> logger, SocketIoMetrics metrics)
    {
        Options = options.Value;
        _adapters = adapters;
        Time = time;
        _logger = logger;
        Metrics = metrics;
        ParserLimits = new SocketIoParserLimits(Options.MaxAttachments, Options.MaxJsonDepth);
        Metrics.Rooms = () => _namespaces.Values.Sum(n => (long)n.Adapter.LocalRoomCount);
        Of("/");
    }

    /// <summary>The options in force.</summary>
    public SocketIoOptions Options { get; }

    /// <summary>The Engine.IO server underneath: its events and connection count (Node's <c>io.engine</c>).</summary>
    public EngineIO.Engine Engine { get; } = new();

    internal TimeProvider Time { get; }

    internal SocketIoMetrics Metrics { get; }

    internal SocketIoParserLimits ParserLimits { get; }

    /// <summary>The main namespace, "/".</summary>
    public SocketIoNamespace Sockets => Of("/");

    /// <summary>The namespaces created so far.</summary>
    public IEnumerable<SocketIoNamespace> Namespaces => _namespaces.Values;

    /// <summary>The namespace of this name, created on first use.</summary>
    public SocketIoNamespace Of(string name)
    {
        if (!name.StartsWith('/'))
        {
            name = "/" + name;
        }
        return _namespaces.GetOrAdd(name, n => new SocketIoNamespace(this, n, _adapters));
    }

    /// <summary>The namespace of this name, when it exists.</summary>
    /// <param name="name">The name, e.g. <c>/chat</c>.</param>
    /// <param name="nsp">The namespace.</param>
    public bool TryGetNamespace(string name, out SocketIoNamespace? nsp) => _namespaces.TryGetValue(name, out nsp);

    /// <summary>Runs for each socket that joins the main namespace.</summary>
    /// <param name="handler">Gets the socket; register its event handlers here.</param>
    /// <returns>This server.</returns>
    public SocketIoServer OnConnection(Action<SocketIoSocket> handler)
    {
        Sockets.OnConnection(handler);
        return this;
    }

    /// <inheritdoc/>
    public BroadcastOperator To(string room) => Sockets.To(room);

    /// <inheritdoc/>
    public BroadcastOperator In(string room) => Sockets.To(room);

    /// <inheritdoc/>
    public BroadcastOperator Except(string room) => Sockets.Except(room);

    /// <inheritdoc/>
    public void Emit(string eventName, params object?[] args) => Sockets.Emit(eventName, args);

    // ---- the Engine.IO seam ----

    void IEngineIoHandler.OnConnect(EngineIoSession session)
    {
        var client = new SocketIoClient(this, session);
        session.Tag = client;
        client.Start();
    }

    void IEngineIoHandler.OnMessage(EngineIoSession session, string text)
    {
        if (session.Tag is SocketIoClient client)
        {
            client.OnText(text);
        }
    }

    void IEngineIoHandler.OnMessageUtf8(EngineIoSession session, ReadOnlyMemory<byte> utf8)
    {
        if (session.Tag is SocketIoClient client)
        {
            client.OnText(utf8);
        }
    }

    void IEngineIoHandler.OnBinary(EngineIoSession session, ReadOnlyMemory<byte> data)
    {
        if (session.Tag is SocketIoClient client)
        {
            client.OnBinary(data);
        }
    }

    void IEngineIoHandler.OnDisconnect(EngineIoSession session, CloseReason reason)
    {
        if (session.Tag is SocketIoClient client)
        {
            client.OnClose(reason);
        }
    }

    // ---- observers inside the library (the admin UI); null unless one is attached ----

    /// <summary>A socket of any namespace connected: raised after it joined its own room, before the namespace's handlers.</summary>
    internal event Action<SocketIoSocket>? SocketConnected;

    /// <summary>A client emitted an event to a socket of any namespace (raised whether or not a handler listens).</summary>
    internal event Action<SocketIoEvent>? EventReceived;

    /// <summary>A socket of any namespace emitted an event to its client: the socket, the event's name, its arguments.</summary>
    internal event Action<SocketIoSocket, string, IReadOnlyList<object?>>? EventSent;

    internal bool ObservesEvents => EventReceived is not null;

    internal void RaiseSocketConnected(SocketIoSocket socket)
    {
        try
        {
            SocketConnected?.Invoke(socket);
        }
        catch (Exception ex)
        {
            LogHandlerError(ex, socket.Id, "connection");
        }
    }

    internal void RaiseEventReceived(SocketIoEvent evt)
    {
        try
        {
            EventReceived?.Invoke(evt);
        }
        catch (Exception ex)
        {
            LogHandlerError(ex, evt.Socket.Id, evt.Name);
        }
    }

    internal void RaiseEventSent(SocketIoSocket socket, string eventName, IReadOnlyList<object?> args)
    {
        var observers = EventSent;
        if (observers is null)
        {
            return;
        }
        try
        {
            observers(socket, eventName, args);
        }
        catch (Exception ex)
        {
            LogHandlerError(ex, socket.Id, eventName);
        }
    }

    internal void OnProtocolError(string why)
    {
        Metrics.ProtocolError(why);
        LogProtocolError(why);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "socket.io protocol error: {Why}; closing the connection")]
    private partial void LogProtocolError(string why);

    [LoggerMessage(Level = LogLevel.Error, Message = "a handler failed for socket {Id}, event {EventName}")]
    internal partial void LogHandlerError(Exception ex, string id, string eventName);

    [LoggerMessage(Level = LogLevel.Error, Message = "the rooms adapter failed in namespace {Nsp}")]
    internal partial void LogAdapterError(Exception ex, string nsp);
}
