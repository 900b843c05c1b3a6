namespace SocketIoSignal.SocketIO.Adapter;

internal sealed class InMemoryRoomAdapterFactory : IRoomAdapterFactory
{
    public IRoomAdapter Create(string namespaceName, ILocalDelivery delivery) => new InMemoryRoomAdapter(delivery);
}
