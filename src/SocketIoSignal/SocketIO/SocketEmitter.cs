using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;

namespace SocketIoSignal.SocketIO;

/// <summary>
/// A socket with emit flags (Node's <c>socket.timeout(ms)</c>, <c>socket.volatile</c>, <c>socket.compress(bool)</c>,
/// <c>socket.local</c>): immutable, each call returns a new one, so flags never leak into another emit.
/// </summary>
public readonly struct SocketEmitter
{
    private readonly SocketIoSocket _socket;
    private readonly BroadcastFlags _flags;

    internal SocketEmitter(SocketIoSocket socket, BroadcastFlags flags)
    {
        _socket = socket;
        _flags = flags;
    }

    /// <summary>Acknowledgements are awaited at most <paramref name="timeout"/>, then fail with <see cref="AckTimeoutException"/>.</summary>
    /// <param name="timeout">How long to wait; zero or more.</param>
    public SocketEmitter Timeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        return new(_socket, _flags with { Timeout = timeout });
    }

    /// <summary>Dropped if the transport cannot take it now.</summary>
    public SocketEmitter Volatile => new(_socket, _flags with { Volatile = true });

    /// <summary>Whether it may be compressed (true by default).</summary>
    /// <param name="compress">False: send it uncompressed.</param>
    public SocketEmitter Compress(bool compress) => new(_socket, _flags with { NoCompress = !compress });

    /// <summary>A broadcast made from here reaches this node only.</summary>
    public SocketEmitter Local => new(_socket, _flags with { Local = true });

    /// <summary>Emits to the socket's client with these flags; false once the socket has left its namespace.</summary>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="args">Its arguments.</param>
    public bool Emit(string eventName, params object?[] args) => _socket.Emit(_flags, eventName, args);

    /// <summary>Emits and waits for the client's acknowledgement (its first argument), at most the <see cref="Timeout"/> given.</summary>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="args">Its arguments.</param>
    public Task<JsonNode?> EmitWithAckAsync(string eventName, params object?[] args) => _socket.EmitWithAckAsync(_flags, eventName, args);

    /// <summary>Every other socket of the namespace, with these flags.</summary>
    public BroadcastOperator Broadcast => _socket.Broadcast.WithFlags(_flags);

    /// <summary>Every other socket in <paramref name="room"/>, with these flags.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator To(string room) => Broadcast.To(room);

    /// <summary>The same as <see cref="To"/>.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Every other socket but those in <paramref name="room"/>, with these flags.</summary>
    /// <param name="room">A room name.</param>
    public BroadcastOperator Except(string room) => Broadcast.Except(room);
}
