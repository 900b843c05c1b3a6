using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.SocketIO.Recovery;

namespace SocketIoSignal.SocketIO;

/// <summary>
/// A namespace: its sockets on this node, its middleware, its connection handlers and its rooms adapter. A parent
/// namespace (<see cref="SocketIoServer.Of(System.Text.RegularExpressions.Regex)"/>) has no sockets of its own: it
/// makes a child for each matching name, and its broadcasts reach every child.
/// </summary>
public sealed class SocketIoNamespace : ILocalDelivery
{
    private readonly ConcurrentDictionary<string, SocketIoSocket> _sockets = new(StringComparer.Ordinal);
    private readonly List<Func<SocketIoSocket, Task>> _middleware = [];
    private readonly List<Action<SocketIoSocket>> _onConnection = [];
    private readonly ConcurrentDictionary<string, Action<ServerSideEvent>[]> _serverSideHandlers = new(StringComparer.Ordinal);
    private readonly List<SocketIoNamespace>? _children;
    private long _nextAckId;

    internal SocketIoNamespace(SocketIoServer server, string name, IRoomAdapterFactory adapters, bool parent = false)
    {
        Server = server;
        Name = name;
        Adapter = adapters.Create(name, this);
        _children = parent ? [] : null;
        // Connection state recovery: nothing exists (and nothing is checked on the way) unless it is on.
        if (server.Options.ConnectionStateRecovery.Enabled)
        {
            // A cluster adapter may keep sessions where every node can recover them (Redis streams mode).
            Recovery = new SessionStore(name, server.Options.ConnectionStateRecovery, server.Time, (Adapter as IClusterRecoverySource)?.ClusterRecovery);
        }
    }

    /// <summary>Connection state recovery's store; null when recovery is off.</summary>
    internal SessionStore? Recovery { get; }

    /// <summary>The namespace's name, e.g. <c>/</c> or <c>/chat</c> (a parent's is <c>/_0</c>, <c>/_1</c>…, as Node's).</summary>
    public string Name { get; }

    /// <summary>The server.</summary>
    public SocketIoServer Server { get; }

    internal IRoomAdapter Adapter { get; }

    /// <summary>The parent namespace this one was made by, if any.</summary>
    internal SocketIoNamespace? Parent { get; private init; }

    internal bool IsParent => _children is not null;

    /// <summary>A parent's children, copied.</summary>
    internal SocketIoNamespace[] Children
    {
        get
        {
            if (_children is null)
            {
                return [];
            }
            lock (_children)
            {
                return [.. _children];
            }
        }
    }

    /// <summary>Sockets of this namespace connected to this node.</summary>
    public IReadOnlyDictionary<string, SocketIoSocket> Sockets => _sockets;

    IEnumerable<string> ILocalDelivery.LocalSocketIds => _sockets.Keys;

    SocketIoSocket? ILocalDelivery.LocalSocket(string socketId) => _sockets.TryGetValue(socketId, out var socket) ? socket : null;

    /// <summary>The next acknowledgement id, shared by the namespace's emits and broadcasts (Node's <c>nsp._ids</c>).</summary>
    internal long NextAckId() => Interlocked.Increment(ref _nextAckId) - 1;

    // ---- middleware and handlers ----

    /// <summary>Adds a middleware run before each connection; it refuses by throwing <see cref="ConnectRejectedException"/>.</summary>
    /// <param name="middleware">Gets the socket before it connects.</param>
    /// <returns>This namespace.</returns>
    public SocketIoNamespace Use(Action<SocketIoSocket> middleware) => Use(socket =>
    {
        middleware(socket);
        return Task.CompletedTask;
    });

    /// <summary>
    /// Adds an async middleware run before each connection, in the order added (Node's <c>namespace.use</c>): the
    /// client connects when every middleware completed; a <see cref="ConnectRejectedException"/> refuses it with its
    /// message and data (<c>connect_error</c> with <c>err.data</c>); any other exception is logged and refuses it
    /// with "Internal error". A middleware that never completes holds only that connection (the connect timeout
    /// closes a client that has no namespace yet).
    /// </summary>
    /// <param name="middleware">Gets the socket before it connects.</param>
    /// <returns>This namespace.</returns>
    public SocketIoNamespace Use(Func<SocketIoSocket, Task> middleware)
    {
        lock (_middleware)
        {
            _middleware.Add(middleware);
        }
        return this;
    }

