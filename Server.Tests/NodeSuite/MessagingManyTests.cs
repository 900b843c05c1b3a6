using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>socket.io 4.8 test/messaging-many.ts, against our server, with socket.io-client 4.8.1.</summary>
[TestFixture]
public sealed partial class MessagingManyTests : NodeSuiteFixture
{
    private static readonly object NoMultiplex = new { multiplex = false };

    /// <summary>The handlers most cases of the file install: join (with an optional ack) and the case's own.</summary>
    private static void Joins(SocketIoSocket socket) =>
        socket.On("join", e =>
        {
            socket.Join(e.Arg(0)!.GetValue<string>());
            if (e.HasAck)
            {
                e.Ack();
            }
        });

    [Test(Description = "emits to a namespace")]
    public async Task EmitsToANamespace()
    {
        var server = await StartAsync();
        server.Io.Of("/test");
        var (socket1, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket2, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket3, _) = await Clients.ConnectedAsync(server.Url + "/test");
        server.Io.Emit("a", "b");
        server.Io.Of("/test").Emit("end");
        Assert.That((await socket1.WaitForAsync("a")).Text(0), Is.EqualTo("b"));
        Assert.That((await socket2.WaitForAsync("a")).Text(0), Is.EqualTo("b"));
        await socket3.WaitForAsync("end");
        Assert.That(socket3.Seen("a"), Is.Empty);
    }

    [Test(Description = "emits binary data to a namespace")]
    public async Task EmitsBinaryDataToANamespace()
    {
        var server = await StartAsync();
        server.Io.Of("/test");
        var (socket1, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket2, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket3, _) = await Clients.ConnectedAsync(server.Url + "/test");
        server.Io.Emit("bin", new byte[10]);
        server.Io.Of("/test").Emit("end");
        Assert.That(NodeClients.BytesOf((await socket1.WaitForAsync("bin")).Arg(0)), Is.EqualTo(new byte[10]));
        Assert.That(NodeClients.BytesOf((await socket2.WaitForAsync("bin")).Arg(0)), Is.EqualTo(new byte[10]));
        await socket3.WaitForAsync("end");
        Assert.That(socket3.Seen("bin"), Is.Empty);
    }

    [Test(Description = "emits to the rest")]
    public async Task EmitsToTheRest()
    {
        var server = await StartAsync();
        server.Io.Of("/test");
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(s =>
        {
            s.On("broadcast", _ =>
            {
                s.Broadcast.Emit("a", "b");
                server.Io.Emit("end");
                server.Io.Of("/test").Emit("end");
            });
            s.On("finish", _ => finished.TrySetResult());
        });
        var (socket1, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket2, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket3, _) = await Clients.ConnectedAsync(server.Url + "/test");
        await socket2.EmitAsync("broadcast");
        Assert.That((await socket1.WaitForAsync("a")).Text(0), Is.EqualTo("b"));
        await socket1.EmitAsync("finish");
        await finished.Task.Within();
        await socket2.WaitForAsync("end");
        await socket3.WaitForAsync("end");
        Assert.That(socket2.Seen("a"), Is.Empty);
        Assert.That(socket3.Seen("a"), Is.Empty);
    }

