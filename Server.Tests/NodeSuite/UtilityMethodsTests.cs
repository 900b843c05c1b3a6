using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>socket.io 4.8 test/utility-methods.ts, against our server, with socket.io-client 4.8.1.</summary>
[TestFixture]
public sealed class UtilityMethodsTests : NodeSuiteFixture
{
    private SuiteServer _server = null!;
    private NodeClient[] _clients = null!;
    private SocketIoSocket[] _sockets = null!;

    /// <summary>The original's beforeEach: three WebSocket clients connected.</summary>
    [SetUp]
    public async Task ThreeClientsAsync()
    {
        _server = await StartAsync();
        var connections = _server.Connections();
        _clients = new NodeClient[3];
        _sockets = new SocketIoSocket[3];
        for (int i = 0; i < 3; i++)
        {
            _clients[i] = await ClientAsync(_server, "/", new { transports = new[] { "websocket" } });
            var id = await _clients[i].ConnectedAsync();
            _sockets[i] = await connections.NextAsync();
            Assert.That(_sockets[i].Id, Is.EqualTo(id));
        }
    }

    private async Task JoinRoomsAsync()
    {
        await _sockets[0].JoinAsync("room1");
        await _sockets[0].JoinAsync("room2");
        await _sockets[1].JoinAsync("room1");
        await _sockets[2].JoinAsync("room2");
    }

    private static Task UntilAsync(Func<bool> condition, string because) => Eventually.UntilAsync(condition, TaskTimeouts.Default, because);

    [Test(Description = "fetchSockets › returns all socket instances")]
    public async Task FetchSocketsReturnsAllSocketInstances()
    {
        var sockets = await _server.Io.FetchSocketsAsync().Within();
        Assert.That(sockets.Select(s => s.Id), Is.EquivalentTo(_sockets.Select(s => s.Id)));
    }

    [Test(Description = "fetchSockets › returns all socket instances in the given room")]
    public async Task FetchSocketsReturnsAllSocketInstancesInTheGivenRoom()
    {
        await JoinRoomsAsync();
        var sockets = await _server.Io.In("room1").FetchSocketsAsync().Within();
        Assert.That(sockets.Select(s => s.Id), Is.EquivalentTo(new[] { _sockets[0].Id, _sockets[1].Id }));
    }

    [Test(Description = "socketsJoin › makes all socket instances join the given room")]
    public async Task SocketsJoinMakesAllSocketInstancesJoinTheGivenRoom()
    {
        _server.Io.SocketsJoin("room1");
        await UntilAsync(() => _sockets.All(s => s.Rooms.Contains("room1")), "every socket in room1");
    }

    [Test(Description = "socketsJoin › makes all socket instances in a room join the given room")]
    public async Task SocketsJoinMakesAllSocketInstancesInARoomJoinTheGivenRoom()
    {
        await JoinRoomsAsync();
        _server.Io.In("room1").SocketsJoin("room3");
        await UntilAsync(() => _sockets[0].Rooms.Contains("room3") && _sockets[1].Rooms.Contains("room3"), "the sockets of room1 in room3");
        Assert.That(_sockets[2].Rooms, Does.Not.Contain("room3"));
    }

    [Test(Description = "socketsLeave › makes all socket instances leave the given room")]
    public async Task SocketsLeaveMakesAllSocketInstancesLeaveTheGivenRoom()
    {
        await JoinRoomsAsync();
        _server.Io.SocketsLeave("room1");
        await UntilAsync(() => !_sockets[0].Rooms.Contains("room1") && !_sockets[1].Rooms.Contains("room1"), "nobody in room1");
        Assert.That(_sockets[0].Rooms, Does.Contain("room2"));
    }

    [Test(Description = "socketsLeave › makes all socket instances in a room leave the given room")]
    public async Task SocketsLeaveMakesAllSocketInstancesInARoomLeaveTheGivenRoom()
    {
        await JoinRoomsAsync();
        _server.Io.In("room2").SocketsLeave("room1");
        await UntilAsync(() => !_sockets[0].Rooms.Contains("room1"), "socket 0 out of room1");
        Assert.That(_sockets[0].Rooms, Does.Contain("room2"));
        Assert.That(_sockets[1].Rooms, Does.Contain("room1"));
    }

    [Test(Description = "disconnectSockets › makes all socket instances disconnect")]
    public async Task DisconnectSocketsMakesAllSocketInstancesDisconnect()
    {
        _server.Io.DisconnectSockets(true);
        foreach (var client in _clients)
        {
            await client.DisconnectedAsync();
        }
    }

    [Test(Description = "disconnectSockets › makes all socket instances in a room disconnect")]
    public async Task DisconnectSocketsMakesAllSocketInstancesInARoomDisconnect()
    {
        await JoinRoomsAsync();
        _server.Io.In("room2").DisconnectSockets(true);
        await _clients[0].DisconnectedAsync();
        await _clients[2].DisconnectedAsync();
        // the one outside room2 still answers
        _sockets[1].Emit("still");
        await _clients[1].WaitForAsync("still");
        Assert.That(_clients[1].Seen("disconnect"), Is.Empty);
    }
}
