using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>socket.io 4.8 test/namespaces.ts, against our server, with socket.io-client 4.8.1.</summary>
[TestFixture]
public sealed partial class NamespacesTests : NodeSuiteFixture
{
    [Test(Description = "should be accessible through .sockets")]
    public async Task ShouldBeAccessibleThroughSockets()
    {
        var server = await StartAsync();
        Assert.That(server.Io.Sockets, Is.InstanceOf<SocketIoNamespace>());
        Assert.That(server.Io.Sockets.Name, Is.EqualTo("/"));
        Assert.That(server.Io.Of("/"), Is.SameAs(server.Io.Sockets));
    }

    [Test(Description = "should automatically connect")]
    public async Task ShouldAutomaticallyConnect()
    {
        var server = await StartAsync();
        var client = await ClientAsync(server);
        Assert.That(await client.ConnectedAsync(), Is.Not.Empty);
    }

    [Test(Description = "should fire a `connection` event")]
    public async Task ShouldFireAConnectionEvent()
    {
        var server = await StartAsync();
        var connections = server.Connections();
        var (_, id) = await Clients.ConnectedAsync(server.Url + "/");
        var socket = await connections.NextAsync();
        Assert.That(socket, Is.InstanceOf<SocketIoSocket>());
        Assert.That(socket.Id, Is.EqualTo(id));
    }

    [Test(Description = "should fire a `connect` event")]
    public async Task ShouldFireAConnectEvent()
    {
        // Node's "connect" is an alias of "connection" on a namespace; the .NET API has OnConnection alone
        var server = await StartAsync();
        var connected = new TaskCompletionSource<SocketIoSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(s => connected.TrySetResult(s));
        await ClientAsync(server);
        Assert.That(await connected.Task.Within(), Is.InstanceOf<SocketIoSocket>());
    }

    [Test(Description = "should work with many sockets")]
    public async Task ShouldWorkWithManySockets()
    {
        var server = await StartAsync();
        server.Io.Of("/chat");
        server.Io.Of("/news");
        var chat = await ClientAsync(server, "/chat");
        var news = await ClientAsync(server, "/news");
        await chat.ConnectedAsync();
        await news.ConnectedAsync();
    }

    [Test(Description = "should be able to equivalently start with \"\" or \"/\" on server")]
    public async Task ShouldBeAbleToEquivalentlyStartWithEmptyOrSlashOnServer()
    {
        var server = await StartAsync();
        var root = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var abc = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.Of("").OnConnection(_ => root.TrySetResult());
        server.Io.Of("abc").OnConnection(_ => abc.TrySetResult());
        await ClientAsync(server, "/");
        await ClientAsync(server, "/abc");
        await Task.WhenAll(root.Task, abc.Task).Within();
    }

    [Test(Description = "should be equivalent for \"\" and \"/\" on client")]
    public async Task ShouldBeEquivalentForEmptyAndSlashOnClient()
    {
        var server = await StartAsync();
        var connections = server.Connections("/");
        await ClientAsync(server, "");
        Assert.That((await connections.NextAsync()).Namespace.Name, Is.EqualTo("/"));
    }

    [Test(Description = "should work with `of` and many sockets")]
    public async Task ShouldWorkWithOfAndManySockets()
    {
        var server = await StartAsync();
        var calls = 0;
        server.Io.Of("/news").OnConnection(_ => Interlocked.Increment(ref calls));
        server.Io.Of("/news").OnConnection(_ => Interlocked.Increment(ref calls));
        await ClientAsync(server, "/chat");
        var news = await ClientAsync(server, "/news");
        await news.ConnectedAsync();
        await Eventually.UntilAsync(() => Volatile.Read(ref calls) == 2, TaskTimeouts.Default, "both connection handlers of /news ran");
    }

