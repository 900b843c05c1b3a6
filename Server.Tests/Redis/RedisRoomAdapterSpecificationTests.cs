using NUnit.Framework;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.Redis;
using SocketIoSignal.Tests.SocketIOTests;

namespace SocketIoSignal.Tests.Redis;

/// <summary>The same specification the in-memory adapter passes, on the Redis adapter of one node.</summary>
[TestFixture]
internal sealed class RedisRoomAdapterSpecificationTests : RoomAdapterSpecification
{
    private RedisCluster _node = null!;

    [OneTimeSetUp]
    public async Task StartNodeAsync() => _node = await RedisTestNodes.StartAsync(RedisSetUp.UniquePrefix());

    [OneTimeTearDown]
    public async Task StopNodeAsync() => await _node.DisposeAsync();

    protected override IRoomAdapter CreateAdapter(string namespaceName, ILocalDelivery delivery) => _node.Create(namespaceName, delivery);
}