    [Test(Description = "emits to rooms")]
    public async Task EmitsToRooms()
    {
        var server = await StartAsync();
        server.Io.OnConnection(s =>
        {
            Joins(s);
            s.On("emit", e =>
            {
                server.Io.In(e.Arg(0)!.GetValue<string>()).Emit("a");
                server.Io.Emit("end");
            });
        });
        var socket1 = await ClientAsync(server, "/", NoMultiplex);
        var (socket2, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        await socket1.EmitAsync("join", "woot");
        await socket1.EmitAsync("emit", "woot");
        await socket1.WaitForAsync("a");
        await socket2.WaitForAsync("end");
        Assert.That(socket2.Seen("a"), Is.Empty);
    }

    [Test(Description = "emits to rooms avoiding dupes")]
    public async Task EmitsToRoomsAvoidingDupes()
    {
        var server = await StartAsync();
        server.Io.OnConnection(s =>
        {
            Joins(s);
            s.On("emit", _ =>
            {
                server.Io.In("woot").In("test").Emit("a");
                server.Io.In("third").Emit("b");
                server.Io.Emit("end");
            });
        });
        var (socket1, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket2, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        await socket1.EmitAsync("join", "woot");
        await socket1.EmitWithAckAsync("join", "test");
        await socket2.EmitWithAckAsync("join", "third");
        await socket2.EmitAsync("emit");
        await socket2.WaitForAsync("b");
        await socket1.WaitForAsync("end");
        await socket2.WaitForAsync("end");
        Assert.That(socket1.Seen("a"), Has.Count.EqualTo(1));
        Assert.That(socket2.Seen("a"), Is.Empty);
    }

    [Test(Description = "broadcasts to rooms")]
    public async Task BroadcastsToRooms()
    {
        var server = await StartAsync();
        server.Io.OnConnection(s =>
        {
            Joins(s);
            s.On("broadcast", _ =>
            {
                s.Broadcast.To("test").Emit("a");
                s.Emit("b");
                server.Io.Emit("end");
            });
        });
        var (socket1, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket2, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket3, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        await socket1.EmitWithAckAsync("join", "woot");
        await socket2.EmitWithAckAsync("join", "test");
        await socket3.EmitWithAckAsync("join", "test");
        await socket3.EmitAsync("broadcast");
        await socket2.WaitForAsync("a");
        await socket3.WaitForAsync("b");
        foreach (var s in new[] { socket1, socket2, socket3 })
        {
            await s.WaitForAsync("end");
        }
        Assert.That(socket1.Seen("a"), Is.Empty);
        Assert.That(socket3.Seen("a"), Is.Empty);
    }

    [Test(Description = "broadcasts binary data to rooms")]
    public async Task BroadcastsBinaryDataToRooms()
    {
        var server = await StartAsync();
        server.Io.OnConnection(s =>
        {
            Joins(s);
            s.On("broadcast", _ =>
            {
                s.Broadcast.To("test").Emit("bin", new byte[5]);
                s.Emit("bin2", new byte[5]);
                server.Io.Emit("end");
            });
        });
        var (socket1, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket2, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket3, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        await socket1.EmitWithAckAsync("join", "woot");
        await socket2.EmitWithAckAsync("join", "test");
        await socket3.EmitWithAckAsync("join", "test");
        await socket3.EmitAsync("broadcast");
        Assert.That(NodeClients.BytesOf((await socket2.WaitForAsync("bin")).Arg(0)), Is.EqualTo(new byte[5]));
        Assert.That(NodeClients.BytesOf((await socket3.WaitForAsync("bin2")).Arg(0)), Is.EqualTo(new byte[5]));
        foreach (var s in new[] { socket1, socket2, socket3 })
        {
            await s.WaitForAsync("end");
        }
        Assert.That(socket1.Seen("bin"), Is.Empty);
        Assert.That(socket2.Seen("bin2"), Is.Empty);
        Assert.That(socket3.Seen("bin"), Is.Empty);
    }

    [Test(Description = "keeps track of rooms")]
    public async Task KeepsTrackOfRooms()
    {
        var server = await StartAsync();
        var connections = server.Connections();
        await ClientAsync(server);
        var s = await connections.NextAsync();
        await s.JoinAsync("a");
        Assert.That(s.Rooms, Is.EquivalentTo(new[] { s.Id, "a" }));
        await s.JoinAsync("b");
        Assert.That(s.Rooms, Is.EquivalentTo(new[] { s.Id, "a", "b" }));
        await s.JoinAsync("c");
        Assert.That(s.Rooms, Is.EquivalentTo(new[] { s.Id, "a", "b", "c" }));
        await s.LeaveAsync("b");
        Assert.That(s.Rooms, Is.EquivalentTo(new[] { s.Id, "a", "c" }));
        // Node's private leaveAll(): every room, its own id's too
        foreach (var room in s.Rooms.ToArray())
        {
            await s.LeaveAsync(room);
        }
        Assert.That(s.Rooms, Is.Empty);
    }

    [Test(Description = "deletes empty rooms")]
    public async Task DeletesEmptyRooms()
    {
        var server = await StartAsync();
        var connections = server.Connections();
        await ClientAsync(server);
        var s = await connections.NextAsync();
        var adapter = server.Io.Sockets.Adapter;
        int before = adapter.LocalRoomCount;
        await s.JoinAsync("a");
        Assert.That(adapter.LocalRoomCount, Is.EqualTo(before + 1));
        Assert.That(await adapter.RoomSizeAsync("a"), Is.EqualTo(1));
        await s.LeaveAsync("a");
        Assert.That(adapter.LocalRoomCount, Is.EqualTo(before));
        Assert.That(await adapter.RoomSizeAsync("a"), Is.Zero);
    }

    [Test(Description = "should properly cleanup left rooms")]
    public async Task ShouldProperlyCleanupLeftRooms()
    {
        var server = await StartAsync();
        var connections = server.Connections();
        await ClientAsync(server);
        var s = await connections.NextAsync();
        await s.JoinAsync("a");
        Assert.That(s.Rooms, Is.EquivalentTo(new[] { s.Id, "a" }));
        await s.JoinAsync("b");
        Assert.That(s.Rooms, Is.EquivalentTo(new[] { s.Id, "a", "b" }));
        await s.LeaveAsync("unknown");
        Assert.That(s.Rooms, Is.EquivalentTo(new[] { s.Id, "a", "b" }));
        foreach (var room in s.Rooms.ToArray())
        {
            await s.LeaveAsync(room);
        }
        Assert.That(s.Rooms, Is.Empty);
    }

    [Test(Description = "should exclude specific sockets when broadcasting")]
    public async Task ShouldExcludeSpecificSocketsWhenBroadcasting()
    {
        var server = await StartAsync();
        server.Io.OnConnection(s => s.On("exclude", e =>
        {
            s.Broadcast.Except(e.Arg(0)!.GetValue<string>()).Emit("a");
            server.Io.Emit("end");
        }));
        var (socket1, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket2, id2) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket3, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        await socket3.EmitAsync("exclude", id2);
        await socket1.WaitForAsync("a");
        await socket2.WaitForAsync("end");
        await socket3.WaitForAsync("end");
        Assert.That(socket2.Seen("a"), Is.Empty);
        Assert.That(socket3.Seen("a"), Is.Empty);
    }

    [Test(Description = "should exclude a specific room when broadcasting")]
    public async Task ShouldExcludeASpecificRoomWhenBroadcasting()
    {
        var server = await StartAsync();
        server.Io.OnConnection(s =>
        {
            Joins(s);
            s.On("broadcast", _ =>
            {
                s.Broadcast.Except("room1").Emit("a");
                server.Io.Emit("end");
            });
        });
        var (socket1, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket2, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        var (socket3, _) = await Clients.ConnectedAsync(server.Url + "/", NoMultiplex);
        await socket2.EmitWithAckAsync("join", "room1");
        await socket3.EmitAsync("broadcast");
        await socket1.WaitForAsync("a");
        await socket2.WaitForAsync("end");
        await socket3.WaitForAsync("end");
        Assert.That(socket2.Seen("a"), Is.Empty);
        Assert.That(socket3.Seen("a"), Is.Empty);
    }
}
