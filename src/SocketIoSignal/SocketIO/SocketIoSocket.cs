using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO;

/// <summary>One client's presence in one namespace: its events, its rooms, its emits.</summary>
public sealed class SocketIoSocket : EngineIO.EngineIoSession.IEndOfTurn
{
    private readonly SocketIoClient _client;

    internal SocketIoClient Client => _client;
    /// <summary>
    /// Handlers by event name, null before the first: a socket has a few events, so one small array searched in
    /// order costs less per connection than a dictionary. The array and each handler list are replaced under
    /// <see cref="_listenersGate"/>, never changed, so an event reads them without a lock or a copy.
    /// </summary>
    private volatile HandlerEntry[]? _handlers;
    /// <summary>Acknowledgements awaited, made on the first (most sockets never wait for one).</summary>
    private ConcurrentDictionary<long, IAckReceiver>? _acks;
    // Disconnect and error handlers: null when there are none; each array is replaced, never changed.
    private volatile Action<DisconnectReason>[]? _onDisconnecting;
    private volatile Action<DisconnectReason>[]? _onDisconnect;
    private volatile Action<Exception>[]? _onError;
    private readonly object _dispatchGate = new();
    // Registration only; not the dispatch gate, under which handlers run.
    private readonly object _listenersGate = new();

    /// <summary>An event's handlers: the handler itself when there is one (the common case: no array), else an array of them.</summary>
    private readonly record struct HandlerEntry(string Name, object Handlers);
    private Task _tail = Task.CompletedTask;
    /// <summary>Pending (the namespace middlewares run), connected, or closed for good; see the constants below.</summary>
    private int _state;
    private const int StatePending = 0;
    private const int StateConnected = 1;
    private const int StateClosed = 2;

    // Catch-all listeners and packet middlewares: null when there are none (the common case costs a null check);
    // each array is replaced, never changed.
    private volatile Action<SocketIoEvent>[]? _anyListeners;
    private volatile Action<string, IReadOnlyList<object?>>[]? _anyOutgoing;
    private volatile Func<SocketIoEvent, Task>[]? _middlewares;

    // Events that arrive before the connection handlers ran (they can, when a middleware completed asynchronously)
    // wait here, in order.
    private volatile bool _ready;
    private List<SocketIoPacket>? _early;

    internal SocketIoSocket(SocketIoClient client, SocketIoNamespace nsp, string id, SocketIoHandshake handshake)
    {
        _client = client;
        Namespace = nsp;
        Id = id;
        Handshake = handshake;
    }

    /// <summary>The socket's id, unique per namespace connection (also the name of its own room).</summary>
    public string Id { get; }

    /// <summary>The namespace the socket is in.</summary>
    public SocketIoNamespace Namespace { get; }

    /// <summary>What the server knew of the client when it connected (Node's <c>socket.handshake</c>).</summary>
    public SocketIoHandshake Handshake { get; }

    /// <summary>
    /// Whether the socket is connected to its namespace: false while the namespace middlewares run (as Node), true
    /// from the connection handlers on, false again once it left.
    /// </summary>
    public bool Connected => System.Threading.Volatile.Read(ref _state) == StateConnected;

    /// <summary>The socket left its namespace, or was refused or abandoned before it joined: nothing joins it to a room any more.</summary>
    internal bool IsClosed => System.Threading.Volatile.Read(ref _state) == StateClosed;

    /// <summary>The middlewares passed: the socket counts as connected from now on (Node's <c>_onconnect</c>).</summary>
    internal void MarkConnected() => Interlocked.CompareExchange(ref _state, StateConnected, StatePending);

    /// <summary>
    /// The socket never got connected (a middleware refused it, or its client went away meanwhile): it leaves the rooms a
    /// middleware joined and joins none later (Node's <c>_cleanup</c>); no disconnect handlers, as it never connected.
    /// </summary>
    internal void Cleanup()
    {
        if (Interlocked.CompareExchange(ref _state, StateClosed, StatePending) != StatePending)
        {
            return;
        }
        Namespace.Observe(Namespace.Adapter.DeleteAllAsync(Id));
        Namespace.RemoveSocket(this);
    }

    /// <summary>Whether the socket has left its namespace (Node's <c>socket.disconnected</c>).</summary>
    public bool Disconnected => !Connected;

    /// <summary>Socket.IO protocol version of the client: 4 (clients 1.x/2.x) or 5 (3.x/4.x).</summary>
    public int Protocol => _client.Protocol;

    /// <summary>The Engine.IO connection under this socket: transport, its events, Close (Node's <c>socket.conn</c>).</summary>
    public EngineIO.EngineConnection Conn => EngineIO.EngineConnection.Of(_client.Session);

