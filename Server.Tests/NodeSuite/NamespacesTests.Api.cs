using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>namespaces.ts, the cases of the utilities, flags and dynamic namespaces.</summary>
public sealed partial class NamespacesTests : NodeSuiteFixture
{
    private static readonly Regex Dynamic = new("^/dynamic-\\d+$");

    private async Task<(string ChatFoo, string ChatBar, string Other, SuiteServer Server)> ThreeInRoomsAsync()
    {
        var server = await StartAsync();
        var chat = server.Connections("/chat");
        var other = server.Connections("/other");
        var c1 = await ClientAsync(server, "/chat");
        await c1.ConnectedAsync();
        var bar = await chat.NextAsync();
        await bar.JoinAsync("bar");
        await ClientAsync(server, "/chat");
        var foo = await chat.NextAsync();
        await foo.JoinAsync("foo");
        await ClientAsync(server, "/other");
        var o = await other.NextAsync();
        await o.JoinAsync("foo");
        return (foo.Id, bar.Id, o.Id, server);
    }

    [Test(Description = "should find all clients in a namespace")]
    public async Task ShouldFindAllClientsInANamespace()
    {
        var (foo, bar, other, server) = await ThreeInRoomsAsync();
        var sids = (await server.Io.Of("/chat").FetchSocketsAsync().Within()).Select(s => s.Id).ToArray();
        Assert.That(sids, Is.EquivalentTo(new[] { foo, bar }));
        Assert.That(sids, Does.Not.Contain(other));
    }

    [Test(Description = "should find all clients across namespace rooms")]
    public async Task ShouldFindAllClientsAcrossNamespaceRooms()
    {
        var (foo, bar, other, server) = await ThreeInRoomsAsync();
        var sids = (await server.Io.Of("/chat").FetchSocketsAsync().Within()).Select(s => s.Id).ToArray();
        Assert.That(sids, Does.Contain(foo).And.Contain(bar));
        Assert.That(sids, Does.Not.Contain(other));
    }

