using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis.Suite;

/// <summary>
/// A broadcast from something that outlives the node (the codelab's deferred "bye" timer fires after the host
/// stopped): the closed Redis connection drops it instead of throwing on a timer thread, which would end the process.
/// </summary>
[TestFixture]
internal sealed class RedisAfterShutdownTests
{
    [TestCase("classic")]
    [TestCase("sharded")]
    public async Task ABroadcastAfterTheNodeStoppedIsDropped(string mode)
    {
        var server = await TestServer.StartAsync(["--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", RedisSetUp.UniquePrefix(), "--Redis:Mode", mode]);
        var io = server.Get<SocketIoServer>();
        await ClusterTestHooks.Adapter(server).Requests.Subscribed.Within();
        await server.DisposeAsync();

        Assert.DoesNotThrow(() => io.To("room").Emit("bye", "room"));
        Assert.DoesNotThrow(() => io.Emit("bye"));
    }
}