    /// <summary>
    /// Node's form of <see cref="Use(Func{SocketIoSocket, Task})"/>: the middleware calls <c>next()</c> to go on or
    /// <c>next(error)</c> to refuse; the client gets the error's message (and <see cref="ConnectRejectedException.ErrorData"/>).
    /// </summary>
    /// <param name="middleware">Gets the socket and <c>next</c>.</param>
    /// <returns>This namespace.</returns>
    public SocketIoNamespace Use(Action<SocketIoSocket, Action<Exception?>> middleware) => Use(socket =>
    {
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        middleware(socket, error =>
        {
            if (error is null)
            {
                next.TrySetResult();
            }
            else
            {
                next.TrySetException(error as ConnectRejectedException ?? new ConnectRejectedException(error.Message));
            }
        });
        return next.Task;
    });

    /// <summary>Runs for each socket that joins the namespace, after the middlewares accepted it.</summary>
    /// <param name="handler">Gets the socket; register its event handlers here.</param>
    /// <returns>This namespace.</returns>
    public SocketIoNamespace OnConnection(Action<SocketIoSocket> handler)
    {
        lock (_onConnection)
        {
            _onConnection.Add(handler);
        }
        return this;
    }

    /// <summary>Handles an event another server sent with <see cref="ServerSideEmit"/> (Node's <c>nsp.on(event)</c>).</summary>
    /// <param name="eventName">The event's name.</param>
    /// <param name="handler">Gets the event; an exception is logged.</param>
    /// <returns>This namespace.</returns>
    public SocketIoNamespace On(string eventName, Action<ServerSideEvent> handler)
    {
        _serverSideHandlers.AddOrUpdate(eventName, static (_, h) => [h], static (_, list, h) => [.. list, h], handler);
        return this;
    }

    /// <summary>A server-side event arrived from another server (the cluster adapter calls this).</summary>
    internal void OnServerSideEmit(string eventName, IReadOnlyList<JsonNode?> args, Action<JsonNode?>? ack)
    {
        if (!_serverSideHandlers.TryGetValue(eventName, out var handlers))
        {
            return;
        }
        var evt = new ServerSideEvent(eventName, args, ack);
        foreach (var handler in handlers)
        {
            try
            {
                handler(evt);
            }
            catch (Exception ex)
            {
                Server.LogHandlerError(ex, Name, eventName);
            }
        }
    }

    // ---- selections and flags ----

    private BroadcastOperator All => new(this, RoomSet.Empty, RoomSet.Empty);

    /// <summary>The sockets of this namespace in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator To(string room) => All.To(room);

    /// <summary>The sockets of this namespace in any of <paramref name="rooms"/>.</summary>
    /// <param name="rooms">Room names.</param>
    public BroadcastOperator To(IEnumerable<string> rooms) => All.To(rooms);

    /// <summary>The same as <see cref="To(string)"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Every socket of this namespace but those in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator Except(string room) => All.Except(room);

    /// <summary>Every socket of this namespace, with Node's <c>volatile</c> flag.</summary>
    public BroadcastOperator Volatile => All.Volatile;

    /// <summary>Every socket of this namespace, with Node's <c>compress</c> flag.</summary>
    /// <param name="compress">False: send uncompressed.</param>
    public BroadcastOperator Compress(bool compress) => All.Compress(compress);

    /// <summary>Every socket of this namespace on this node only (Node's <c>local</c>).</summary>
    public BroadcastOperator Local => All.Local;

    /// <summary>Every socket of this namespace, acknowledgements awaited at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait.</param>
    public BroadcastOperator Timeout(TimeSpan timeout) => All.Timeout(timeout);

    // ---- emitting and utilities ----

