using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO;

/// <summary>What the server knew of a socket's client when it connected to its namespace.</summary>
public sealed class SocketIoHandshake
{
    public required HandshakeInfo Engine { get; init; }

    /// <summary>The connection's query, merged with a protocol 4 namespace query.</summary>
    public required IReadOnlyDictionary<string, string> Query { get; init; }

    /// <summary>The protocol 5 CONNECT payload ({} when it carried none); null for protocol 4 clients.</summary>
    public JsonObject? Auth { get; init; }

    public IReadOnlyDictionary<string, string> Headers => Engine.Headers;

    public System.Net.IPAddress? Address => Engine.RemoteAddress;

    public DateTimeOffset Time => Engine.Time;
}

/// <summary>One client's presence in one namespace: its events, its rooms, its emits.</summary>
public sealed class SocketIoSocket
{
    private static readonly HashSet<string> ServerReserved = new(StringComparer.Ordinal)
    {
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    };

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

    public string Id { get; }

    public SocketIoNamespace Namespace { get; }

    public SocketIoHandshake Handshake { get; }

    public bool Connected => Volatile.Read(ref _closed) == 0;

    /// <summary>Socket.IO protocol version of the client: 4 (clients 1.x/2.x) or 5 (3.x/4.x).</summary>
    public int Protocol => _client.Protocol;

    /// <summary>A slot for the application.</summary>
    public object? Data { get; set; }

    public IReadOnlyCollection<string> Rooms => Namespace.Adapter.RoomsOf(Id);

    public BroadcastOperator Broadcast => Namespace.Except(Id);

    internal static bool IsReservedServerEvent(string name) => ServerReserved.Contains(name);

    // ---- handlers ----

    public SocketIoSocket On(string eventName, Action<SocketIoEvent> handler) =>
        On(eventName, e =>
        {
            handler(e);
            return Task.CompletedTask;
        });

    public SocketIoSocket On(string eventName, Func<SocketIoEvent, Task> handler)
    {
        _handlers.AddOrUpdate(eventName, static (_, h) => [h], static (_, list, h) => [.. list, h], handler);
        return this;
    }

    public SocketIoSocket OnDisconnecting(Action<DisconnectReason> handler)
    {
        lock (_onDisconnecting)
        {
            _onDisconnecting.Add(handler);
        }
        return this;
    }

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
        CheckName(eventName);
        if (!Connected)
        {
            return false;
        }
        Namespace.Server.RaiseEventSent(this, eventName, args);
        return _client.Send(SocketIoEncoder.EncodeEvent(Namespace.Name, eventName, args));
    }

    /// <summary>Emits an event and waits for the client's acknowledgement, at most <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<JsonNode?>> EmitWithAckAsync(string eventName, TimeSpan timeout, params object?[] args)
    {
        CheckName(eventName);
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

    public BroadcastOperator To(string room) => Broadcast.To(room);

    public BroadcastOperator In(string room) => To(room);

    public BroadcastOperator Except(string room) => Broadcast.Except(room);

    // ---- rooms ----

    public void Join(string room) => Namespace.Observe(JoinAsync(room));

    public ValueTask JoinAsync(string room) => Namespace.Adapter.AddAllAsync(Id, [room]);

    public void Leave(string room) => Namespace.Observe(LeaveAsync(room));

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
            Namespace.Server.LogHandlerError(ex, Id);
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
                Namespace.Server.LogHandlerError(ex, Id);
            }
        }
    }

    /// <summary>Leaves the namespace: disconnecting handlers (rooms still set), rooms cleared, disconnect handlers.</summary>
    internal void OnClose(DisconnectReason reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        Fire(_onDisconnecting, reason);
        Namespace.Observe(Namespace.Adapter.DeleteAllAsync(Id));
        Namespace.RemoveSocket(this);
        foreach (var (_, tcs) in _pendingAcks)
        {
            tcs.TrySetException(new InvalidOperationException("the socket disconnected"));
        }
        Fire(_onDisconnect, reason);
    }

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
                Namespace.Server.LogHandlerError(ex, Id);
            }
        }
    }

    private static void CheckName(string eventName)
    {
        if (IsReservedServerEvent(eventName))
        {
            throw new ArgumentException($"\"{eventName}\" is a reserved event name", nameof(eventName));
        }
    }
}
