using System.Collections.Concurrent;
using SocketIoSignal.EngineIO.Protocol;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.SocketIO.Recovery;

namespace SocketIoSignal.SocketIO;

/// <summary>A namespace: its sockets on this node, its middleware, its connection handlers and its rooms adapter.</summary>
public sealed class SocketIoNamespace : ILocalDelivery
{
    private readonly ConcurrentDictionary<string, SocketIoSocket> _sockets = new(StringComparer.Ordinal);
    private readonly List<Action<SocketIoSocket>> _middleware = [];
    private readonly List<Action<SocketIoSocket>> _onConnection = [];

    internal SocketIoNamespace(SocketIoServer server, string name, IRoomAdapterFactory adapters)
    {
        Server = server;
        Name = name;
        Adapter = adapters.Create(name, this);
        // Connection state recovery: nothing exists (and nothing is checked on the way) unless it is on.
        if (server.Options.ConnectionStateRecovery.Enabled)
        {
            Recovery = new SessionStore(name, server.Options.ConnectionStateRecovery, server.Time);
        }
    }

    /// <summary>Connection state recovery's store; null when recovery is off.</summary>
    internal SessionStore? Recovery { get; }

    /// <summary>The namespace's name, e.g. <c>/</c> or <c>/chat</c>.</summary>
    public string Name { get; }

    /// <summary>The server.</summary>
    public SocketIoServer Server { get; }

    internal IRoomAdapter Adapter { get; }

    /// <summary>Sockets of this namespace connected to this node.</summary>
    public IReadOnlyDictionary<string, SocketIoSocket> Sockets => _sockets;

    IEnumerable<string> ILocalDelivery.LocalSocketIds => _sockets.Keys;

    /// <summary>Adds a middleware run before each connection; it refuses by throwing <see cref="ConnectRejectedException"/>.</summary>
    public SocketIoNamespace Use(Action<SocketIoSocket> middleware)
    {
        lock (_middleware)
        {
            _middleware.Add(middleware);
        }
        return this;
    }

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

    /// <summary>The sockets of this namespace in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator To(string room) => new BroadcastOperator(this, RoomSet.Empty, RoomSet.Empty).To(room);

    /// <summary>The same as <see cref="To"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Every socket of this namespace but those in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator Except(string room) => new BroadcastOperator(this, RoomSet.Empty, RoomSet.Empty).Except(room);

    /// <summary>Emits to every socket of the namespace, on every node.</summary>
    /// <param name="eventName">The event's name.</param>
    /// <param name="args">Its arguments.</param>
    public void Emit(string eventName, params object?[] args) => new BroadcastOperator(this, RoomSet.Empty, RoomSet.Empty).Emit(eventName, args);

    /// <summary>Emits to every socket of the namespace; completes when the cluster adapter has sent it.</summary>
    /// <param name="eventName">The event's name.</param>
    /// <param name="args">Its arguments.</param>
    public ValueTask EmitAsync(string eventName, params object?[] args) => new BroadcastOperator(this, RoomSet.Empty, RoomSet.Empty).EmitAsync(eventName, args);

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

    private void DeliverTo(string id, EncodedPacket packet)
    {
        if (_sockets.TryGetValue(id, out var socket))
        {
            socket.Client.SendFrames(packet.Frames);
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
                socket.Client.SendFrames(packet.Frames);
            }
        }
    }

    internal void RunMiddleware(SocketIoSocket socket)
    {
        Action<SocketIoSocket>[] chain;
        lock (_middleware)
        {
            chain = [.. _middleware];
        }
        foreach (var middleware in chain)
        {
            middleware(socket);
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

    internal void RemoveSocket(SocketIoSocket socket) =>
        _sockets.TryRemove(new KeyValuePair<string, SocketIoSocket>(socket.Id, socket));

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
