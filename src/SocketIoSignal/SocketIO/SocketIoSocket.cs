using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO;

/// <summary>One client's presence in one namespace: its events, its rooms, its emits.</summary>
public sealed class SocketIoSocket
{
    private readonly SocketIoClient _client;

    internal SocketIoClient Client => _client;
    /// <summary>Handlers by event name; each array is replaced, never changed, so an event reads it without a copy.</summary>
    // Sized for a socket (a few events, acks rare), not the defaults (31 buckets, a lock per core): one per connection.
    private readonly ConcurrentDictionary<string, Func<SocketIoEvent, Task>[]> _handlers = new(1, 4, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, TaskCompletionSource<IReadOnlyList<JsonNode?>>> _pendingAcks = new(1, 1);
    private readonly List<Action<DisconnectReason>> _onDisconnecting = [];
    private readonly List<Action<DisconnectReason>> _onDisconnect = [];
    private readonly object _dispatchGate = new();
    private Task _tail = Task.CompletedTask;
    private long _nextAckId;
    private int _closed;

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

    /// <summary>What the server knew of the client when it connected.</summary>
    public SocketIoHandshake Handshake { get; }

    /// <summary>Whether the socket is still connected to its namespace.</summary>
    public bool Connected => Volatile.Read(ref _closed) == 0;

    /// <summary>Socket.IO protocol version of the client: 4 (clients 1.x/2.x) or 5 (3.x/4.x).</summary>
    public int Protocol => _client.Protocol;

    /// <summary>A slot for the application; kept across a connection state recovery.</summary>
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
        _handlers.AddOrUpdate(eventName, static (_, h) => [h], static (_, list, h) => [.. list, h], handler);
        return this;
    }

    /// <summary>Runs when the socket is leaving, while it is still in its rooms (Node's <c>disconnecting</c>).</summary>
    /// <param name="handler">Gets the reason.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket OnDisconnecting(Action<DisconnectReason> handler)
    {
        lock (_onDisconnecting)
        {
            _onDisconnecting.Add(handler);
        }
        return this;
    }

    /// <summary>Runs when the socket has left, after its rooms are cleared (Node's <c>disconnect</c>).</summary>
    /// <param name="handler">Gets the reason.</param>
    /// <returns>This socket.</returns>
    public SocketIoSocket OnDisconnect(Action<DisconnectReason> handler)
    {
        lock (_onDisconnect)
        {
            _onDisconnect.Add(handler);
        }
        return this;
    }

    // ---- emitting ----

    /// <summary>Emits an event to this socket's client; false (and nothing sent) once the socket has left its namespace.</summary>
    public bool Emit(string eventName, params object?[] args)
    {
        ReservedEvents.ThrowIfReserved(eventName);
        if (!Connected)
        {
            return false;
        }
        Namespace.Server.RaiseEventSent(this, eventName, args);
        if (Namespace.Recovery is { } recovery)
        {
            // Connection state recovery: kept, with its offset, as Node's emit through the adapter to the socket's room.
            return recovery.Emit(eventName, args, new Adapter.BroadcastTarget(Adapter.RoomSet.With(Adapter.RoomSet.Empty, Id), Adapter.RoomSet.Empty), p =>
            {
                LastSeq = p.RecoverySeq;
                return _client.Send(p);
            });
        }
        return _client.Send(SocketIoEncoder.EncodeEvent(Namespace.Name, eventName, args));
    }

    /// <summary>Emits an event and waits for the client's acknowledgement, at most <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<JsonNode?>> EmitWithAckAsync(string eventName, TimeSpan timeout, params object?[] args)
    {
        ReservedEvents.ThrowIfReserved(eventName);
        long id = Interlocked.Increment(ref _nextAckId) - 1;
        var tcs = new TaskCompletionSource<IReadOnlyList<JsonNode?>>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingAcks[id] = tcs;
        try
        {
            if (Connected)
            {
                Namespace.Server.RaiseEventSent(this, eventName, args);
            }
            if (!Connected || !_client.Send(SocketIoEncoder.EncodeEvent(Namespace.Name, eventName, args, id)))
            {
                throw new InvalidOperationException("the socket is disconnected");
            }
            return await tcs.Task.WaitAsync(timeout, Namespace.Server.Time);
        }
        finally
        {
            _pendingAcks.TryRemove(id, out _);
        }
    }

