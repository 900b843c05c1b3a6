using NUnit.Framework;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.Redis;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// The rooms adapter contract, on the Redis adapter, with two nodes (two clusters in this process, each with
/// its own connection and uid) sharing one Redis: what one node does, the other sees.
/// </summary>
[TestFixture]
public sealed class RedisRoomAdapterTests
{
    private string _prefix = "";
    private RedisCluster _nodeA = null!;
    private RedisCluster _nodeB = null!;
    private RecordingDelivery _deliveryA = null!;
    private RecordingDelivery _deliveryB = null!;
    private IRoomAdapter _a = null!;
    private IRoomAdapter _b = null!;

    [SetUp]
    public async Task SetUpAsync()
    {
        _prefix = RedisSetUp.UniquePrefix();
        _nodeA = await RedisTestNodes.StartAsync(_prefix);
        _nodeB = await RedisTestNodes.StartAsync(_prefix);
        _deliveryA = new RecordingDelivery();
        _deliveryB = new RecordingDelivery();
        _a = _nodeA.Create("/", _deliveryA);
        _b = _nodeB.Create("/", _deliveryB);
    }

    [TearDown]
    public async Task TearDownAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _nodeA.DisposeAsync();
        await _nodeB.DisposeAsync();
    }

    private static EncodedPacket Packet(string marker) => SocketIoEncoder.EncodeEvent("/", "ev", [marker]);

    /// <summary>Broadcasts from A, then a sentinel to everyone; once both nodes have the sentinel, the first
    /// broadcast has been handled everywhere (one publisher, one ordered channel).</summary>
    private async Task<string[]> ReceiversAsync(BroadcastTarget target)
    {
        string marker = "m" + Guid.NewGuid().ToString("N");
        await _a.BroadcastAsync(Packet(marker), target).AsTask().Within();
        string sentinel = "s" + Guid.NewGuid().ToString("N");
        await _a.BroadcastAsync(Packet(sentinel), BroadcastTarget.All).AsTask().Within();
        await Task.WhenAll(_deliveryA.WaitForAsync(sentinel), _deliveryB.WaitForAsync(sentinel)).Within();
        return [.. _deliveryA.ReceiversOf(marker).Concat(_deliveryB.ReceiversOf(marker)).Order(StringComparer.Ordinal)];
    }

    private static BroadcastTarget Target(string[] rooms, string[]? except = null) =>
        new(rooms.ToHashSet(StringComparer.Ordinal), (except ?? []).ToHashSet(StringComparer.Ordinal));

    private async Task ConnectAsync(IRoomAdapter adapter, string id, params string[] rooms) =>
        await adapter.AddAllAsync(id, [id, .. rooms]).AsTask().Within();

    [Test]
    public async Task AddAllJoinsEveryRoomAndSizesAreClusterWide()
    {
        await ConnectAsync(_a, "a1", "r1", "r2");
        await ConnectAsync(_b, "b1", "r1");

        Assert.That(_a.RoomsOf("a1"), Is.EquivalentTo(new[] { "a1", "r1", "r2" }));
        Assert.That(_b.RoomsOf("b1"), Is.EquivalentTo(new[] { "b1", "r1" }));
        Assert.That(await _a.RoomSizeAsync("r1").Within(), Is.EqualTo(2));
        Assert.That(await _b.RoomSizeAsync("r1").Within(), Is.EqualTo(2));
        Assert.That(await _b.RoomSizeAsync("r2").Within(), Is.EqualTo(1));
        Assert.That(await _b.RoomSizeAsync("a1").Within(), Is.EqualTo(1), "a socket's own room is visible on every node");
        Assert.That(await _a.RoomSizeAsync("nothing").Within(), Is.Zero);
    }

    [Test]
    public async Task LocalRoomCountAndRoomsOfAreThisNodesOnly()
    {
        await ConnectAsync(_a, "a1", "r1", "r2");
        await ConnectAsync(_b, "b1", "r1");

        Assert.That(_a.LocalRoomCount, Is.EqualTo(3));
        Assert.That(_b.LocalRoomCount, Is.EqualTo(2));
        Assert.That(_a.RoomsOf("b1"), Is.Empty);
    }

    [Test]
    public async Task DeleteLeavesOneRoomOnly()
    {
        await ConnectAsync(_a, "a1", "r1", "r2");
        await _a.DeleteAsync("a1", "r1").AsTask().Within();

        Assert.That(_a.RoomsOf("a1"), Is.EquivalentTo(new[] { "a1", "r2" }));
        Assert.That(await _b.RoomSizeAsync("r1").Within(), Is.Zero);
        Assert.That(await _b.RoomSizeAsync("r2").Within(), Is.EqualTo(1));
        Assert.That(_a.LocalRoomCount, Is.EqualTo(2));
    }

    [Test]
    public async Task DeleteAllRemovesTheSocketFromEveryRoomOnEveryNode()
    {
        await ConnectAsync(_a, "a1", "r1", "r2");
        await ConnectAsync(_b, "b1", "r1");
        await _a.DeleteAllAsync("a1").AsTask().Within();

        Assert.That(_a.RoomsOf("a1"), Is.Empty);
        Assert.That(_a.LocalRoomCount, Is.Zero);
        Assert.That(await _b.RoomSizeAsync("r1").Within(), Is.EqualTo(1));
        Assert.That(await _b.RoomSizeAsync("r2").Within(), Is.Zero);
        Assert.That(await _b.SocketIdsAsync(BroadcastTarget.All).Within(), Is.EquivalentTo(new[] { "b1" }));
        var keys = RedisSetUp.Redis.Connection.GetServers()[0].Keys(pattern: _prefix + "#room#*").Select(k => k.ToString()).ToArray();
        Assert.That(keys, Is.EquivalentTo(new[] { _prefix + "#room#/#b1", _prefix + "#room#/#r1" }), "empty rooms leave no key behind");
    }

    [Test]
    public async Task BroadcastToARoomReachesItsMembersOnEveryNode()
    {
        await ConnectAsync(_a, "a1", "r1");
        await ConnectAsync(_a, "a2");
        await ConnectAsync(_b, "b1", "r1");
        await ConnectAsync(_b, "b2", "r2");

        Assert.That(await ReceiversAsync(Target(["r1"])), Is.EqualTo(new[] { "a1", "b1" }));
    }

    [Test]
    public async Task BroadcastToSeveralRoomsReachesEachMemberOnce()
    {
        await ConnectAsync(_a, "a1", "r1", "r2");
        await ConnectAsync(_b, "b1", "r1", "r2");
        await ConnectAsync(_b, "b2", "r2");
        await ConnectAsync(_b, "b3");

        Assert.That(await ReceiversAsync(Target(["r1", "r2"])), Is.EqualTo(new[] { "a1", "b1", "b2" }));
    }

    [Test]
    public async Task BroadcastToAllReachesEverySocketOfEveryNode()
    {
        await ConnectAsync(_a, "a1");
        await ConnectAsync(_b, "b1", "r1");
        await ConnectAsync(_b, "b2");

        Assert.That(await ReceiversAsync(BroadcastTarget.All), Is.EqualTo(new[] { "a1", "b1", "b2" }));
    }

    [Test]
    public async Task ExceptLeavesOutMembersOfTheExcludedRoomsOnEveryNode()
    {
        await ConnectAsync(_a, "a1", "r1");
        await ConnectAsync(_a, "a2", "r1", "x");
        await ConnectAsync(_b, "b1", "r1", "x");
        await ConnectAsync(_b, "b2", "r1");
        await ConnectAsync(_b, "b3");

        Assert.That(await ReceiversAsync(Target(["r1"], ["x"])), Is.EqualTo(new[] { "a1", "b2" }));
        Assert.That(await ReceiversAsync(Target([], ["x", "a1"])), Is.EqualTo(new[] { "b2", "b3" }), "all but, as socket.broadcast");
    }

    [Test]
    public async Task SocketIdsAreClusterWide()
    {
        await ConnectAsync(_a, "a1", "r1");
        await ConnectAsync(_b, "b1", "r1", "x");
        await ConnectAsync(_b, "b2");

        Assert.That(await _a.SocketIdsAsync(Target(["r1"])).Within(), Is.EquivalentTo(new[] { "a1", "b1" }));
        Assert.That(await _a.SocketIdsAsync(Target(["r1"], ["x"])).Within(), Is.EquivalentTo(new[] { "a1" }));
        Assert.That(await _a.SocketIdsAsync(BroadcastTarget.All).Within(), Is.EquivalentTo(new[] { "a1", "b1", "b2" }));
    }

    [Test]
    public async Task JoinIfBelowIsAtomicUnderParallelCallsFromTwoNodes()
    {
        var joins = Enumerable.Range(0, 10)
            .Select(i => (i % 2 == 0 ? _a : _b).JoinIfBelowAsync($"s{i}", "call", 2).AsTask())
            .ToArray();
        var results = await Task.WhenAll(joins).Within();

        Assert.That(results.Count(r => r.Joined), Is.EqualTo(2));
        Assert.That(results.Select(r => r.CountBefore).Order(), Is.EqualTo(new[] { 0, 1, 2, 2, 2, 2, 2, 2, 2, 2 }));
        Assert.That(results.Any(r => r.WasMember), Is.False);
        Assert.That(await _a.RoomSizeAsync("call").Within(), Is.EqualTo(2));
        var members = Enumerable.Range(0, 10).Where(i => results[i].Joined).Select(i => $"s{i}").ToArray();
        Assert.That(await _b.SocketIdsAsync(Target(["call"])).Within(), Is.EquivalentTo(members));
        foreach (var i in Enumerable.Range(0, 10))
        {
            var adapter = i % 2 == 0 ? _a : _b;
            Assert.That(adapter.RoomsOf($"s{i}").Contains("call"), Is.EqualTo(results[i].Joined), $"s{i} local rooms");
        }
    }

    [Test]
    public async Task JoinIfBelowLetsAMemberInAgainWhenFull()
    {
        Assert.That(await _a.JoinIfBelowAsync("a1", "call", 2).Within(), Is.EqualTo(new RoomJoin(0, true, false)));
        Assert.That(await _b.JoinIfBelowAsync("b1", "call", 2).Within(), Is.EqualTo(new RoomJoin(1, true, false)));
        Assert.That(await _b.JoinIfBelowAsync("b2", "call", 2).Within(), Is.EqualTo(new RoomJoin(2, false, false)));
        Assert.That(await _a.JoinIfBelowAsync("a1", "call", 2).Within(), Is.EqualTo(new RoomJoin(2, true, true)));
        Assert.That(_b.RoomsOf("b2"), Is.Empty);
    }

    [Test]
    public async Task ASocketThatLeavesDuringItsJoinIsNotLeftInTheRoom()
    {
        await ConnectAsync(_a, "a1");
        var join = _a.JoinIfBelowAsync("a1", "call", 2).AsTask();
        await _a.DeleteAllAsync("a1").AsTask().Within();
        await join.Within();

        Assert.That(await _b.RoomSizeAsync("call").Within(), Is.Zero);
        Assert.That(_a.RoomsOf("a1"), Is.Empty);
    }

    [Test]
    public async Task ANodeThatLeavesTakesItsMembersWithIt()
    {
        await ConnectAsync(_a, "a1", "call");
        await ConnectAsync(_b, "b1", "call");
        await _nodeB.StopAsync(CancellationToken.None).Within();

        Assert.That(await _a.RoomSizeAsync("call").Within(), Is.EqualTo(1));
        Assert.That(await _a.SocketIdsAsync(BroadcastTarget.All).Within(), Is.EquivalentTo(new[] { "a1" }));
    }

    [Test]
    public async Task ANodeTakenForDeadPublishesItsMembershipsAgain()
    {
        await ConnectAsync(_b, "b1", "call");
        var db = RedisSetUp.Redis.Db;
        // As if B had been silent past NodeTimeout: its heartbeat gone, a survivor's sweep purges it.
        await db.KeyDeleteAsync(_nodeB.Keys.Heartbeat(_nodeB.CurrentOwner.Name)).Within();
        await _nodeA.SweepAsync(null).Within();
        Assert.That(await _a.RoomSizeAsync("call").Within(), Is.Zero);

        // B's next heartbeat finds its key expired and writes its memberships back.
        await Eventually.UntilAsync(async () => await _a.RoomSizeAsync("call") == 1, TimeSpan.FromSeconds(6), "B's memberships back");
        Assert.That(await _a.SocketIdsAsync(BroadcastTarget.All).Within(), Is.EquivalentTo(new[] { "b1" }));
    }

    [Test]
    public async Task ACrashedNodesMembersArePurgedWithinTheNodeTimeout()
    {
        string prefix = RedisSetUp.UniquePrefix();
        await using var survivor = await RedisTestNodes.StartAsync(prefix, heartbeatMs: 200, nodeTimeoutMs: 600);
        await using var doomed = await RedisTestNodes.StartAsync(prefix, heartbeatMs: 200, nodeTimeoutMs: 600);
        var s = survivor.Create("/", new RecordingDelivery());
        var d = doomed.Create("/", new RecordingDelivery());
        Assert.That((await s.JoinIfBelowAsync("s1", "call", 2).Within()).Joined, Is.True);
        Assert.That((await d.JoinIfBelowAsync("d1", "call", 2).Within()).Joined, Is.True);
        Assert.That((await s.JoinIfBelowAsync("s2", "call", 2).Within()).Joined, Is.False, "full while both live");

        // The doomed node loses Redis for good without leaving: no more heartbeats, nothing cleaned up by it.
        await doomed.Connection.CloseAsync(allowCommandsToComplete: false).Within();
        var started = TimeProvider.System.GetTimestamp();
        await Eventually.UntilAsync(async () => await s.RoomSizeAsync("call") == 1, TimeSpan.FromSeconds(3), "purge of the crashed node");
        var purgedAfter = TimeProvider.System.GetElapsedTime(started);
        TestContext.Out.WriteLine($"purged {purgedAfter.TotalMilliseconds:F0} ms after the crash (timeout 600 ms, sweep every 200 ms)");

        Assert.That((await s.JoinIfBelowAsync("s2", "call", 2).Within()).Joined, Is.True, "the room is not full forever");
        var db = RedisSetUp.Redis.Db;
        Assert.That(await db.SetContainsAsync(doomed.Keys.Nodes, doomed.NodeId).Within(), Is.False);
        int slot = doomed.Keys.SlotOf(prefix + "#room#/#call");
        Assert.That(await db.KeyExistsAsync(doomed.Keys.Index(slot, doomed.NodeId)).Within(), Is.False, "its index in the room's slot is gone");
        Assert.That(await db.KeyExistsAsync(doomed.Keys.Gone(slot, doomed.NodeId)).Within(), Is.True, "a late write of it would be refused");
        Assert.That(await db.SetLengthAsync(doomed.Keys.Purging).Within(), Is.Zero, "the purge finished");
    }

    [Test]
    public async Task APurgedOwnerCannotWriteAgainUnderItsOldName()
    {
        string prefix = RedisSetUp.UniquePrefix();
        await using var survivor = await RedisTestNodes.StartAsync(prefix);
        // No heartbeat during the test: the node cannot notice it was taken for dead and change its name.
        await using var stale = await RedisTestNodes.StartAsync(prefix, heartbeatMs: 600_000, nodeTimeoutMs: 1_200_000);
        var s = survivor.Create("/", new RecordingDelivery());
        var d = stale.Create("/", new RecordingDelivery());
        Assert.That((await d.JoinIfBelowAsync("d1", "call", 2).Within()).Joined, Is.True);

        // Its heartbeat gone, a survivor purges it.
        var db = RedisSetUp.Redis.Db;
        await db.KeyDeleteAsync(stale.Keys.Heartbeat(stale.CurrentOwner.Name)).Within();
        Assert.That(await survivor.SweepAsync(null).Within(), Is.EqualTo(1), "its member of the room");
        Assert.That(await s.RoomSizeAsync("call").Within(), Is.Zero);

        // Writes it still sends under its old name are refused, in a slot it had written to (the tombstone)
        // and in one it had not (its slot bitmap is closed once its heartbeat is gone).
        Assert.ThrowsAsync<RedisException>(async () => await d.JoinIfBelowAsync("d2", "call", 2));
        string fresh = Enumerable.Range(0, 1000).Select(i => "other-" + i)
            .First(r => stale.Keys.SlotOf(prefix + "#room#/#" + r) != stale.Keys.SlotOf(prefix + "#room#/#call"));
        Assert.ThrowsAsync<RedisException>(async () => await d.JoinIfBelowAsync("d2", fresh, 2));
        await d.AddAllAsync("d3", ["call", fresh]);
        Assert.That(await s.RoomSizeAsync("call").Within(), Is.Zero, "nothing of the purged owner came back");
        Assert.That(await s.RoomSizeAsync(fresh).Within(), Is.Zero);
    }
}
