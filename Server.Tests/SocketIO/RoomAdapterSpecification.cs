using System.Collections.Concurrent;
using NUnit.Framework;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>
/// What every <see cref="IRoomAdapter"/> must do. A new adapter (Redis…) gets a fixture deriving from this one
/// with its own factory.
/// </summary>
internal abstract class RoomAdapterSpecification
{
    private readonly List<IRoomAdapter> _created = [];

    /// <summary>A fresh, empty adapter for one namespace that delivers to <paramref name="delivery"/>.</summary>
    protected abstract IRoomAdapter CreateAdapter(string namespaceName, ILocalDelivery delivery);

    private (IRoomAdapter Adapter, RecordingDelivery Delivery) Create()
    {
        var delivery = new RecordingDelivery();
        var adapter = CreateAdapter("/spec-" + Guid.NewGuid().ToString("N"), delivery);
        _created.Add(adapter);
        return (adapter, delivery);
    }

    [TearDown]
    public async Task DisposeAdapters()
    {
        foreach (var adapter in _created)
        {
            await adapter.DisposeAsync();
        }
        _created.Clear();
    }

    /// <summary>Connects a socket as the namespace does: in the room of its own id, then in <paramref name="rooms"/>.</summary>
    private static async Task ConnectAsync(IRoomAdapter adapter, RecordingDelivery delivery, string id, params string[] rooms)
    {
        delivery.Connected.Add(id);
        await adapter.AddAllAsync(id, [id, .. rooms]);
    }

    /// <summary>A real event packet (a cluster adapter re-encodes what it forwards), marked by its argument.</summary>
    private static EncodedPacket Packet(string marker) => SocketIoEncoder.EncodeEvent("/", "ev", [marker]);

    private static BroadcastTarget Target(string[] rooms, params string[] except) =>
        new(new HashSet<string>(rooms, StringComparer.Ordinal), new HashSet<string>(except, StringComparer.Ordinal));