    private async Task<int> CountVolatileAsync(TimeSpan delay, Action<SocketIoNamespace> emit)
    {
        var server = await StartAsync();
        var chat = server.Io.Of("/chat");
        var connected = new TaskCompletionSource<SocketIoSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Node emits from one timer callback: one turn of its event loop. Here the emits run in one handler (the
        // turn of the incoming "go"), so "right after" means the same thing whatever the thread pool does.
        chat.OnConnection(s =>
        {
            s.On("go", _ =>
            {
                emit(chat);
                chat.Emit("end");
            });
            connected.TrySetResult(s);
        });
        var client = await ClientAsync(server, "/chat");
        var socket = await connected.Task.Within();
        // "no packets being sent for opening the connection": the upgrade to WebSocket included, then the case's pause
        await Eventually.UntilAsync(() => socket.Conn.Transport == "websocket", TaskTimeouts.Default, "the client upgraded");
        await Task.Delay(delay);
        await client.EmitAsync("go");
        await client.WaitForAsync("end");
        return client.Seen("ev").Count;
    }

    [Test(Description = "should emit volatile event")]
    public async Task ShouldEmitVolatileEvent() =>
        Assert.That(await CountVolatileAsync(TimeSpan.FromMilliseconds(100), chat => chat.Volatile.Emit("ev", "data")), Is.EqualTo(1));

    [Test(Description = "should emit an 'new_namespace' event")]
    public async Task ShouldEmitANewNamespaceEvent()
    {
        var server = await StartAsync();
        var created = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnNewNamespace(nsp => created.TrySetResult(nsp.Name));
        server.Io.Of("/nsp");
        Assert.That(await created.Task.Within(), Is.EqualTo("/nsp"));
    }

    [Test(Description = "should not clean up a non-dynamic namespace")]
    public async Task ShouldNotCleanUpANonDynamicNamespace()
    {
        var server = await StartAsync(o => o.CleanupEmptyChildNamespaces = true);
        var chat = server.Io.Of("/chat");
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        chat.OnConnection(s => s.OnDisconnect(_ => disconnected.TrySetResult()));
        var c1 = await ClientAsync(server, "/chat");
        await c1.ConnectedAsync();
        await c1.DisconnectAsync();
        await disconnected.Task.Within();
        Assert.That(server.Io.TryGetNamespace("/chat", out var nsp), Is.True);
        Assert.That(nsp!.Sockets, Is.Empty);
    }

    [Test(Description = "dynamic namespaces › should allow connections to dynamic namespaces with a regex")]
    public async Task DynamicNamespacesShouldAllowConnectionsToDynamicNamespacesWithARegex()
    {
        var server = await StartAsync();
        var middleware = 0;
        var name = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        SocketIoNamespace? dynamicNsp = null;
        dynamicNsp = server.Io.Of(Dynamic)
            .Use((_, next) =>
            {
                Interlocked.Increment(ref middleware);
                next(null);
            })
            .OnConnection(s =>
            {
                name.TrySetResult(s.Namespace.Name);
                s.Namespace.Emit("hello", 1, "2", new Dictionary<string, string> { ["3"] = "4" });
            });
        var client = await ClientAsync(server, "/dynamic-101");
        await client.ConnectedAsync();
        Assert.That(await name.Task.Within(), Is.EqualTo("/dynamic-101"));
        var hello = await client.WaitForAsync("hello");
        Assert.That(hello.Args.ToJsonString(), Is.EqualTo("""[1,"2",{"3":"4"}]"""));
        Assert.That(middleware, Is.EqualTo(1));
        Assert.That(client.Seen("connect_error"), Is.Empty);
    }

    [Test(Description = "dynamic namespaces › should allow connections to dynamic namespaces with a regex and emit in a room")]
    public async Task DynamicNamespacesShouldAllowConnectionsToDynamicNamespacesWithARegexAndEmitInARoom()
    {
        var server = await StartAsync();
        var middleware = 0;
        server.Io.Of(Dynamic)
            .Use((_, next) =>
            {
                Interlocked.Increment(ref middleware);
                next(null);
            })
            .OnConnection(s =>
            {
                Assert.That(s.Namespace.Name, Is.EqualTo("/dynamic-101"));
                s.Join("some-room");
                s.Namespace.To("some-room").Emit("hello", 4, "3", new Dictionary<string, string> { ["2"] = "1" });
            });
        var client = await ClientAsync(server, "/dynamic-101");
        var hello = await client.WaitForAsync("hello");
        Assert.That(hello.Args.ToJsonString(), Is.EqualTo("""[4,"3",{"2":"1"}]"""));
        Assert.That(middleware, Is.EqualTo(1));
    }

    [Test(Description = "dynamic namespaces › should allow connections to dynamic namespaces with a function")]
    public async Task DynamicNamespacesShouldAllowConnectionsToDynamicNamespacesWithAFunction()
    {
        var server = await StartAsync();
        server.Io.Of((name, _) => name == "/dynamic-101");
        var client = await ClientAsync(server, "/dynamic-101");
        await client.ConnectedAsync();
    }

    [Test(Description = "dynamic namespaces › should disallow connections when no dynamic namespace matches")]
    public async Task DynamicNamespacesShouldDisallowConnectionsWhenNoDynamicNamespaceMatches()
    {
        var server = await StartAsync();
        server.Io.Of(Dynamic);
        server.Io.Of((name, _) => name == "/dynamic-101");
        var client = await ClientAsync(server, "/abc");
        Assert.That((await client.ConnectErrorAsync()).Message, Is.EqualTo("Invalid namespace"));
    }

    [Test(Description = "dynamic namespaces › should emit an 'new_namespace' event for a dynamic namespace")]
    public async Task DynamicNamespacesShouldEmitANewNamespaceEventForADynamicNamespace()
    {
        var server = await StartAsync();
        server.Io.Of(Dynamic);
        var created = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnNewNamespace(nsp =>
        {
            if (nsp.Name == "/dynamic-101")
            {
                created.TrySetResult(nsp.Name);
            }
        });
        await ClientAsync(server, "/dynamic-101");
        Assert.That(await created.Task.Within(), Is.EqualTo("/dynamic-101"));
    }

    [Test(Description = "dynamic namespaces › should handle race conditions with dynamic namespaces (#4136)")]
    public async Task DynamicNamespacesShouldHandleRaceConditionsWithDynamicNamespaces4136()
    {
        var server = await StartAsync();
        var created = 0;
        var connected = 0;
        server.Io.OnNewNamespace(nsp =>
        {
            if (nsp.Name == "/dynamic-101")
            {
                Interlocked.Increment(ref created);
            }
        });
        // both connections are held in the matcher until the second one arrives, then both are let through
        var both = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = 0;
        server.Io.Of(async (_, _) =>
        {
            if (Interlocked.Increment(ref waiting) == 2)
            {
                both.TrySetResult(true);
            }
            return await both.Task;
        }).OnConnection(_ =>
        {
            if (Interlocked.Increment(ref connected) == 2)
            {
                server.Io.Of("/dynamic-101").Emit("message");
            }
        });
        var one = await ClientAsync(server, "/dynamic-101");
        var two = await ClientAsync(server, "/dynamic-101");
        await one.WaitForAsync("message");
        await two.WaitForAsync("message");
        Assert.That(created, Is.EqualTo(1));
    }

    [Test(Description = "dynamic namespaces › should clean up namespace when cleanupEmptyChildNamespaces is on and there are no more sockets in a namespace")]
    public async Task DynamicNamespacesShouldCleanUpNamespaceWhenCleanupIsOnAndNoMoreSockets()
    {
        var server = await StartAsync(o => o.CleanupEmptyChildNamespaces = true);
        server.Io.Of(Dynamic);
        var c1 = await ClientAsync(server, "/dynamic-101");
        await c1.ConnectedAsync();
        await c1.DisconnectAsync();
        await Eventually.UntilAsync(() => !server.Io.TryGetNamespace("/dynamic-101", out _), TaskTimeouts.Default, "/dynamic-101 cleaned up");
    }

    [Test(Description = "dynamic namespaces › should allow a client to connect to a cleaned up namespace")]
    public async Task DynamicNamespacesShouldAllowAClientToConnectToACleanedUpNamespace()
    {
        var server = await StartAsync(o => o.CleanupEmptyChildNamespaces = true);
        server.Io.Of(Dynamic);
        var c1 = await ClientAsync(server, "/dynamic-101");
        await c1.ConnectedAsync();
        await c1.DisconnectAsync();
        await Eventually.UntilAsync(() => !server.Io.TryGetNamespace("/dynamic-101", out _), TaskTimeouts.Default, "/dynamic-101 cleaned up");
        var c2 = await ClientAsync(server, "/dynamic-101");
        await c2.ConnectedAsync();
    }

    [Test(Description = "dynamic namespaces › should not clean up namespace when cleanupEmptyChildNamespaces is off and there are no more sockets in a namespace")]
    public async Task DynamicNamespacesShouldNotCleanUpNamespaceWhenCleanupIsOffAndNoMoreSockets()
    {
        var server = await StartAsync();
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.Of(Dynamic).OnConnection(s => s.OnDisconnect(_ => disconnected.TrySetResult()));
        var c1 = await ClientAsync(server, "/dynamic-101");
        await c1.ConnectedAsync();
        await c1.DisconnectAsync();
        await disconnected.Task.Within();
        Assert.That(server.Io.TryGetNamespace("/dynamic-101", out var nsp), Is.True);
        Assert.That(nsp!.Sockets, Is.Empty);
    }

    [Test(Description = "dynamic namespaces › should NOT clean up namespace when cleanupEmptyChildNamespaces is OFF and client is rejected in middleware")]
    public async Task DynamicNamespacesShouldNotCleanUpNamespaceWhenCleanupIsOffAndClientIsRejectedInMiddleware()
    {
        var server = await StartAsync(o => o.CleanupEmptyChildNamespaces = false);
        server.Io.Of(Dynamic).Use((_, next) => next(new ConnectRejectedException("You shall not pass!")));
        var c1 = await ClientAsync(server, "/dynamic-101");
        await c1.ConnectErrorAsync();
        Assert.That(c1.Seen("connect"), Is.Empty);
        Assert.That(server.Io.TryGetNamespace("/dynamic-101", out var nsp), Is.True);
        Assert.That(nsp!.Sockets, Is.Empty);
    }

    [Test(Description = "dynamic namespaces › should NOT clean up namespace when cleanupEmptyChildNamespaces is ON and client is rejected in middleware but there are other clients connected")]
    public async Task DynamicNamespacesShouldNotCleanUpNamespaceWhenCleanupIsOnAndClientIsRejectedButOthersConnected()
    {
        var server = await StartAsync(o => o.CleanupEmptyChildNamespaces = true);
        var index = 0;
        server.Io.Of(Dynamic).Use((_, next) => next(Interlocked.Increment(ref index) > 1 ? new ConnectRejectedException("You shall not pass!") : null));
        var c1 = await ClientAsync(server, "/dynamic-101");
        await c1.ConnectedAsync();
        var c2 = await ClientAsync(server, "/dynamic-101");
        await c2.ConnectErrorAsync();
        Assert.That(server.Io.TryGetNamespace("/dynamic-101", out var nsp), Is.True);
        Assert.That(nsp!.Sockets, Has.Count.EqualTo(1));
    }

    [Test(Description = "should not emit volatile event after regular event")]
    public async Task ShouldNotEmitVolatileEventAfterRegularEvent() =>
        Assert.That(await CountVolatileAsync(TimeSpan.FromMilliseconds(50), chat =>
        {
            chat.Emit("ev", "data");
            chat.Volatile.Emit("ev", "data");
        }), Is.EqualTo(1));

    [Test(Description = "dynamic namespaces › should clean up namespace when cleanupEmptyChildNamespaces is ON and client is rejected in middleware")]
    public async Task DynamicNamespacesShouldCleanUpNamespaceWhenCleanupIsOnAndClientIsRejectedInMiddleware()
    {
        var server = await StartAsync(o => o.CleanupEmptyChildNamespaces = true);
        server.Io.Of(Dynamic).Use((_, next) => next(new ConnectRejectedException("You shall not pass!")));
        var c1 = await ClientAsync(server, "/dynamic-101");
        await c1.ConnectErrorAsync();
        await Eventually.UntilAsync(() => !server.Io.TryGetNamespace("/dynamic-101", out _), TaskTimeouts.Default, "/dynamic-101 cleaned up");
    }
}
