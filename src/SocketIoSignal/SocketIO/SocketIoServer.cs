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
    private readonly object _parentsGate = new();
    private (SocketIoNamespace Parent, Func<string, SocketIoHandshake, ValueTask<bool>> Matches)[] _parents = [];

    /// <summary>The parents made from a regular expression: <see cref="Of(string)"/> attaches a name one matches to it.</summary>
    private (System.Text.RegularExpressions.Regex Names, SocketIoNamespace Parent)[] _regexParents = [];
    private readonly List<Action<SocketIoNamespace>> _onNewNamespace = [];
    private IServiceProvider? _services;
    private int _parentCount;

    /// <summary>The server as dependency injection makes it, with the registered adapter factory or <paramref name="adapters"/>.</summary>
    internal static SocketIoServer Create(IServiceProvider services, IRoomAdapterFactory? adapters = null) => new(
        services.GetRequiredService<IOptions<SocketIoOptions>>(),
        adapters ?? services.GetRequiredService<IRoomAdapterFactory>(),
        services.GetRequiredService<TimeProvider>(),
        services.GetRequiredService<ILogger<SocketIoServer>>(),
        services.GetRequiredService<SocketIoMetrics>())
    {
        _services = services,
    };

    internal SocketIoServer(IOptions<SocketIoOptions> options, IRoomAdapterFactory adapters, TimeProvider time, ILogger<SocketIoServer> logger, SocketIoMetrics metrics)
    {
        Options = options.Value;
        _adapters = adapters;
        Time = time;
        _logger = logger;
        Metrics = metrics;
        ParserLimits = new SocketIoParserLimits(Options.MaxAttachments, Options.MaxJsonDepth);
        Metrics.Rooms = () => _namespaces.Values.Sum(n => (long)n.Adapter.LocalRoomCount);
        Metrics.RecoverySessions = () => _namespaces.Values.Sum(n => (long)(n.Recovery?.KeptSessions ?? 0));
        Metrics.RecoveryPackets = () => _namespaces.Values.Sum(n => (long)(n.Recovery?.KeptPackets ?? 0));
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

    /// <summary>
    /// The namespace of this name, created on first use; a name that a parent made with
    /// <see cref="Of(System.Text.RegularExpressions.Regex)"/> matches is created as that parent's child.
    /// </summary>
    public SocketIoNamespace Of(string name)
    {
        if (!name.StartsWith('/'))
        {
            name = "/" + name;
        }
        if (_namespaces.TryGetValue(name, out var existing))
        {
            return existing;
        }
        // As Node: a name a regular-expression parent matches becomes that parent's child, as if a client had come.
        foreach (var (regex, parent) in _regexParents)
        {
            if (regex.IsMatch(name))
            {
                return AddChild(parent, name);
            }
        }
        bool created = false;
        var nsp = _namespaces.GetOrAdd(name, n =>
        {
            created = true;
            return new SocketIoNamespace(this, n, _adapters);
        });
        if (created && name != "/")
        {
            RaiseNewNamespace(nsp);
        }
        return nsp;
    }

    /// <summary>
    /// A parent namespace for every name <paramref name="names"/> matches (Node's <c>io.of(/regex/)</c>): the first
    /// client that connects to such a name creates a child namespace of that name, with the parent's middlewares
    /// and connection handlers; a broadcast on the parent reaches every child.
    /// </summary>
    /// <param name="names">Matches the whole namespace name, e.g. <c>^/dynamic-\d+$</c>.</param>
    /// <returns>The parent namespace.</returns>
    public SocketIoNamespace Of(System.Text.RegularExpressions.Regex names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var parent = AddParent((name, _) => ValueTask.FromResult(names.IsMatch(name)));
        lock (_parentsGate)
        {
            _regexParents = [.. _regexParents, (names, parent)];
        }
        return parent;
    }

    /// <summary>
    /// A parent namespace for every name <paramref name="matches"/> accepts, given the connecting client's handshake
    /// (its <see cref="SocketIoHandshake.Auth"/> is Node's <c>auth</c> argument). See <see cref="Of(System.Text.RegularExpressions.Regex)"/>.
    /// </summary>
    /// <param name="matches">Whether a name (with the client's handshake) belongs to this parent; an exception counts as no.</param>
    /// <returns>The parent namespace.</returns>
    public SocketIoNamespace Of(Func<string, SocketIoHandshake, bool> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
        return AddParent((name, handshake) => ValueTask.FromResult(matches(name, handshake)));
    }

    /// <summary>The async form of <see cref="Of(Func{string, SocketIoHandshake, bool})"/> (Node's <c>(name, auth, next) =&gt; …</c>).</summary>
    /// <param name="matches">Whether a name (with the client's handshake) belongs to this parent; an exception counts as no.</param>
    /// <returns>The parent namespace.</returns>
    public SocketIoNamespace Of(Func<string, SocketIoHandshake, Task<bool>> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
        return AddParent((name, handshake) => new ValueTask<bool>(matches(name, handshake)));
    }

    private SocketIoNamespace AddParent(Func<string, SocketIoHandshake, ValueTask<bool>> matches)
    {
        var parent = new SocketIoNamespace(this, "/_" + (Interlocked.Increment(ref _parentCount) - 1), _adapters, parent: true);
        lock (_parentsGate)
        {
            _parents = [.. _parents, (parent, matches)];
        }
        return parent;
    }

    /// <summary>
    /// <paramref name="parent"/>'s child named <paramref name="name"/>, made and announced now unless a racing caller
    /// made it first (then that one).
    /// </summary>
    private SocketIoNamespace AddChild(SocketIoNamespace parent, string name)
    {
        SocketIoNamespace child;
        lock (_parentsGate)
        {
            if (_namespaces.TryGetValue(name, out var existing))
            {
                return existing;
            }
            child = parent.CreateChild(name, _adapters);
            _namespaces[name] = child;
        }
        RaiseNewNamespace(child);
        return child;
    }

    /// <summary>
    /// The namespace a client may connect to under <paramref name="name"/> when no namespace has that name yet:
    /// the child of the first parent that accepts it (made now), or null.
    /// </summary>
    internal async ValueTask<SocketIoNamespace?> MatchDynamicAsync(string name, SocketIoHandshake handshake)
    {
        foreach (var (parent, matches) in _parents)
        {
            bool accepted;
            try
            {
                accepted = await matches(name, handshake).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogHandlerError(ex, name, "namespace");
                continue;
            }
            if (!accepted)
            {
                continue;
            }
            return AddChild(parent, name);
        }
        return null;
    }

    /// <summary>A child namespace lost its last socket: with <see cref="SocketIoOptions.CleanupEmptyChildNamespaces"/>, it goes.</summary>
    internal void OnChildEmptied(SocketIoNamespace child)
    {
        if (!Options.CleanupEmptyChildNamespaces)
        {
            return;
        }
        lock (_parentsGate)
        {
            if (child.Sockets.Count != 0 || !_namespaces.TryRemove(new KeyValuePair<string, SocketIoNamespace>(child.Name, child)))
            {
                return;
            }
            child.Parent!.RemoveChild(child);
        }
        child.Recovery?.Dispose();
        child.Observe(child.Adapter.DisposeAsync());
    }

    /// <summary>Runs for each namespace created after this call, dynamic children included (Node's <c>new_namespace</c>).</summary>
    /// <param name="handler">Gets the namespace.</param>
    /// <returns>This server.</returns>
    public SocketIoServer OnNewNamespace(Action<SocketIoNamespace> handler)
    {
        lock (_onNewNamespace)
        {
            _onNewNamespace.Add(handler);
        }
        return this;
    }

    private void RaiseNewNamespace(SocketIoNamespace nsp)
    {
        Action<SocketIoNamespace>[] handlers;
        lock (_onNewNamespace)
        {
            handlers = [.. _onNewNamespace];
        }
        foreach (var handler in handlers)
        {
            try
            {
                handler(nsp);
            }
            catch (Exception ex)
            {
                LogHandlerError(ex, nsp.Name, "new_namespace");
            }
        }
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

    /// <summary>Adds a middleware to the main namespace (Node's <c>io.use</c>); see <see cref="SocketIoNamespace.Use(Func{SocketIoSocket, Task})"/>.</summary>
    /// <param name="middleware">Gets the socket before it connects.</param>
    /// <returns>This server.</returns>
    public SocketIoServer Use(Func<SocketIoSocket, Task> middleware)
    {
        Sockets.Use(middleware);
        return this;
    }

    /// <summary>Node's form of <see cref="Use(Func{SocketIoSocket, Task})"/>, with <c>next</c>.</summary>
    /// <param name="middleware">Gets the socket and <c>next</c>.</param>
    /// <returns>This server.</returns>
    public SocketIoServer Use(Action<SocketIoSocket, Action<Exception?>> middleware)
    {
        Sockets.Use(middleware);
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

    /// <summary>Emits a <c>message</c> event to every socket of the main namespace (Node's <c>io.send</c>).</summary>
    /// <param name="args">Its arguments.</param>
    /// <returns>This server.</returns>
    public SocketIoServer Send(params object?[] args)
    {
        Sockets.Send(args);
        return this;
    }

    /// <summary>The same as <see cref="Send"/> (Node's <c>io.write</c>).</summary>
    /// <param name="args">Its arguments.</param>
    /// <returns>This server.</returns>
    public SocketIoServer Write(params object?[] args) => Send(args);

    /// <inheritdoc/>
    public BroadcastOperator Volatile => Sockets.Volatile;

    /// <inheritdoc/>
    public BroadcastOperator Local => Sockets.Local;

    /// <inheritdoc/>
    public BroadcastOperator Compress(bool compress) => Sockets.Compress(compress);

    /// <inheritdoc/>
    public BroadcastOperator Timeout(TimeSpan timeout) => Sockets.Timeout(timeout);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync() => Sockets.FetchSocketsAsync();

    /// <inheritdoc/>
    public void SocketsJoin(params string[] rooms) => Sockets.SocketsJoin(rooms);

    /// <inheritdoc/>
    public void SocketsLeave(params string[] rooms) => Sockets.SocketsLeave(rooms);

    /// <inheritdoc/>
    public void DisconnectSockets(bool close = false) => Sockets.DisconnectSockets(close);

    /// <inheritdoc/>
    public void ServerSideEmit(string eventName, params object?[] args) => Sockets.ServerSideEmit(eventName, args);

    /// <inheritdoc/>
    public Task<IReadOnlyList<System.Text.Json.Nodes.JsonNode?>> ServerSideEmitWithAckAsync(string eventName, params object?[] args) =>
        Sockets.ServerSideEmitWithAckAsync(eventName, args);

    /// <summary>
    /// Closes the server (Node's <c>io.close()</c>): new handshakes are refused, every client is disconnected
    /// (reason "server shutting down", within <c>EngineIo:CloseTimeout</c>), then every namespace's adapter is
    /// closed. The host's HTTP listener is the host's to stop.
    /// </summary>
    public async Task CloseAsync()
    {
        var engine = _services?.GetService<EngineIoServer>();
        if (engine is not null)
        {
            await engine.ShutdownAsync(_services!.GetRequiredService<IOptions<EngineIoOptions>>().Value.CloseTimeout).ConfigureAwait(false);
        }
        else
        {
            foreach (var nsp in _namespaces.Values)
            {
                nsp.DisconnectSockets(close: true);
            }
        }
        StopRecovery();
        foreach (var nsp in _namespaces.Values)
        {
            try
            {
                await nsp.Adapter.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogAdapterError(ex, nsp.Name);
            }
        }
    }

    /// <summary>
    /// Shutdown: the connection state recovery stores of every namespace stop their sweep timers and let go of what
    /// they kept (no session comes back to a server that has stopped).
    /// </summary>
    internal void StopRecovery()
    {
        foreach (var nsp in _namespaces.Values)
        {
            nsp.Recovery?.Dispose();
        }
    }

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