    [Test]
    public async Task AddAllPutsTheSocketInEveryRoom()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1", "a", "b");
        Assert.That(adapter.RoomsOf("s1"), Is.EquivalentTo(new[] { "s1", "a", "b" }));
        Assert.That(await adapter.RoomSizeAsync("a"), Is.EqualTo(1));
        Assert.That(await adapter.RoomSizeAsync("s1"), Is.EqualTo(1));
        Assert.That(await adapter.RoomSizeAsync("nobody"), Is.Zero);
    }

    [Test]
    public async Task AddingTwiceCountsOnce()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1", "a");
        await adapter.AddAllAsync("s1", ["a", "a"]);
        Assert.That(await adapter.RoomSizeAsync("a"), Is.EqualTo(1));
        Assert.That(adapter.RoomsOf("s1"), Is.EquivalentTo(new[] { "s1", "a" }));
    }

    [Test]
    public async Task RoomSizesFollowJoinsAndLeaves()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1", "a");
        await ConnectAsync(adapter, delivery, "s2", "a");
        await ConnectAsync(adapter, delivery, "s3", "a", "b");
        Assert.That(await adapter.RoomSizeAsync("a"), Is.EqualTo(3));
        await adapter.DeleteAsync("s2", "a");
        Assert.That(await adapter.RoomSizeAsync("a"), Is.EqualTo(2));
        Assert.That(adapter.RoomsOf("s2"), Is.EquivalentTo(new[] { "s2" }));
        await adapter.DeleteAsync("s2", "a");
        await adapter.DeleteAsync("s2", "never-joined");
        Assert.That(await adapter.RoomSizeAsync("a"), Is.EqualTo(2));
        Assert.That(await adapter.RoomSizeAsync("b"), Is.EqualTo(1));
    }

    [Test]
    public async Task DeleteAllRemovesTheSocketEverywhere()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1", "a", "b");
        await ConnectAsync(adapter, delivery, "s2", "a");
        await adapter.DeleteAllAsync("s1");
        Assert.That(adapter.RoomsOf("s1"), Is.Empty);
        Assert.That(await adapter.RoomSizeAsync("a"), Is.EqualTo(1));
        Assert.That(await adapter.RoomSizeAsync("b"), Is.Zero);
        Assert.That(await adapter.RoomSizeAsync("s1"), Is.Zero);
        await adapter.DeleteAllAsync("s1");
        await adapter.DeleteAllAsync("unknown");
    }

    [Test]
    public async Task LocalRoomCountGoesBackToZero()
    {
        var (adapter, delivery) = Create();
        Assert.That(adapter.LocalRoomCount, Is.Zero);
        await ConnectAsync(adapter, delivery, "s1", "a", "b");
        await ConnectAsync(adapter, delivery, "s2", "b", "c");
        Assert.That(adapter.LocalRoomCount, Is.EqualTo(5));
        await adapter.DeleteAsync("s1", "a");
        Assert.That(adapter.LocalRoomCount, Is.EqualTo(4));
        await adapter.DeleteAllAsync("s1");
        await adapter.DeleteAllAsync("s2");
        Assert.That(adapter.LocalRoomCount, Is.Zero);
    }

    [Test]
    public async Task BroadcastToAllReachesEverySocketOnce()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1", "a", "b");
        await ConnectAsync(adapter, delivery, "s2");
        await adapter.BroadcastAsync(Packet("x"), BroadcastTarget.All);
        Assert.That(delivery.Receivers, Is.EqualTo(new[] { "s1", "s2" }));
        Assert.That(delivery.Delivered.Select(d => d.Text), Is.All.EqualTo("2[\"ev\",\"x\"]"));
    }

    [Test]
    public async Task BroadcastToARoom()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1", "a");
        await ConnectAsync(adapter, delivery, "s2", "a");
        await ConnectAsync(adapter, delivery, "s3", "b");
        await adapter.BroadcastAsync(Packet("p"), Target(["a"]));
        Assert.That(delivery.Receivers, Is.EqualTo(new[] { "s1", "s2" }));
    }

    [Test]
    public async Task BroadcastToSeveralRoomsIsAUnionWithoutDuplicates()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1", "a", "b");
        await ConnectAsync(adapter, delivery, "s2", "b");
        await ConnectAsync(adapter, delivery, "s3", "c");
        await ConnectAsync(adapter, delivery, "s4");
        await adapter.BroadcastAsync(Packet("p"), Target(["a", "b", "c"]));
        Assert.That(delivery.Receivers, Is.EqualTo(new[] { "s1", "s2", "s3" }));
        Assert.That(await adapter.SocketIdsAsync(Target(["a", "b"])), Is.EquivalentTo(new[] { "s1", "s2" }));
    }

    [Test]
    public async Task BroadcastExceptRooms()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1", "a");
        await ConnectAsync(adapter, delivery, "s2", "a", "muted");
        await ConnectAsync(adapter, delivery, "s3");
        await adapter.BroadcastAsync(Packet("p"), Target(["a"], "muted"));
        Assert.That(delivery.Receivers, Is.EqualTo(new[] { "s1" }));
    }

    [Test]
    public async Task BroadcastToAllExceptASocketId()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1", "a");
        await ConnectAsync(adapter, delivery, "s2", "a");
        await ConnectAsync(adapter, delivery, "s3");
        await adapter.BroadcastAsync(Packet("p"), Target([], "s1"));
        Assert.That(delivery.Receivers, Is.EqualTo(new[] { "s2", "s3" }));
        Assert.That(await adapter.SocketIdsAsync(Target(["a"], "s2", "nothing")), Is.EquivalentTo(new[] { "s1" }));
    }

    [Test]
    public async Task BroadcastToAnEmptyRoomReachesNobody()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1");
        await adapter.BroadcastAsync(Packet("p"), Target(["empty"]));
        Assert.That(delivery.Delivered, Is.Empty);
        Assert.That(await adapter.SocketIdsAsync(Target(["empty"])), Is.Empty);
    }

    [Test]
    public async Task DisconnectedSocketsReceiveNothing()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1", "a");
        await ConnectAsync(adapter, delivery, "s2", "a");
        await adapter.DeleteAllAsync("s2");
        await adapter.BroadcastAsync(Packet("p"), Target(["a"]));
        await adapter.BroadcastAsync(Packet("q"), BroadcastTarget.All);
        Assert.That(delivery.Receivers, Is.EqualTo(new[] { "s1", "s1" }));
    }

    [Test]
    public async Task JoinIfBelowReportsWhatItDid()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1");
        await ConnectAsync(adapter, delivery, "s2");
        await ConnectAsync(adapter, delivery, "s3");
        Assert.That(await adapter.JoinIfBelowAsync("s1", "room", 2), Is.EqualTo(new RoomJoin(0, true, false)));
        Assert.That(await adapter.JoinIfBelowAsync("s1", "room", 2), Is.EqualTo(new RoomJoin(1, true, true)));
        Assert.That(await adapter.JoinIfBelowAsync("s2", "room", 2), Is.EqualTo(new RoomJoin(1, true, false)));
        Assert.That(await adapter.JoinIfBelowAsync("s3", "room", 2), Is.EqualTo(new RoomJoin(2, false, false)));
        Assert.That(await adapter.RoomSizeAsync("room"), Is.EqualTo(2));
        Assert.That(adapter.RoomsOf("s3"), Does.Not.Contain("room"));
    }

    [Test]
    public async Task JoinIfBelowIsAtomicUnderParallelCalls()
    {
        var (adapter, delivery) = Create();
        var ids = Enumerable.Range(0, 50).Select(i => $"s{i}").ToArray();
        foreach (var id in ids)
        {
            await ConnectAsync(adapter, delivery, id);
        }
        using var start = new ManualResetEventSlim();
        var joins = ids.Select(id => Task.Run(async () =>
        {
            start.Wait();
            return await adapter.JoinIfBelowAsync(id, "contested", 2);
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(joins).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(results.Count(r => r.Joined), Is.EqualTo(2));
        Assert.That(results.Where(r => r.Joined).Select(r => r.CountBefore).Order(), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(results.Where(r => !r.Joined).Select(r => r.CountBefore), Is.All.EqualTo(2));
        Assert.That(await adapter.RoomSizeAsync("contested"), Is.EqualTo(2));
    }

    [Test]
    public async Task ParallelJoinsAndLeavesStayConsistent()
    {
        var (adapter, delivery) = Create();
        var ids = Enumerable.Range(0, 40).Select(i => $"s{i}").ToArray();
        await Task.WhenAll(ids.Select(id => Task.Run(async () =>
        {
            await ConnectAsync(adapter, delivery, id, "lobby");
            for (int i = 0; i < 20; i++)
            {
                await adapter.AddAllAsync(id, [$"r{i % 5}"]);
                await adapter.DeleteAsync(id, $"r{i % 5}");
            }
        }))).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(await adapter.RoomSizeAsync("lobby"), Is.EqualTo(40));
        for (int i = 0; i < 5; i++)
        {
            Assert.That(await adapter.RoomSizeAsync($"r{i}"), Is.Zero);
        }
        await Task.WhenAll(ids.Select(id => Task.Run(() => adapter.DeleteAllAsync(id).AsTask())));
        Assert.That(adapter.LocalRoomCount, Is.Zero);
    }

    [Test]
    public async Task RoomsOfAnUnknownSocketIsEmpty()
    {
        var (adapter, _) = Create();
        Assert.That(adapter.RoomsOf("ghost"), Is.Empty);
        Assert.That(await adapter.SocketIdsAsync(BroadcastTarget.All), Is.Empty);
    }

    [Test]
    public async Task RoomsOfIsASnapshot()
    {
        var (adapter, delivery) = Create();
        await ConnectAsync(adapter, delivery, "s1", "a");
        var rooms = adapter.RoomsOf("s1");
        await adapter.AddAllAsync("s1", ["b"]);
        Assert.That(rooms, Is.EquivalentTo(new[] { "s1", "a" }));
    }

    [Test]
    public async Task NamespacesAreSeparate()
    {
        var (first, d1) = Create();
        var (second, d2) = Create();
        await ConnectAsync(first, d1, "s1", "a");
        await ConnectAsync(second, d2, "s2", "a");
        Assert.That(await first.RoomSizeAsync("a"), Is.EqualTo(1));
        await first.BroadcastAsync(Packet("p"), Target(["a"]));
        Assert.That(d1.Receivers, Is.EqualTo(new[] { "s1" }));
        Assert.That(d2.Delivered, Is.Empty);
    }
}