    /// <summary>
    /// The application's data about this socket (Node's <c>socket.data</c>): any value System.Text.Json serializes.
    /// It travels with <see cref="SocketIoNamespace.FetchSocketsAsync"/> and is kept across a connection state recovery.
    /// </summary>
    public object? Data { get; set; }

    /// <summary>
    /// Whether this socket is a recovered one (Node's <c>socket.recovered</c>): the same id, rooms and
    /// <see cref="Data"/> as before a transport drop, and the events missed meanwhile already sent.
    /// </summary>
    public bool Recovered { get; private set; }

    // ---- connection state recovery (SocketIO/Recovery) ----

    /// <summary>The private session id a protocol 5 client shows to recover; null when recovery is off.</summary>
    internal string? Pid { get; set; }

    /// <summary>The offset of the last kept event sent to this socket (written under the store's lock).</summary>
    internal long LastSeq { get; set; }

    internal void Restore(Recovery.KeptSession session)
    {
        Pid = session.Pid;
        Data = session.Data;
        Recovered = true;
    }

    /// <summary>The rooms the socket is in, its own room (named by its id) included.</summary>
    public IReadOnlyCollection<string> Rooms => Namespace.Adapter.RoomsOf(Id);

    /// <summary>Every other socket of the namespace (Node's <c>socket.broadcast</c>).</summary>
    public BroadcastOperator Broadcast => Namespace.Except(Id);

    /// <summary>Acknowledgements this socket still waits for (for tests and counters).</summary>
    internal int PendingAcks => System.Threading.Volatile.Read(ref _acks)?.Count ?? 0;

    // ---- handlers ----

    /// <summary>Handles the client's event <paramref name="eventName"/>; handlers run in arrival order.</summary>
    /// <param name="eventName">The event's name (not a reserved one such as <c>connect</c>).</param>
    /// <param name="handler">Runs for each event; an exception is logged and fails this event alone.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket On(string eventName, Action<SocketIoEvent> handler) =>
        On(eventName, e =>
        {
            handler(e);
            return Task.CompletedTask;
        });

