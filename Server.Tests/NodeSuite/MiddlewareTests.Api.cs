using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>middleware.ts, the cases of asynchronous middlewares.</summary>
public sealed partial class MiddlewareTests : NodeSuiteFixture
{
    [Test(Description = "should only call connection after (lengthy) fns")]
    public async Task ShouldOnlyCallConnectionAfterLengthyFns()
    {
        var server = await StartAsync();
        var authenticated = false;
        server.Io.Use(async _ =>
        {
            await Task.Delay(300);
            authenticated = true;
        });
        var client = await ClientAsync(server);
        await client.ConnectedAsync();
        Assert.That(authenticated, Is.True);
    }

    [Test(Description = "should call functions in expected order")]
    public async Task ShouldCallFunctionsInExpectedOrder()
    {
        var server = await StartAsync();
        var result = new List<int>();
        var mainCalled = false;
        server.Io.Use(async _ =>
        {
            mainCalled = true;
            await Task.CompletedTask;
        });
        var chat = server.Io.Of("/chat");
        for (int i = 1; i <= 3; i++)
        {
            int n = i;
            chat.Use(async _ =>
            {
                lock (result)
                {
                    result.Add(n);
                }
                await Task.Delay(50);
            });
        }
        var client = await ClientAsync(server, "/chat");
        await client.ConnectedAsync();
        Assert.That(result, Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(mainCalled, Is.False);
    }
}

/// <summary>middleware.ts, the case of a connection closed while a middleware runs.</summary>
public sealed partial class MiddlewareTests
{
    [Test(Description = "should be ignored if socket gets closed")]
    public async Task ShouldBeIgnoredIfSocketGetsClosed()
    {
        var server = await StartAsync();
        var inMiddleware = new TaskCompletionSource<SocketIoSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
        var nextCalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connections = 0;
        server.Io.Use((s, next) =>
        {
            // as Node: the middleware goes on once the connection has closed
            s.Conn.OnClose(_ =>
            {
                next(null);
                nextCalled.TrySetResult();
            });
            inMiddleware.TrySetResult(s);
        });
        server.Io.OnConnection(_ => Interlocked.Increment(ref connections));
        var client = await ClientAsync(server);
        var socket = await inMiddleware.Task.Within();
        await client.CloseEngineAsync();
        await nextCalled.Task.Within();
        await Eventually.UntilAsync(() => socket.IsClosed, TaskTimeouts.Default, "the socket was dropped, not connected");
        Assert.That(connections, Is.Zero);
        Assert.That(socket.Connected, Is.False);
        Assert.That(server.Io.Sockets.Sockets, Is.Empty);
    }
}