    /// <summary>Emits to every socket of the namespace, on every node.</summary>
    /// <param name="eventName">The event's name.</param>
    /// <param name="args">Its arguments.</param>
    public void Emit(string eventName, params object?[] args) => All.Emit(eventName, args);

    /// <summary>Emits to every socket of the namespace; completes when the cluster adapter has sent it.</summary>
    /// <param name="eventName">The event's name.</param>
    /// <param name="args">Its arguments.</param>
    public ValueTask EmitAsync(string eventName, params object?[] args) => All.EmitAsync(eventName, args);

    /// <summary>Emits a <c>message</c> event to every socket of the namespace (Node's <c>send</c>).</summary>
    /// <param name="args">Its arguments.</param>
    /// <returns>This namespace.</returns>
    public SocketIoNamespace Send(params object?[] args)
    {
        All.Send(args);
        return this;
    }

    /// <summary>The same as <see cref="Send"/> (Node's <c>write</c>).</summary>
    /// <param name="args">Its arguments.</param>
    /// <returns>This namespace.</returns>
    public SocketIoNamespace Write(params object?[] args) => Send(args);

    /// <summary>Every socket of the namespace, on every node (Node's <c>fetchSockets</c>).</summary>
    public ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync() => All.FetchSocketsAsync();

    /// <summary>Makes every socket of the namespace join <paramref name="rooms"/> (Node's <c>socketsJoin</c>).</summary>
    /// <param name="rooms">Room names.</param>
    public void SocketsJoin(params string[] rooms) => All.SocketsJoin(rooms);

    /// <summary>Makes every socket of the namespace leave <paramref name="rooms"/> (Node's <c>socketsLeave</c>).</summary>
    /// <param name="rooms">Room names.</param>
    public void SocketsLeave(params string[] rooms) => All.SocketsLeave(rooms);

    /// <summary>Disconnects every socket of the namespace (Node's <c>disconnectSockets</c>).</summary>
    /// <param name="close">Also close their connections.</param>
    public void DisconnectSockets(bool close = false) => All.DisconnectSockets(close);

    /// <summary>
    /// Sends an event to this namespace on every other server of the cluster (Node's <c>serverSideEmit</c>); they
    /// handle it with <see cref="On"/>. With one server, nothing is sent.
    /// </summary>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="args">Its arguments.</param>
    public void ServerSideEmit(string eventName, params object?[] args)
    {
        ReservedEvents.ThrowIfReserved(eventName);
        Observe(Adapter.ServerSideEmitAsync(eventName, args, null));
    }

    /// <summary>
    /// <see cref="ServerSideEmit"/> and waits for every other server's answer (Node's <c>serverSideEmitWithAck</c>):
    /// one per server; with one server, none. The adapter bounds the wait (<see cref="AckTimeoutException"/> with
    /// the answers so far).
    /// </summary>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="args">Its arguments.</param>
    public async Task<IReadOnlyList<JsonNode?>> ServerSideEmitWithAckAsync(string eventName, params object?[] args)
    {
        ReservedEvents.ThrowIfReserved(eventName);
        var ack = new ServerSideAck();
        await Adapter.ServerSideEmitAsync(eventName, args, ack).ConfigureAwait(false);
        return await ack.Task.ConfigureAwait(false);
    }

    // ---- delivery ----

    void ILocalDelivery.Deliver(IEnumerable<string> socketIds, EncodedPacket packet)
    {
        if (packet.RecoverySeq != 0)
        {
            DeliverKept(socketIds, packet);
            return;
        }
        if (socketIds is List<string> list)
        {
            // The in-memory adapter's own list: no enumerator to allocate.
            foreach (var id in list)
            {
                DeliverTo(id, packet);
            }
            return;
        }
        foreach (var id in socketIds)
        {
            DeliverTo(id, packet);
        }
    }

