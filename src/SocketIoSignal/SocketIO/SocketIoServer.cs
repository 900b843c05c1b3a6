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
