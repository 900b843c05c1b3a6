using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.Plain;

// In the Redis namespace, for its one redis-server (RedisSetUp); in this folder with the other plain tests.
namespace SocketIoSignal.Tests.Redis;

/// <summary>With <c>--redis</c>, plain WebSocket peers are cluster members like any other: rooms, capacity and relays span nodes.</summary>
[TestFixture]
public sealed class PlainRedisTests
{
    [TestCase("rooms")]
    [TestCase("codelab")]
    public async Task APlainPeerOnOneNodeAndASocketIoPeerOnAnotherShareARoom(string mode)
    {
        string prefix = RedisSetUp.UniquePrefix();
        string[] args = ["--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", prefix, "--mode", mode];
        await using var node1 = await TestServer.StartAsync(args);
        await using var node2 = await TestServer.StartAsync(args);
        await using var plain = await PlainClient.ConnectAsync(node1.BaseUri);
        await using var sio = await RawSocketIoClient.ConnectAsync(node2.BaseUri, 4);

        await plain.EmitAsync("create or join", "foo");
        await plain.WaitForAsync("created");
        await sio.EmitAsync("create or join", "foo");
        Assert.That((await sio.WaitForAsync("joined")).Args[1]!.GetValue<string>(), Is.EqualTo(sio.Id));
        Assert.That((await plain.WaitForAsync("join")).ToJsonString(), Is.EqualTo("[\"join\",\"foo\"]"), "io.to(room) from node 2 reaches the plain peer on node 1");
        Assert.That((await plain.WaitForAsync("ready")).ToJsonString(), Is.EqualTo("[\"ready\"]"));
        await sio.WaitForAsync("ready");
        Assert.That(await RedisSetUp.Redis.Db.SetLengthAsync(prefix + "#room#/#foo").Within(), Is.EqualTo(2), "the plain peer is a member in Redis");

        // Capacity is cluster-wide and counts both kinds.
        await using var third = await PlainClient.ConnectAsync(node2.BaseUri);
        await third.EmitAsync("create or join", "foo");
        await third.WaitForAsync("full");

        await plain.EmitAsync("message", new JsonObject { ["type"] = "offer" });
        Assert.That((await sio.WaitForAsync("message")).Args[0]!.ToJsonString(), Is.EqualTo("{\"type\":\"offer\"}"));
        await sio.EmitAsync("message", "answer");
        Assert.That((await plain.WaitForAsync("message")).ToJsonString(), Is.EqualTo("[\"message\",\"answer\"]"));

        // Leaving frees the slot cluster-wide.
        await plain.DisposeAsync();
        await Eventually.UntilAsync(async () => await RedisSetUp.Redis.Db.SetLengthAsync(prefix + "#room#/#foo") == 1, TimeSpan.FromSeconds(10), "the plain peer left the room in Redis");
        node1.AssertNoErrors();
        node2.AssertNoErrors();
    }

    [Test]
    public async Task AnArgumentShapedLikeARecoveryOffsetReachesAPlainPeerOnAnotherNodeIntact()
    {
        // Rooms mode keeps events for recovery (offsets on), but an offset is its node's own: the event goes to the
        // cluster without it, and the plain peer gets the handler's arguments, the last one looking like an offset.
        string prefix = RedisSetUp.UniquePrefix();
        string[] args = ["--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", prefix, "--mode", "rooms"];
        await using var node1 = await TestServer.StartAsync(args);
        await using var node2 = await TestServer.StartAsync(args);
        await using var plain = await PlainClient.ConnectAsync(node1.BaseUri);
        await using var sio = await RawSocketIoClient.ConnectAsync(node2.BaseUri, 4);
        await plain.EmitAsync("create or join", "foo");
        await plain.WaitForAsync("created");
        await sio.EmitAsync("create or join", "foo");
        await plain.WaitForAsync("ready");

        await sio.EmitAsync("message", "AbCd-_12.345");
        Assert.That((await plain.WaitForAsync("message")).ToJsonString(), Is.EqualTo("[\"message\",\"AbCd-_12.345\"]"));
        node1.AssertNoErrors();
        node2.AssertNoErrors();
    }
}
