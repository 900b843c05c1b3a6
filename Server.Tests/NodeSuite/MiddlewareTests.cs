using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>socket.io 4.8 test/middleware.ts, against our server, with socket.io-client 4.8.1.</summary>
[TestFixture]
public sealed partial class MiddlewareTests : NodeSuiteFixture
{
    [Test(Description = "should call functions")]
    public async Task ShouldCallFunctions()
    {
        var server = await StartAsync();
        var run = 0;
        server.Io.Sockets.Use(socket =>
        {
            Assert.That(socket, Is.InstanceOf<SocketIoSocket>());
            Interlocked.Increment(ref run);
        });
        server.Io.Sockets.Use(socket =>
        {
            Assert.That(socket, Is.InstanceOf<SocketIoSocket>());
            Interlocked.Increment(ref run);
        });
        var client = await ClientAsync(server);
        await client.ConnectedAsync();
        Assert.That(run, Is.EqualTo(2));
    }

    [Test(Description = "should pass errors")]
    public async Task ShouldPassErrors()
    {
        var server = await StartAsync();
        var second = false;
        server.Io.Sockets.Use(_ => throw new ConnectRejectedException("Authentication error"));
        server.Io.Sockets.Use(_ => second = true);
        var client = await ClientAsync(server);
        Assert.That((await client.ConnectErrorAsync()).Message, Is.EqualTo("Authentication error"));
        Assert.That(second, Is.False);
        Assert.That(client.Seen("connect"), Is.Empty);
    }

    [Test(Description = "should pass an object")]
    public async Task ShouldPassAnObject()
    {
        var server = await StartAsync();
        server.Io.Sockets.Use(_ => throw new ConnectRejectedException("Authentication error", new JsonObject { ["a"] = "b", ["c"] = 3 }));
        var client = await ClientAsync(server);
        var (message, data) = await client.ConnectErrorAsync();
        Assert.That(message, Is.EqualTo("Authentication error"));
        Assert.That(data!.ToJsonString(), Is.EqualTo("""{"a":"b","c":3}"""));
        Assert.That(client.Seen("connect"), Is.Empty);
    }

    [Test(Description = "should only call connection after fns")]
    public async Task ShouldOnlyCallConnectionAfterFns()
    {
        var server = await StartAsync();
        // Node sets an ad-hoc property on the socket; socket.Data is the .NET place for it
        server.Io.Sockets.Use(socket => socket.Data = "guillermo");
        var connections = server.Connections();
        await ClientAsync(server);
        Assert.That((await connections.NextAsync()).Data, Is.EqualTo("guillermo"));
    }

    [Test(Description = "should disable the merge of handshake packets")]
    public async Task ShouldDisableTheMergeOfHandshakePackets()
    {
        var server = await StartAsync();
        server.Io.Sockets.Use(_ => { });
        var client = await ClientAsync(server);
        await client.ConnectedAsync();
    }

    [Test(Description = "should work with a custom namespace")]
    public async Task ShouldWorkWithACustomNamespace()
    {
        var server = await StartAsync();
        server.Io.Of("/chat").Use(_ => { });
        var socket1 = await ClientAsync(server, "/");
        var socket2 = await ClientAsync(server, "/chat");
        await socket1.ConnectedAsync();
        await socket2.ConnectedAsync();
    }

    [Test(Description = "should only set `connected` to true after the middleware execution")]
    public async Task ShouldOnlySetConnectedToTrueAfterTheMiddlewareExecution()
    {
        var server = await StartAsync();
        var inMiddleware = new TaskCompletionSource<(bool Connected, int Sockets)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inConnection = new TaskCompletionSource<(bool Connected, int Sockets)>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.Sockets.Use(socket => inMiddleware.TrySetResult((socket.Connected, server.Io.Sockets.Sockets.Count)));
        server.Io.OnConnection(socket => inConnection.TrySetResult((socket.Connected, server.Io.Sockets.Sockets.Count)));
        await ClientAsync(server);
        Assert.That(await inMiddleware.Task.Within(), Is.EqualTo((false, 0)));
        Assert.That(await inConnection.Task.Within(), Is.EqualTo((true, 1)));
    }
}