    void ILocalDelivery.Deliver(IEnumerable<string> socketIds, EncodedPacket packet, BroadcastFlags flags)
    {
        foreach (var id in socketIds)
        {
            if (_sockets.TryGetValue(id, out var socket))
            {
                if (packet.RecoverySeq != 0)
                {
                    socket.LastSeq = packet.RecoverySeq;
                }
                socket.SendPacket(packet, flags);
            }
        }
    }

    private void DeliverTo(string id, EncodedPacket packet)
    {
        if (_sockets.TryGetValue(id, out var socket))
        {
            socket.SendBroadcast(packet);
        }
    }

    /// <summary>Connection state recovery: a kept event, and the offset of the last one each socket was sent.</summary>
    private void DeliverKept(IEnumerable<string> socketIds, EncodedPacket packet)
    {
        foreach (var id in socketIds)
        {
            if (_sockets.TryGetValue(id, out var socket))
            {
                socket.LastSeq = packet.RecoverySeq;
                socket.SendBroadcast(packet);
            }
        }
    }

    // ---- connections ----

    internal Task RunMiddlewareAsync(SocketIoSocket socket)
    {
        Func<SocketIoSocket, Task>[] chain;
        lock (_middleware)
        {
            if (_middleware.Count == 0)
            {
                return Task.CompletedTask;
            }
            chain = [.. _middleware];
        }
        return RunAsync(chain, socket);

        static async Task RunAsync(Func<SocketIoSocket, Task>[] chain, SocketIoSocket socket)
        {
            foreach (var middleware in chain)
            {
                await middleware(socket).ConfigureAwait(false);
            }
        }
    }

    internal void AddSocket(SocketIoSocket socket)
    {
        Register(socket, [socket.Id]);
        Announce(socket);
    }

    /// <summary>The socket receives from now on: in the namespace's sockets and in <paramref name="rooms"/>.</summary>
    internal void Register(SocketIoSocket socket, IReadOnlyCollection<string> rooms)
    {
        _sockets[socket.Id] = socket;
        Observe(Adapter.AddAllAsync(socket.Id, rooms));
    }

    /// <summary>The connection handlers run.</summary>
    internal void Announce(SocketIoSocket socket)
    {
        Server.RaiseSocketConnected(socket);
        Action<SocketIoSocket>[] handlers;
        lock (_onConnection)
        {
            handlers = [.. _onConnection];
        }
        foreach (var handler in handlers)
        {
            try
            {
                handler(socket);
            }
            catch (Exception ex)
            {
                Server.LogHandlerError(ex, socket.Id, "connection");
            }
        }
    }

    internal void RemoveSocket(SocketIoSocket socket)
    {
        // Also for a socket that never got in (refused by a middleware): a child left empty goes, as in Node.
        _sockets.TryRemove(new KeyValuePair<string, SocketIoSocket>(socket.Id, socket));
        if (_sockets.IsEmpty && Parent is not null)
        {
            Server.OnChildEmptied(this);
        }
    }

    // ---- parent namespaces ----

    /// <summary>
    /// A child for <paramref name="name"/>: the parent's middlewares and connection handlers as they are now
    /// (Node copies them at creation), and the parent's broadcasts reach it.
    /// </summary>
    internal SocketIoNamespace CreateChild(string name, IRoomAdapterFactory adapters)
    {
        var child = new SocketIoNamespace(Server, name, adapters) { Parent = this };
        lock (_middleware)
        {
            child._middleware.AddRange(_middleware);
        }
        lock (_onConnection)
        {
            child._onConnection.AddRange(_onConnection);
        }
        lock (_children!)
        {
            _children.Add(child);
        }
        return child;
    }

    internal void RemoveChild(SocketIoNamespace child)
    {
        lock (_children!)
        {
            _children.Remove(child);
        }
    }

    /// <summary>Logs an adapter failure of a call nobody awaits.</summary>
    internal void Observe(ValueTask pending)
    {
        if (pending.IsCompletedSuccessfully)
        {
            return;
        }
        _ = ObserveAsync(pending);

        async Task ObserveAsync(ValueTask task)
        {
            try
            {
                await task;
            }
            catch (Exception ex)
            {
                Server.LogAdapterError(ex, Name);
            }
        }
    }
}
