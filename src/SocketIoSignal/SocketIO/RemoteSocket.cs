using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Adapter;

namespace SocketIoSignal.SocketIO;

/// <summary>
/// A socket as <c>FetchSocketsAsync</c> returns it, on this node or another (Node's <c>RemoteSocket</c>): what it
/// was when fetched (id, handshake, rooms, data), and what can be done to it from anywhere — each action goes
/// through the adapter to the node that holds it.
/// </summary>
public sealed class RemoteSocket
{
    private readonly SocketIoNamespace _nsp;

    internal RemoteSocket(SocketIoNamespace nsp, SocketDetails details)
    {
        _nsp = nsp;
        Id = details.Id;
        Handshake = details.Handshake;
        Rooms = details.Rooms;
        Data = details.Data;
        Local = details.Local;
    }

    /// <summary>The socket's id.</summary>
    public string Id { get; }

    /// <summary>Its handshake.</summary>
    public SocketIoHandshake Handshake { get; }

    /// <summary>The rooms it was in when fetched, its own room included.</summary>
    public IReadOnlyCollection<string> Rooms { get; }

    /// <summary>
    /// Its <see cref="SocketIoSocket.Data"/> when fetched: the object itself for a socket of this node, its JSON
    /// (a <see cref="JsonNode"/>) for one of another node.
    /// </summary>
    public object? Data { get; }

    /// <summary>The socket itself when it is connected to this node; null for a socket of another node.</summary>
    public SocketIoSocket? Local { get; }

    private BroadcastOperator Operator => new(_nsp, Adapter.RoomSet.With(Adapter.RoomSet.Empty, Id), Adapter.RoomSet.Empty);

    /// <summary>Emits an event to this socket's client.</summary>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="args">Its arguments.</param>
    public void Emit(string eventName, params object?[] args) => Operator.Emit(eventName, args);

    /// <summary>Emits and waits for the client's acknowledgement (its first argument), at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="eventName">The event's name (not a reserved one).</param>
    /// <param name="args">Its arguments.</param>
    public async Task<JsonNode?> EmitWithAckAsync(TimeSpan timeout, string eventName, params object?[] args)
    {
        var responses = await Operator.Timeout(timeout).EmitWithAckAsync(eventName, args).ConfigureAwait(false);
        return responses.Count > 0 ? responses[0] : null;
    }

    /// <summary>Makes it join <paramref name="rooms"/>.</summary>
    /// <param name="rooms">Room names.</param>
    public void Join(params string[] rooms) => Operator.SocketsJoin(rooms);

    /// <summary>Makes it leave <paramref name="rooms"/>.</summary>
    /// <param name="rooms">Room names.</param>
    public void Leave(params string[] rooms) => Operator.SocketsLeave(rooms);

    /// <summary>Disconnects it; with <paramref name="close"/>, its whole connection.</summary>
    /// <param name="close">Also close the connection.</param>
    public void Disconnect(bool close = false) => Operator.DisconnectSockets(close);
}
