using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>Where an adapter delivers packets to sockets of this process.</summary>
internal interface ILocalDelivery
{
    /// <summary>Sends one encoded packet to each of these local sockets (encoded once, sent to many).</summary>
    void Deliver(IEnumerable<string> socketIds, EncodedPacket packet);

    /// <summary>The sockets connected to this process, by id.</summary>
    IEnumerable<string> LocalSocketIds { get; }
}