    /// <summary>Handles the client's event with an async handler; the next event waits until it completes.</summary>
    /// <param name="eventName">The event's name (not a reserved one such as <c>connect</c>).</param>
    /// <param name="handler">Runs for each event; an exception is logged and fails this event alone.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket On(string eventName, Func<SocketIoEvent, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        lock (_listenersGate)
        {
            var entries = _handlers ?? [];
            int at = IndexOf(entries, eventName);
            if (at < 0)
            {
                _handlers = [.. entries, new HandlerEntry(eventName, handler)];
            }
            else
            {
                var copy = (HandlerEntry[])entries.Clone();
                Func<SocketIoEvent, Task>[] more = [.. Listed(entries[at].Handlers), handler];
                copy[at] = new HandlerEntry(eventName, more);
                _handlers = copy;
            }
        }
        return this;
    }

    private static int IndexOf(HandlerEntry[] entries, string eventName)
    {
        for (int i = 0; i < entries.Length; i++)
        {
            if (string.Equals(entries[i].Name, eventName, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    private static Func<SocketIoEvent, Task>[] Listed(object handlers) =>
        handlers as Func<SocketIoEvent, Task>[] ?? [(Func<SocketIoEvent, Task>)handlers];

    /// <summary>The handlers of <paramref name="eventName"/> (one, or an array), or null when it has none.</summary>
    private object? HandlersOf(string eventName)
    {
        var entries = _handlers;
        if (entries is null)
        {
            return null;
        }
        int at = IndexOf(entries, eventName);
        return at < 0 ? null : entries[at].Handlers;
    }

    /// <summary>The handlers' lists for each event, in registration order of the events (for tests).</summary>
    internal IReadOnlyList<(string Name, Func<SocketIoEvent, Task>[] Handlers)> HandlerLists() =>
        [.. (_handlers ?? []).Select(e => (e.Name, Listed(e.Handlers)))];

    /// <summary>Runs when the socket is leaving, while it is still in its rooms (Node's <c>disconnecting</c>).</summary>
    /// <param name="handler">Gets the reason.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket OnDisconnecting(Action<DisconnectReason> handler)
    {
        lock (_listenersGate)
        {
            _onDisconnecting = [.. _onDisconnecting ?? [], handler];
        }
        return this;
    }

    /// <summary>Runs when the socket has left, after its rooms are cleared (Node's <c>disconnect</c>).</summary>
    /// <param name="handler">Gets the reason.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket OnDisconnect(Action<DisconnectReason> handler)
    {
        lock (_listenersGate)
        {
            _onDisconnect = [.. _onDisconnect ?? [], handler];
        }
        return this;
    }

    /// <summary>
    /// Runs when a packet middleware (<see cref="Use(Func{SocketIoEvent, Task})"/>) refused an event (Node's
    /// <c>socket.on("error")</c>); the handler gets the middleware's error. The socket stays connected. Also when the
    /// client sent a packet that cannot be decoded (an <see cref="System.IO.InvalidDataException"/> saying why, as
    /// Node's "Illegal attachments"), just before the connection is closed.
    /// </summary>
    /// <param name="handler">Gets the error.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket OnError(Action<Exception> handler)
    {
        lock (_listenersGate)
        {
            _onError = [.. _onError ?? [], handler];
        }
        return this;
    }

    // ---- catch-all listeners ----

    /// <summary>Runs for every event the client sends, whatever its name, before the packet middlewares (Node's <c>onAny</c>).</summary>
    /// <param name="listener">Gets the event; an exception is logged.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket OnAny(Action<SocketIoEvent> listener)
    {
        lock (_listenersGate)
        {
            _anyListeners = [.. _anyListeners ?? [], listener];
        }
        return this;
    }

    /// <summary>As <see cref="OnAny"/>, the listener first (Node's <c>prependAny</c>).</summary>
    /// <param name="listener">Gets the event.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket PrependAny(Action<SocketIoEvent> listener)
    {
        lock (_listenersGate)
        {
            _anyListeners = [listener, .. _anyListeners ?? []];
        }
        return this;
    }

    /// <summary>Removes a catch-all listener; without one, all of them (Node's <c>offAny</c>).</summary>
    /// <param name="listener">The listener to remove, or null for all.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket OffAny(Action<SocketIoEvent>? listener = null)
    {
        lock (_listenersGate)
        {
            _anyListeners = Without(_anyListeners, listener);
        }
        return this;
    }

    /// <summary>The catch-all listeners (Node's <c>listenersAny</c>).</summary>
    public IReadOnlyList<Action<SocketIoEvent>> ListenersAny() => _anyListeners ?? [];

    /// <summary>
    /// Runs for every event sent to the client, emitted or broadcast, with its name and arguments as the server gave
    /// them (Node's <c>onAnyOutgoing</c>).
    /// </summary>
    /// <param name="listener">Gets the event's name and arguments; an exception is logged.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket OnAnyOutgoing(Action<string, IReadOnlyList<object?>> listener)
    {
        lock (_listenersGate)
        {
            _anyOutgoing = [.. _anyOutgoing ?? [], listener];
        }
        return this;
    }

    /// <summary>As <see cref="OnAnyOutgoing"/>, the listener first (Node's <c>prependAnyOutgoing</c>).</summary>
    /// <param name="listener">Gets the event's name and arguments.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket PrependAnyOutgoing(Action<string, IReadOnlyList<object?>> listener)
    {
        lock (_listenersGate)
        {
            _anyOutgoing = [listener, .. _anyOutgoing ?? []];
        }
        return this;
    }

    /// <summary>Removes an outgoing catch-all listener; without one, all of them (Node's <c>offAnyOutgoing</c>).</summary>
    /// <param name="listener">The listener to remove, or null for all.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket OffAnyOutgoing(Action<string, IReadOnlyList<object?>>? listener = null)
    {
        lock (_listenersGate)
        {
            _anyOutgoing = Without(_anyOutgoing, listener);
        }
        return this;
    }

    /// <summary>The outgoing catch-all listeners (Node's <c>listenersAnyOutgoing</c>).</summary>
    public IReadOnlyList<Action<string, IReadOnlyList<object?>>> ListenersAnyOutgoing() => _anyOutgoing ?? [];

    private static T[]? Without<T>(T[]? listeners, T? listener) where T : class
    {
        if (listeners is null || listener is null)
        {
            return null;
        }
        int at = Array.IndexOf(listeners, listener);
        if (at < 0)
        {
            return listeners;
        }
        T[] rest = [.. listeners[..at], .. listeners[(at + 1)..]];
        return rest.Length == 0 ? null : rest;
    }

    // ---- packet middleware ----

    /// <summary>
    /// Adds a middleware run for each event the client sends, before its handlers (Node's <c>socket.use</c>): it may
    /// read the event, change its <see cref="SocketIoEvent.Name"/> or <see cref="SocketIoEvent.Args"/>, or refuse it
    /// by throwing — the event then reaches no handler and <see cref="OnError"/> handlers get the exception.
    /// </summary>
    /// <param name="middleware">Runs for each event, in the order added; the next runs when its task completes.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket Use(Func<SocketIoEvent, Task> middleware)
    {
        lock (_listenersGate)
        {
            _middlewares = [.. _middlewares ?? [], middleware];
        }
        return this;
    }

    /// <summary>
    /// Node's form of <see cref="Use(Func{SocketIoEvent, Task})"/>: the middleware calls <c>next()</c> to pass the
    /// event on, or <c>next(error)</c> to refuse it; an event whose middleware never calls <c>next</c> goes nowhere.
    /// </summary>
    /// <param name="middleware">Gets the event and <c>next</c>.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket Use(Action<SocketIoEvent, Action<Exception?>> middleware) => Use(evt =>
    {
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        middleware(evt, error =>
        {
            if (error is null)
            {
                next.TrySetResult();
            }
            else
            {
                next.TrySetException(error);
            }
        });
        return next.Task;
    });

    // ---- emitting ----

    /// <summary>Emits an event to this socket's client; false (and nothing sent) once the socket has left its namespace.</summary>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="args">Its arguments: anything System.Text.Json serializes; byte arrays go as binary attachments.</param>
    public bool Emit(string eventName, params object?[] args) => Emit(default, eventName, args);

    /// <summary>
    /// Emits an event and waits for the client's acknowledgement: its first argument (Node's <c>emitWithAck</c>).
    /// Without <see cref="Timeout"/> it waits until the client answers or the socket disconnects
    /// (<see cref="InvalidOperationException"/>); at most <see cref="SocketIoOptions.MaxPendingAcks"/> wait at once.
    /// </summary>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="args">Its arguments.</param>
    public Task<JsonNode?> EmitWithAckAsync(string eventName, params object?[] args) => EmitWithAckAsync(default, eventName, args);

    /// <summary>
    /// Emits an event and waits for the client's acknowledgement, at most <paramref name="timeout"/>: every argument
    /// of the answer (as Node's callback form <c>socket.timeout(ms).emit(ev, …, (err, ...args) =&gt; …)</c>).
    /// </summary>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="timeout">How long to wait; past it, <see cref="AckTimeoutException"/>.</param>
    /// <param name="args">Its arguments.</param>
    public async Task<IReadOnlyList<JsonNode?>> EmitWithAckAsync(string eventName, TimeSpan timeout, params object?[] args)
    {
        var flags = new BroadcastFlags(Volatile: false, NoCompress: false, Local: false, Timeout: timeout);
        var answer = await SendWithAckAsync(flags, eventName, args, all: true).ConfigureAwait(false);
        return (IReadOnlyList<JsonNode?>)answer!;
    }

    /// <summary>
    /// The next emit waits at most <paramref name="timeout"/> for its acknowledgement, then fails with
    /// <see cref="AckTimeoutException"/> (Node's <c>socket.timeout(ms)</c>).
    /// </summary>
    /// <param name="timeout">How long to wait.</param>
    public SocketEmitter Timeout(TimeSpan timeout) => new SocketEmitter(this, default).Timeout(timeout);

    /// <summary>The next emit is dropped if the transport cannot take it now (Node's <c>socket.volatile</c>).</summary>
    public SocketEmitter Volatile => new(this, new BroadcastFlags(Volatile: true, NoCompress: false, Local: false, Timeout: null));

    /// <summary>Whether the next emit may be compressed (Node's <c>socket.compress(bool)</c>; true by default).</summary>
    /// <param name="compress">False: send it uncompressed.</param>
    public SocketEmitter Compress(bool compress) => new SocketEmitter(this, default).Compress(compress);

    /// <summary>A broadcast from this socket reaches this node only (Node's <c>socket.local</c>).</summary>
    public SocketEmitter Local => new(this, new BroadcastFlags(Volatile: false, NoCompress: false, Local: true, Timeout: null));

    internal bool Emit(BroadcastFlags flags, string eventName, object?[] args)
    {
        ReservedEvents.ThrowIfReserved(eventName);
        if (Namespace.Recovery is { } recovery && !flags.Volatile && (Pid is not null || !IsClosed))
        {
            return EmitKept(recovery, flags, eventName, args);
        }
        if (IsClosed)
        {
            return false;
        }
        Namespace.Server.RaiseEventSent(this, eventName, args);
        var packet = SocketIoEncoder.EncodeEvent(Namespace.Name, eventName, args);
        if (_anyOutgoing is null && !flags.AffectsDelivery)
        {
            return _client.Send(packet);
        }
        packet.EventName = eventName;
        packet.EventArgs = args;
        return SendPacket(packet, flags);
    }

    /// <summary>An emit with recovery on; a method of its own so the plain emit allocates no closure.</summary>
    private bool EmitKept(Recovery.SessionStore recovery, BroadcastFlags flags, string eventName, object?[] args)
    {
        if (recovery.Cluster is { } cluster)
        {
            // As Node's emit with recovery on: through the adapter, to the socket's own room, where the cluster
            // keeps it for a recovery on any node.
            Namespace.Observe(recovery.EmitThroughCluster(cluster, eventName, args, new Adapter.BroadcastTarget(Adapter.RoomSet.With(Adapter.RoomSet.Empty, Id), Adapter.RoomSet.Empty)));
            return true;
        }
        // Connection state recovery: kept, with its offset, as Node's emit through the adapter to the socket's
        // room (a volatile one is not kept). Also once the socket's transport has dropped: the event waits for the
        // session's return.
        Namespace.Server.RaiseEventSent(this, eventName, args);
        return recovery.Emit(eventName, args, new Adapter.BroadcastTarget(Adapter.RoomSet.With(Adapter.RoomSet.Empty, Id), Adapter.RoomSet.Empty), p =>
        {
            // Counts as the socket's even when not sent: a session kept from here on collects it, being its last.
            LastSeq = p.RecoverySeq;
            if (IsClosed)
            {
                return false;
            }
            p.EventName = eventName;
            p.EventArgs = args;
            return SendPacket(p, flags);
        });
    }

    internal async Task<JsonNode?> EmitWithAckAsync(BroadcastFlags flags, string eventName, object?[] args) =>
        (JsonNode?)await SendWithAckAsync(flags, eventName, args, all: false).ConfigureAwait(false);

    /// <summary>Emits with an ack id and waits for the answer: its first argument, or with <paramref name="all"/> the list of them.</summary>
    private async Task<object?> SendWithAckAsync(BroadcastFlags flags, string eventName, object?[] args, bool all)
    {
        ReservedEvents.ThrowIfReserved(eventName);
        long id = Namespace.NextAckId();
        var ack = new SocketAck(all);
        if (!TryRegisterAck(id, ack))
        {
            throw new InvalidOperationException(!IsClosed ? "too many acknowledgements pending on this socket" : "the socket is disconnected");
        }
        try
        {
            Namespace.Server.RaiseEventSent(this, eventName, args);
            var packet = SocketIoEncoder.EncodeEvent(Namespace.Name, eventName, args, id);
            packet.EventName = eventName;
            packet.EventArgs = args;
            if (!SendPacket(packet, flags) && IsClosed)
            {
                throw new InvalidOperationException("the socket is disconnected");
            }
            if (flags.Timeout is not { } timeout)
            {
                return await ack.Task.ConfigureAwait(false);
            }
            try
            {
                return await ack.Task.WaitAsync(timeout, Namespace.Server.Time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new AckTimeoutException([]);
            }
        }
        finally
        {
            ForgetAck(id, ack);
        }
    }

    /// <summary>
    /// Sends a packet to the client with Node's flags: dropped when volatile and the transport cannot take it now;
    /// outgoing catch-all listeners see it. Every emit and broadcast to this socket ends here.
    /// </summary>
    internal bool SendPacket(EncodedPacket packet, BroadcastFlags flags)
    {
        if (flags.Volatile && !_client.Session.Writable)
        {
            return true;
        }
        if (_anyOutgoing is { } listeners && packet.EventName is { } name)
        {
            NotifyOutgoing(listeners, name, packet.EventArgs ?? []);
        }
        return packet.SendTo(_client.Session, flags.Compress);
    }

    /// <summary>A broadcast without flags reaches this socket: the relay's path.</summary>
    internal void SendBroadcast(EncodedPacket packet)
    {
        if (_anyOutgoing is { } listeners && packet.EventName is { } name)
        {
            NotifyOutgoing(listeners, name, packet.EventArgs ?? []);
        }
        packet.SendTo(_client.Session);
    }

    private void NotifyOutgoing(Action<string, IReadOnlyList<object?>>[] listeners, string eventName, IReadOnlyList<object?> args)
    {
        foreach (var listener in listeners)
        {
            try
            {
                listener(eventName, args);
            }
            catch (Exception ex)
            {
                Namespace.Server.LogHandlerError(ex, Id, eventName);
            }
        }
    }

    /// <summary>Emits a <c>message</c> event to the client (Node's <c>socket.send</c>).</summary>
    /// <param name="args">Its arguments.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket Send(params object?[] args)
    {
        Emit("message", args);
        return this;
    }

    /// <summary>The same as <see cref="Send"/> (Node's <c>socket.write</c>).</summary>
    /// <param name="args">Its arguments.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket Write(params object?[] args) => Send(args);

    /// <summary>Every other socket in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator To(string room) => Broadcast.To(room);

    /// <summary>Every other socket in any of <paramref name="rooms"/>.</summary>
    /// <param name="rooms">Room names.</param>
    public BroadcastOperator To(IEnumerable<string> rooms) => Broadcast.To(rooms);

    /// <summary>The same as <see cref="To(string)"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Every other socket but those in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator Except(string room) => Broadcast.Except(room);

    // ---- rooms ----

    /// <summary>Joins <paramref name="room"/> (completes in the background with a cluster adapter).</summary>
    /// <param name="room">A room name.</param>
    public void Join(string room) => Namespace.Observe(JoinAsync(room));

    /// <summary>Joins every room of <paramref name="rooms"/> (Node's <c>socket.join([...])</c>).</summary>
    /// <param name="rooms">Room names.</param>
    public void Join(IEnumerable<string> rooms)
    {
        if (!IsClosed)
        {
            Namespace.Observe(Namespace.Adapter.AddAllAsync(Id, [.. rooms]));
        }
    }

    /// <summary>Joins <paramref name="room"/>; completes when every node knows.</summary>
    /// <param name="room">A room name.</param>
    /// <remarks>Once the socket has left (or was refused by a middleware), joining does nothing, as in Node.</remarks>
    public ValueTask JoinAsync(string room) => IsClosed ? ValueTask.CompletedTask : Namespace.Adapter.AddAllAsync(Id, [room]);

    /// <summary>Leaves <paramref name="room"/> (completes in the background with a cluster adapter).</summary>
    /// <param name="room">A room name.</param>
    public void Leave(string room) => Namespace.Observe(LeaveAsync(room));

    /// <summary>Leaves <paramref name="room"/>; completes when every node knows.</summary>
    /// <param name="room">A room name.</param>
    public ValueTask LeaveAsync(string room) => Namespace.Adapter.DeleteAsync(Id, room);

    /// <summary>Leaves the namespace; with <paramref name="close"/>, closes the whole connection.</summary>
    public void Disconnect(bool close = false)
    {
        if (!Connected)
        {
            return;
        }
        if (close)
        {
            _client.DisconnectAll();
            return;
        }
        _client.Send(SocketIoEncoder.EncodeDisconnect(Namespace.Name));
        _client.Remove(this);
        OnClose(DisconnectReason.ServerNamespaceDisconnect);
    }

    // ---- acknowledgements ----

    /// <summary>Waits for the client's answer to <paramref name="id"/>; false when disconnected or at the cap.</summary>
    private bool TryRegisterAck(long id, IAckReceiver receiver)
    {
        if (IsClosed)
        {
            return false;
        }
        var acks = LazyInitializer.EnsureInitialized(ref _acks, static () => new(1, 1));
        if (acks.Count >= Namespace.Server.Options.MaxPendingAcks || !acks.TryAdd(id, receiver))
        {
            return false;
        }
        Namespace.Server.Metrics.AckPending(1);
        if (IsClosed)
        {
            // The socket closed while the ack was being added: take it back (OnClose may already have).
            ForgetAck(id, receiver);
            return false;
        }
        return true;
    }

    /// <summary>This socket's client is to answer a broadcast's acknowledgement.</summary>
    internal bool TryAwaitAck(BroadcastAck ack)
    {
        if (!ack.Track(this))
        {
            return false;
        }
        return TryRegisterAck(ack.Id, ack);
    }

    /// <summary>No longer waits for <paramref name="id"/>, if <paramref name="receiver"/> still does.</summary>
    internal void ForgetAck(long id, IAckReceiver receiver)
    {
        if (System.Threading.Volatile.Read(ref _acks) is { } acks && acks.TryRemove(new KeyValuePair<long, IAckReceiver>(id, receiver)))
        {
            Namespace.Server.Metrics.AckPending(-1);
        }
    }

    // ---- from the client ----

    /// <summary>The connection handlers ran: events that arrived meanwhile are handled now, in order.</summary>
    internal void MarkReady()
    {
        while (true)
        {
            List<SocketIoPacket>? early;
            lock (_dispatchGate)
            {
                early = _early;
                _early = null;
                if (early is null)
                {
                    _ready = true;
                    return;
                }
            }
            foreach (var packet in early)
            {
                Handle(packet);
            }
        }
    }

    /// <summary>An EVENT or ACK packet for this socket.</summary>
    internal void OnPacket(SocketIoPacket packet)
    {
        if (!_ready)
        {
            lock (_dispatchGate)
            {
                if (!_ready)
                {
                    (_early ??= []).Add(packet);
                    return;
                }
            }
        }
        Handle(packet);
    }

    private void Handle(SocketIoPacket packet)
    {
        if (packet.Type is SocketIoPacketType.Event or SocketIoPacketType.BinaryEvent)
        {
            OnEvent(packet);
        }
        else
        {
            OnAck(packet);
        }
    }

    /// <summary>A method of its own: a closure over the id made where it is declared would be made for every event.</summary>
    private Action<IReadOnlyList<object?>> AckFor(long id) => a => _client.Send(SocketIoEncoder.EncodeAck(Namespace.Name, id, a));

    private void OnEvent(SocketIoPacket packet)
    {
        // Binary events carry their attachments in the tree; the others keep the client's JSON text until a
        // handler asks for trees.
        var array = packet.IsBinary || packet.Elements is null ? (JsonArray)packet.Data! : null;
        string name = packet.EventName ?? NameOf(array![0]!);
        bool observed = Namespace.Server.ObservesEvents;
        var any = _anyListeners;
        var middlewares = _middlewares;
        var handlers = HandlersOf(name);
        if (handlers is null && !observed && any is null && middlewares is null)
        {
            return;
        }
        var ack = packet.AckId is { } id ? AckFor(id) : null;
        SocketIoEvent evt;
        if (array is null)
        {
            evt = new SocketIoEvent(this, name, packet.RawData, packet.Elements!, packet.MaxJsonDepth, ack);
        }
        else
        {
            var args = new JsonNode?[array.Count - 1];
            for (int i = 1; i < array.Count; i++)
            {
                args[i - 1] = array[i];
            }
            // Detach the arguments so handlers may put them into trees of their own.
            array.Clear();
            evt = new SocketIoEvent(this, name, args, ack);
        }
        if (observed)
        {
            Namespace.Server.RaiseEventReceived(evt);
        }
        if (any is not null)
        {
            foreach (var listener in any)
            {
                try
                {
                    listener(evt);
                }
                catch (Exception ex)
                {
                    Namespace.Server.LogHandlerError(ex, Id, name);
                }
            }
        }
        if (middlewares is not null)
        {
            RunMiddlewares(middlewares, evt);
            return;
        }
        if (handlers is not null)
        {
            Dispatch(handlers, evt);
        }
    }

    private static string NameOf(JsonNode name) =>
        name.GetValueKind() == JsonValueKind.String ? name.GetValue<string>() : name.ToJsonString();

    private void RunMiddlewares(Func<SocketIoEvent, Task>[] middlewares, SocketIoEvent evt)
    {
        Task chain;
        try
        {
            chain = middlewares.Length == 1 ? middlewares[0](evt) : RunChainAsync(middlewares, evt);
        }
        catch (Exception ex)
        {
            chain = Task.FromException(ex);
        }
        if (chain.IsCompletedSuccessfully)
        {
            AfterMiddlewares(evt);
            return;
        }
        _ = chain.ContinueWith(static (t, s) =>
        {
            var (socket, e) = ((SocketIoSocket, SocketIoEvent))s!;
            if (t.IsCompletedSuccessfully)
            {
                socket.AfterMiddlewares(e);
            }
            else
            {
                socket.RaiseError(t.Exception?.InnerException ?? new OperationCanceledException());
            }
        }, (this, evt), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        static async Task RunChainAsync(Func<SocketIoEvent, Task>[] chain, SocketIoEvent e)
        {
            foreach (var middleware in chain)
            {
                await middleware(e).ConfigureAwait(false);
            }
        }
    }

    private void AfterMiddlewares(SocketIoEvent evt)
    {
        // As Node: an event whose middlewares finish after the socket left goes nowhere.
        if (!IsClosed && HandlersOf(evt.Name) is { } handlers)
        {
            Dispatch(handlers, evt);
        }
    }

    /// <summary>A packet middleware refused an event, or the client sent what cannot be decoded: the error handlers get it (Node's <c>_onerror</c>).</summary>
    internal void RaiseError(Exception error)
    {
        foreach (var handler in _onError ?? [])
        {
            try
            {
                handler(error);
            }
            catch (Exception ex)
            {
                Namespace.Server.LogHandlerError(ex, Id, "error");
            }
        }
    }

    private void OnAck(SocketIoPacket packet)
    {
        if (System.Threading.Volatile.Read(ref _acks) is { } acks && acks.TryRemove(packet.AckId!.Value, out var receiver))
        {
            Namespace.Server.Metrics.AckPending(-1);
            var array = (JsonArray)packet.Data!;
            JsonNode?[] args = [.. array];
            array.Clear();
            receiver.Answer(args);
        }
    }

    private static async Task RunHandlersAsync(Func<SocketIoEvent, Task>[] handlers, SocketIoEvent evt)
    {
        foreach (var handler in handlers)
        {
            await handler(evt);
        }
    }

    /// <summary>
    /// Runs handlers in arrival order, at the end of the engine's turn (a polling payload, a WebSocket message), as
    /// Node a tick after reading: an event whose socket a later packet of the same read disconnected is ignored.
    /// </summary>
    private void Dispatch(object handlers, SocketIoEvent evt) =>
        EngineIO.EngineIoSession.AtEndOfTurn(this, handlers, evt);

    /// <summary>The end of the turn an event arrived in: its handlers run, unless the socket left meanwhile.</summary>
    void EngineIO.EngineIoSession.IEndOfTurn.RunAtEndOfTurn(object? first, object? second)
    {
        if (Connected)
        {
            DispatchNow(first!, (SocketIoEvent)second!);
        }
    }

    /// <summary>Runs handlers in arrival order: inline when nothing is pending, else after what is.</summary>
    private void DispatchNow(object handlers, SocketIoEvent evt)
    {
        lock (_dispatchGate)
        {
            if (_tail.IsCompleted)
            {
                _tail = Guard(handlers, evt);
            }
            else
            {
                _tail = After(_tail, handlers, evt);
            }
        }
    }

    /// <summary>A method of its own, so the closure is made only when something is pending.</summary>
    private Task After(Task pending, object handlers, SocketIoEvent evt) =>
        pending.ContinueWith(_ => Guard(handlers, evt), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();

    private Task Guard(object handlers, SocketIoEvent evt)
    {
        Task task;
        try
        {
            task = handlers is Func<SocketIoEvent, Task> one ? one(evt) : RunHandlersAsync((Func<SocketIoEvent, Task>[])handlers, evt);
        }
        catch (Exception ex)
        {
            Fail(evt, ex);
            return Task.CompletedTask;
        }
        if (task.IsCompletedSuccessfully)
        {
            return task;
        }
        return Observe(this, task, evt);

        // Static: a local function capturing evt would make its closure on every call.
        static async Task Observe(SocketIoSocket socket, Task t, SocketIoEvent evt)
        {
            try
            {
                await t;
            }
            catch (Exception ex)
            {
                socket.Fail(evt, ex);
            }
        }
    }

    /// <summary>
    /// A handler threw: this event alone fails. Logged once; a client waiting for an acknowledgement gets one
    /// carrying an error instead of waiting for its timeout. Nothing of the exception goes to the client.
    /// </summary>
    private void Fail(SocketIoEvent evt, Exception ex)
    {
        Namespace.Server.LogHandlerError(ex, Id, evt.Name);
        evt.Ack(HandlerFailed);
    }

    private static readonly JsonObject HandlerFailedTemplate = new() { ["error"] = "internal server error" };

    private static JsonNode HandlerFailed => HandlerFailedTemplate.DeepClone();

    /// <summary>Leaves the namespace: disconnecting handlers (rooms still set), rooms cleared, disconnect handlers.</summary>
    internal void OnClose(DisconnectReason reason)
    {
        if (Interlocked.Exchange(ref _state, StateClosed) == StateClosed)
        {
            return;
        }
        Fire(_onDisconnecting, reason);
        if (Namespace.Recovery is { } recovery && KeepsSessionOn(reason))
        {
            recovery.Persist(this, () => Namespace.Observe(Namespace.Adapter.DeleteAllAsync(Id)));
        }
        else
        {
            Namespace.Observe(Namespace.Adapter.DeleteAllAsync(Id));
        }
        Namespace.RemoveSocket(this);
        if (System.Threading.Volatile.Read(ref _acks) is { } acks)
        {
            foreach (var (id, receiver) in acks)
            {
                if (acks.TryRemove(new KeyValuePair<long, IAckReceiver>(id, receiver)))
                {
                    Namespace.Server.Metrics.AckPending(-1);
                    receiver.Abandon();
                }
            }
        }
        lock (_dispatchGate)
        {
            _early = null;
        }
        Fire(_onDisconnect, reason);
    }

    /// <summary>
    /// Whether leaving for <paramref name="reason"/> keeps the session for recovery: recovery on, and one of Node's
    /// recoverable reasons (the transport failed or closed, the heartbeat was missed, the server is going away); not a
    /// deliberate disconnect, nor a connection the server closed for bad input.
    /// </summary>
    internal bool KeepsSessionOn(DisconnectReason reason) => Namespace.Recovery is not null && Pid is not null && reason switch
    {
        DisconnectReason.TransportClose or DisconnectReason.TransportError or DisconnectReason.PingTimeout or DisconnectReason.ServerShuttingDown => true,
        DisconnectReason.ForcedClose => !_client.Failed,
        _ => false,
    };

    private void Fire(Action<DisconnectReason>[]? handlers, DisconnectReason reason)
    {
        foreach (var handler in handlers ?? [])
        {
            try
            {
                handler(reason);
            }
            catch (Exception ex)
            {
                Namespace.Server.LogHandlerError(ex, Id, "disconnect");
            }
        }
    }
}
