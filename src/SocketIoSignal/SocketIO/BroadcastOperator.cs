using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO;

/// <summary>
/// Who a broadcast reaches: rooms to include (none: everyone), rooms to exclude, and Node's flags. Immutable; each
/// call returns a new operator. The packet is encoded once and the adapter sends it to every target; every
/// utility (<see cref="FetchSocketsAsync"/>, <see cref="SocketsJoin"/>…) goes through the adapter too, so a
/// cluster adapter makes it cluster-wide.
/// </summary>
public readonly struct BroadcastOperator
{
    private readonly SocketIoNamespace _nsp;
    private readonly IReadOnlySet<string> _rooms;
    private readonly IReadOnlySet<string> _except;
    private readonly BroadcastFlags _flags;

    internal BroadcastOperator(SocketIoNamespace nsp, IReadOnlySet<string> rooms, IReadOnlySet<string> except, BroadcastFlags flags = default)
    {
        _nsp = nsp;
        _rooms = rooms;
        _except = except;
        _flags = flags;
    }

    /// <summary>Also the sockets in <paramref name="room"/> (rooms add up).</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator To(string room) => new(_nsp, RoomSet.With(_rooms, room), _except, _flags);

    /// <summary>Also the sockets in any of <paramref name="rooms"/> (a socket is reached once).</summary>
    /// <param name="rooms">Room names.</param>
    public BroadcastOperator To(IEnumerable<string> rooms)
    {
        var set = _rooms;
        foreach (var room in rooms)
        {
            set = RoomSet.With(set, room);
        }
        return new(_nsp, set, _except, _flags);
    }

    /// <summary>The same as <see cref="To(string)"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Not the sockets in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator Except(string room) => new(_nsp, _rooms, RoomSet.With(_except, room), _flags);

    /// <summary>Not the sockets in any of <paramref name="rooms"/>.</summary>
    /// <param name="rooms">Room names.</param>
    public BroadcastOperator Except(IEnumerable<string> rooms)
    {
        var set = _except;
        foreach (var room in rooms)
        {
            set = RoomSet.With(set, room);
        }
        return new(_nsp, _rooms, set, _flags);
    }

    /// <summary>The packet is dropped for a client whose transport cannot take it now (Node's <c>volatile</c>).</summary>
    public BroadcastOperator Volatile => WithFlags(_flags with { Volatile = true });

    /// <summary>Whether the packet may be compressed (Node's <c>compress(bool)</c>; true by default).</summary>
    /// <param name="compress">False: send it uncompressed.</param>
    public BroadcastOperator Compress(bool compress) => WithFlags(_flags with { NoCompress = !compress });

    /// <summary>This node's sockets only, whatever the adapter (Node's <c>local</c>).</summary>
    public BroadcastOperator Local => WithFlags(_flags with { Local = true });

    /// <summary>
    /// <see cref="EmitWithAckAsync"/> waits at most <paramref name="timeout"/> for every answer (Node's
    /// <c>timeout(ms)</c>).
    /// </summary>
    /// <param name="timeout">How long to wait; zero or more.</param>
    public BroadcastOperator Timeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        return WithFlags(_flags with { Timeout = timeout });
    }

    internal BroadcastOperator WithFlags(BroadcastFlags flags) => new(_nsp, _rooms, _except, flags);

    internal BroadcastTarget Target => new(_rooms, _except) { Flags = _flags };

    /// <summary>Emits to every target; completes when the adapter has accepted it (at once in memory).</summary>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="args">Its arguments: anything System.Text.Json serializes; byte arrays go as binary attachments.</param>
    public ValueTask EmitAsync(string eventName, params object?[] args)
    {
        ReservedEvents.ThrowIfReserved(eventName);
        if (_nsp.IsParent)
        {
            return EmitToChildrenAsync(eventName, args);
        }
        if (_nsp.Recovery is { } recovery && !_flags.Volatile)
        {
            if (recovery.Cluster is { } cluster)
            {
                return recovery.EmitThroughCluster(cluster, eventName, args, Target);
            }
            return EmitKept(recovery, eventName, args);
        }
        var packet = SocketIoEncoder.EncodeEvent(_nsp.Name, eventName, args);
        packet.EventName = eventName;
        packet.EventArgs = args;
        return _nsp.Adapter.BroadcastAsync(packet, Target);
    }

    /// <summary>
    /// Connection state recovery: the event is kept, with its offset, and delivered in offset order (a volatile one
    /// is not kept, as in Node). A method of its own so the plain emit allocates no closure.
    /// </summary>
    private ValueTask EmitKept(Recovery.SessionStore recovery, string eventName, object?[] args)
    {
        var adapter = _nsp.Adapter;
        var target = Target;
        return recovery.Emit(eventName, args, target, p =>
        {
            p.EventName = eventName;
            p.EventArgs = args;
            return adapter.BroadcastAsync(p, target);
        });
    }

    /// <summary>A parent namespace's broadcast reaches every child (Node's <c>ParentNamespace</c>).</summary>
    private async ValueTask EmitToChildrenAsync(string eventName, object?[] args)
    {
        foreach (var child in _nsp.Children)
        {
            await new BroadcastOperator(child, _rooms, _except, _flags).EmitAsync(eventName, args).ConfigureAwait(false);
        }
    }

    /// <summary>Emits a <c>message</c> event (Node's <c>send</c>).</summary>
    /// <param name="args">Its arguments.</param>
    public void Send(params object?[] args) => Emit("message", args);

    /// <summary>The same as <see cref="Send"/> (Node's <c>write</c>).</summary>
    /// <param name="args">Its arguments.</param>
    public void Write(params object?[] args) => Emit("message", args);

    /// <summary>Emits without waiting; an adapter failure is logged.</summary>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="args">Its arguments.</param>
    public void Emit(string eventName, params object?[] args) => _nsp.Observe(EmitAsync(eventName, args));

    /// <summary>
    /// Emits and waits for every client's acknowledgement (Node's <c>emitWithAck</c> on a broadcast): one answer
    /// (its first argument) per client reached, on every node. Past <see cref="Timeout"/> it fails with
    /// <see cref="AckTimeoutException"/> carrying the answers received so far; as Node, a broadcast with
    /// acknowledgement needs a timeout (without one, it ends at once with the answers already there).
    /// </summary>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="args">Its arguments.</param>
    public Task<IReadOnlyList<JsonNode?>> EmitWithAckAsync(string eventName, params object?[] args)
    {
        ReservedEvents.ThrowIfReserved(eventName);
        if (_nsp.IsParent)
        {
            throw new NotSupportedException("emitWithAck() is not supported on parent namespaces");
        }
        var server = _nsp.Server;
        var ack = new BroadcastAck(_nsp.NextAckId());
        ack.StartTimer(server.Metrics, server.Time, _flags.Timeout ?? TimeSpan.FromMilliseconds(1));
        var packet = SocketIoEncoder.EncodeEvent(_nsp.Name, eventName, args, ack.Id);
        packet.EventName = eventName;
        packet.EventArgs = args;
        var nsp = _nsp;
        _nsp.Observe(_nsp.Adapter.BroadcastWithAckAsync(packet, Target, ack));
        _nsp.Observe(CountServersAsync(nsp, ack, _flags.Local));
        return ack.Task;

        static async ValueTask CountServersAsync(SocketIoNamespace nsp, BroadcastAck ack, bool local) =>
            ack.ServerCount(local ? 1 : await nsp.Adapter.ServerCountAsync().ConfigureAwait(false));
    }

    /// <summary>The ids of the sockets this selection reaches, on every node.</summary>
    public ValueTask<IReadOnlyCollection<string>> SocketIdsAsync() => _nsp.Adapter.SocketIdsAsync(Target);

    /// <summary>
    /// The sockets this selection reaches, on every node (Node's <c>fetchSockets</c>): id, handshake, rooms and
    /// data of each, and what can be done to it from here.
    /// </summary>
    public async ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync()
    {
        if (_nsp.IsParent)
        {
            throw new NotSupportedException("fetchSockets() is not supported on parent namespaces");
        }
        var details = await _nsp.Adapter.FetchSocketsAsync(Target).ConfigureAwait(false);
        var nsp = _nsp;
        return [.. details.Select(d => new RemoteSocket(nsp, d))];
    }

    /// <summary>Makes the sockets this selection reaches join <paramref name="rooms"/>, on every node (Node's <c>socketsJoin</c>).</summary>
    /// <param name="rooms">Room names.</param>
    public void SocketsJoin(params string[] rooms) => _nsp.Observe(_nsp.Adapter.AddSocketsAsync(Target, rooms));

    /// <summary>Makes the sockets this selection reaches leave <paramref name="rooms"/>, on every node (Node's <c>socketsLeave</c>).</summary>
    /// <param name="rooms">Room names.</param>
    public void SocketsLeave(params string[] rooms) => _nsp.Observe(_nsp.Adapter.DelSocketsAsync(Target, rooms));

    /// <summary>Disconnects the sockets this selection reaches, on every node (Node's <c>disconnectSockets</c>).</summary>
    /// <param name="close">Also close their connections (every namespace of each).</param>
    public void DisconnectSockets(bool close = false) => _nsp.Observe(_nsp.Adapter.DisconnectSocketsAsync(Target, close));
}
