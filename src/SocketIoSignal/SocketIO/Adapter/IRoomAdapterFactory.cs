namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>Makes the adapter of each namespace.</summary>
internal interface IRoomAdapterFactory
{
    IRoomAdapter Create(string namespaceName, ILocalDelivery delivery);
}