    [Test(Description = "should work with `of` second param")]
    public async Task ShouldWorkWithOfSecondParam()
    {
        // Node's io.of(name, fn) is io.Of(name).OnConnection(fn) here
        var server = await StartAsync();
        var calls = 0;
        server.Io.Of("/news").OnConnection(_ => Interlocked.Increment(ref calls));
        server.Io.Of("/news").OnConnection(_ => Interlocked.Increment(ref calls));
        await ClientAsync(server, "/chat");
        var news = await ClientAsync(server, "/news");
        await news.ConnectedAsync();
        await Eventually.UntilAsync(() => Volatile.Read(ref calls) == 2, TaskTimeouts.Default, "both connection handlers of /news ran");
    }

    [Test(Description = "should disconnect upon transport disconnection")]
    public async Task ShouldDisconnectUponTransportDisconnection()
    {
        var server = await StartAsync();
        var disconnects = new CountdownEvent(2);
        var chatSocket = new TaskCompletionSource<SocketIoSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
        var newsConnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.Of("/news").OnConnection(s =>
        {
            s.OnDisconnect(_ => disconnects.Signal());
            newsConnected.TrySetResult();
        });
        server.Io.Of("/chat").OnConnection(s =>
        {
            s.OnDisconnect(_ => disconnects.Signal());
            chatSocket.TrySetResult(s);
        });
        // one manager: both namespaces ride one connection
        var manager = await Clients.ManagerAsync(server.Url);
        await Clients.SocketAsync(manager, "/chat");
        await Clients.SocketAsync(manager, "/news");
        var chat = await chatSocket.Task.Within();
        await newsConnected.Task.Within();
        chat.Disconnect(true);
        await Eventually.UntilAsync(() => disconnects.IsSet, TaskTimeouts.Default, "both namespaces disconnected");
    }