    /// <summary>Every other socket in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator To(string room) => Broadcast.To(room);

    /// <summary>The same as <see cref="To"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Every other socket but those in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator Except(string room) => Broadcast.Except(room);

    // ---- rooms ----

    /// <summary>Joins <paramref name="room"/> (completes in the background with a cluster adapter).</summary>
    /// <param name="room">A room name.</param>
    public void Join(string room) => Namespace.Observe(JoinAsync(room));

    /// <summary>Joins <paramref name="room"/>; completes when every node knows.</summary>
    /// <param name="room">A room name.</param>
    public ValueTask JoinAsync(string room) => Namespace.Adapter.AddAllAsync(Id, [room]);

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

    // ---- from the client ----

    internal void OnEvent(SocketIoPacket packet)
    {
        // Binary events carry their attachments in the tree; the others keep the client's JSON text until a
        // handler asks for trees.
        var array = packet.IsBinary || packet.Elements is null ? (JsonArray)packet.Data! : null;
        string name = packet.EventName ?? NameOf(array![0]!);
        bool observed = Namespace.Server.ObservesEvents;
        if (!_handlers.TryGetValue(name, out var handlers) && !observed)
        {
            return;
        }
        Action<IReadOnlyList<object?>>? ack = null;
        if (packet.AckId is { } id)
        {
            ack = a => _client.Send(SocketIoEncoder.EncodeAck(Namespace.Name, id, a));
        }
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
        if (handlers is not null)
        {
            Dispatch(handlers, evt);
        }
    }

    private static string NameOf(JsonNode name) =>
        name.GetValueKind() == JsonValueKind.String ? name.GetValue<string>() : name.ToJsonString();

    internal void OnAck(SocketIoPacket packet)
    {
        if (_pendingAcks.TryRemove(packet.AckId!.Value, out var tcs))
        {
            var array = (JsonArray)packet.Data!;
            JsonNode?[] args = [.. array];
            array.Clear();
            tcs.TrySetResult(args);
        }
    }

    private static async Task RunHandlersAsync(Func<SocketIoEvent, Task>[] handlers, SocketIoEvent evt)
    {
        foreach (var handler in handlers)
        {
            await handler(evt);
        }
    }

    /// <summary>Runs handlers in arrival order: inline when nothing is pending, else after what is.</summary>
    private void Dispatch(Func<SocketIoEvent, Task>[] handlers, SocketIoEvent evt)
    {
        lock (_dispatchGate)
        {
            if (_tail.IsCompleted)
            {
                _tail = Guard(handlers, evt);
            }
            else
            {
                _tail = _tail.ContinueWith(_ => Guard(handlers, evt), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
            }
        }
    }

    private Task Guard(Func<SocketIoEvent, Task>[] handlers, SocketIoEvent evt)
    {
        Task task;
        try
        {
            task = handlers.Length == 1 ? handlers[0](evt) : RunHandlersAsync(handlers, evt);
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
        return Observe(task);

        async Task Observe(Task t)
        {
            try
            {
                await t;
            }
            catch (Exception ex)
            {
                Fail(evt, ex);
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
        if (Interlocked.Exchange(ref _closed, 1) != 0)
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
        foreach (var (_, tcs) in _pendingAcks)
        {
            tcs.TrySetException(new InvalidOperationException("the socket disconnected"));
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

    private void Fire(List<Action<DisconnectReason>> handlers, DisconnectReason reason)
    {
        Action<DisconnectReason>[] copy;
        lock (handlers)
        {
            copy = [.. handlers];
        }
        foreach (var handler in copy)
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
