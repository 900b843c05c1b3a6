using SocketIoSignal.SocketIO.Adapter;

namespace SocketIoSignal.AdminUi;

/// <summary>Makes each namespace's adapter with the application's factory, and wraps it to report room changes.</summary>
internal sealed class ObservedRoomAdapterFactory(IRoomAdapterFactory inner, RoomEvents events) : IRoomAdapterFactory
{
    public IRoomAdapter Create(string namespaceName, ILocalDelivery delivery) =>
        new ObservedRoomAdapter(inner.Create(namespaceName, delivery), namespaceName, events);
}