    [Test(Description = "should fire a `disconnecting` event just before leaving all rooms")]
    public async Task ShouldFireADisconnectingEventJustBeforeLeavingAllRooms()
    {
        var server = await StartAsync();
        var roomsWhileDisconnecting = new TaskCompletionSource<string[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var roomsAfter = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var id = "";
        server.Io.OnConnection(s =>
        {
            id = s.Id;
            s.Join("a");
            s.OnDisconnecting(_ => roomsWhileDisconnecting.TrySetResult([.. s.Rooms]));
            s.OnDisconnect(_ => roomsAfter.TrySetResult(s.Rooms.Count));
            s.Disconnect();
        });
        await ClientAsync(server);
        Assert.That(await roomsWhileDisconnecting.Task.Within(), Is.EquivalentTo(new[] { id, "a" }));
        Assert.That(await roomsAfter.Task.Within(), Is.Zero);
    }

    [Test(Description = "should return error connecting to non-existent namespace")]
    public async Task ShouldReturnErrorConnectingToNonExistentNamespace()
    {
        var server = await StartAsync();
        var client = await ClientAsync(server, "/doesnotexist");
        Assert.That((await client.ConnectErrorAsync()).Message, Is.EqualTo("Invalid namespace"));
    }

    [Test(Description = "should not reuse same-namespace connections")]
    public async Task ShouldNotReuseSameNamespaceConnections()
    {
        var server = await StartAsync();
        var connections = server.Connections();
        // createClient twice for "/": the second one gets a manager of its own
        var manager = await Clients.ManagerAsync(server.Url);
        var first = await Clients.SocketAsync(manager, "/");
        var second = await ClientAsync(server, "/");
        await first.ConnectedAsync();
        await second.ConnectedAsync();
        var a = await connections.NextAsync();
        var b = await connections.NextAsync();
        Assert.That(a.Id, Is.Not.EqualTo(b.Id));
        Assert.That((await first.StateAsync())["engineId"]!.GetValue<string>(), Is.Not.EqualTo((await second.StateAsync())["engineId"]!.GetValue<string>()));
    }

    [Test(Description = "should find all clients in a namespace room")]
    public async Task ShouldFindAllClientsInANamespaceRoom()
    {
        var server = await StartAsync();
        var chatIndex = 0;
        string? chatFoo = null, chatBar = null, other = null;
        server.Io.Of("/chat").OnConnection(s =>
        {
            if (Interlocked.Increment(ref chatIndex) > 1)
            {
                s.Join("foo");
                chatFoo = s.Id;
            }
            else
            {
                s.Join("bar");
                chatBar = s.Id;
            }
        });
        server.Io.Of("/other").OnConnection(s =>
        {
            s.Join("foo");
            other = s.Id;
        });
        var c1 = await ClientAsync(server, "/chat");
        await c1.ConnectedAsync();
        var c2 = await ClientAsync(server, "/chat");
        var c3 = await ClientAsync(server, "/other");
        await c2.ConnectedAsync();
        await c3.ConnectedAsync();
        var sids = await server.Io.Of("/chat").In("foo").SocketIdsAsync().Within();
        Assert.That(sids, Does.Contain(chatFoo));
        Assert.That(sids, Does.Not.Contain(chatBar));
        Assert.That(sids, Does.Not.Contain(other));
    }

    [Test(Description = "should throw on reserved event")]
    public async Task ShouldThrowOnReservedEvent()
    {
        var server = await StartAsync();
        Assert.That(() => server.Io.Emit("connect"), Throws.ArgumentException.With.Message.Contains("\"connect\" is a reserved event name"));
    }

    [Test(Description = "should close a client without namespace")]
    public async Task ShouldCloseAClientWithoutNamespace()
    {
        var server = await StartAsync(o => o.ConnectTimeout = TimeSpan.FromMilliseconds(10));
        // the client never sends its CONNECT packet
        await Clients.RunAsync("""
            const s = io(args[0], { forceNew: true, reconnection: false });
            watch("silent", s);
            s.io.engine.write = () => {};
            """, server.Url + "/");
        await Clients.WaitForAsync(e => e.Client == "silent" && e.Event == "disconnect", "the silent client to be disconnected");
    }

    [Test(Description = "should exclude a specific socket when emitting")]
    public async Task ShouldExcludeASpecificSocketWhenEmitting()
    {
        var server = await StartAsync();
        var (socket1, _) = await Clients.ConnectedAsync(server.Url + "/");
        var (socket2, id2) = await Clients.ConnectedAsync(server.Url + "/");
        server.Io.Except(id2).Emit("a");
        server.Io.Emit("b");
        await socket1.WaitForAsync("a");
        await socket2.WaitForAsync("b");
        Assert.That(socket2.Seen("a"), Is.Empty);
    }

    [Test(Description = "should exclude a specific socket when emitting (in a namespace)")]
    public async Task ShouldExcludeASpecificSocketWhenEmittingInANamespace()
    {
        var server = await StartAsync();
        var nsp = server.Io.Of("/nsp");
        var (socket1, _) = await Clients.ConnectedAsync(server.Url + "/nsp");
        var (socket2, id2) = await Clients.ConnectedAsync(server.Url + "/nsp");
        nsp.Except(id2).Emit("a");
        nsp.Emit("b");
        await socket1.WaitForAsync("a");
        await socket2.WaitForAsync("b");
        Assert.That(socket2.Seen("a"), Is.Empty);
    }

    [Test(Description = "should exclude a specific room when emitting")]
    public async Task ShouldExcludeASpecificRoomWhenEmitting()
    {
        var server = await StartAsync();
        var nsp = server.Io.Of("/nsp");
        nsp.OnConnection(s => s.On("broadcast", _ =>
        {
            s.Join("room1");
            nsp.Except("room1").Emit("a");
            nsp.Emit("b");
        }));
        var (socket1, _) = await Clients.ConnectedAsync(server.Url + "/nsp");
        var (socket2, _) = await Clients.ConnectedAsync(server.Url + "/nsp");
        await socket2.EmitAsync("broadcast");
        await socket1.WaitForAsync("a");
        await socket2.WaitForAsync("b");
        Assert.That(socket2.Seen("a"), Is.Empty);
    }
}
