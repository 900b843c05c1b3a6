using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>Where an adapter delivers packets to sockets of this process.</summary>
internal interface ILocalDelivery
{
    /// <summary>Sends one encoded packet to each of these local sockets (encoded once, sent to many).</summary>
    void Deliver(IEnumerable<string> socketIds, EncodedPacket packet);

    /// <summary>The same, with flags that change delivery (volatile, no compression).</summary>
    void Deliver(IEnumerable<string> socketIds, EncodedPacket packet, BroadcastFlags flags) => Deliver(socketIds, packet);

    /// <summary>The sockets connected to this process, by id.</summary>
    IEnumerable<string> LocalSocketIds { get; }

    /// <summary>The local socket of this id (null: none, or a delivery that has no sockets, as a test's).</summary>
    SocketIoSocket? LocalSocket(string socketId) => null;
}
