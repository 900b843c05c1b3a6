using SocketIoSignal.EngineIO.Protocol;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// A client connection as the layer above sees it: packets out, close, and what the handshake told. An Engine.IO
/// session is one; a connection with a wire encoding of its own (a plain WebSocket carrying JSON arrays) is another,
/// translating the Engine.IO packets it is given into its own frames, so rooms, broadcasts and cluster adapters
/// treat its client like any other.
/// </summary>
internal interface IEngineIoConnection
{
    string Id { get; }

    /// <summary>Engine.IO protocol version the layer above follows for this client: 3 or 4.</summary>
    int Protocol { get; }

    TransportKind Transport { get; }

    HandshakeInfo Handshake { get; }

    /// <summary>Queues packets that must stay together (a packet and its attachments); false when no longer open. <paramref name="compress"/> false: never compressed.</summary>
    bool Send(IReadOnlyList<EngineIoPacket> packets, bool compress = true);

    /// <summary>Queues one packet (one without attachments); as <see cref="Send(IReadOnlyList{EngineIoPacket}, bool)"/>.</summary>
    bool Send(EngineIoPacket packet, bool compress = true);

    /// <summary>"open", "closing" or "closed", as Node's readyState.</summary>
    string ReadyState { get; }

    /// <summary>Whether the transport can take a packet now (Node's <c>transport.writable</c>); volatile packets are dropped when not.</summary>
    bool Writable { get; }

    /// <summary>Closes the connection after what is queued has been delivered.</summary>
    void Close();
}
