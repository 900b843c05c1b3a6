using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO;

/// <summary>
/// Who a broadcast reaches: rooms to include (none: everyone), rooms to exclude. Immutable; each call returns
/// a new operator. The packet is encoded once and the adapter sends it to every target.
/// </summary>
public readonly struct BroadcastOperator
{
    private readonly SocketIoNamespace _nsp;
    private readonly IReadOnlySet<string> _rooms;
    private readonly IReadOnlySet<string> _except;

    internal BroadcastOperator(SocketIoNamespace nsp, IReadOnlySet<string> rooms, IReadOnlySet<string> except)
    {
        _nsp = nsp;
        _rooms = rooms;
        _except = except;
    }

    /// <summary>Also the sockets in <paramref name="room"/> (rooms add up).</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator To(string room) => new(_nsp, RoomSet.With(_rooms, room), _except);

    /// <summary>The same as <see cref="To"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Not the sockets in <paramref name="room"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator Except(string room) => new(_nsp, _rooms, RoomSet.With(_except, room));

    internal BroadcastTarget Target => new(_rooms, _except);

    /// <summary>Emits to every target; completes when the adapter has accepted it (at once in memory).</summary>
    public ValueTask EmitAsync(string eventName, params object?[] args)
    {
        ReservedEvents.ThrowIfReserved(eventName);
        if (_nsp.Recovery is { } recovery)
        {
            // Connection state recovery: the event is kept, with its offset, and delivered in offset order.
            var adapter = _nsp.Adapter;
            var target = Target;
            return recovery.Emit(eventName, args, target, p => adapter.BroadcastAsync(p, target));
        }
        var packet = SocketIoEncoder.EncodeEvent(_nsp.Name, eventName, args);
        return _nsp.Adapter.BroadcastAsync(packet, Target);
    }

    /// <summary>Emits without waiting; an adapter failure is logged.</summary>
    public void Emit(string eventName, params object?[] args) => _nsp.Observe(EmitAsync(eventName, args));

    /// <summary>The ids of the sockets this selection reaches, on every node.</summary>
    public ValueTask<IReadOnlyCollection<string>> SocketIdsAsync() => _nsp.Adapter.SocketIdsAsync(Target);
}
