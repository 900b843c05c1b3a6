using System.Collections.Concurrent;
using NUnit.Framework;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Tests.SocketIOTests;

[TestFixture]
internal sealed class InMemoryRoomAdapterSpecificationTests : RoomAdapterSpecification
{
    protected override IRoomAdapter CreateAdapter(string namespaceName, ILocalDelivery delivery) =>
        new InMemoryRoomAdapterFactory().Create(namespaceName, delivery);
}
