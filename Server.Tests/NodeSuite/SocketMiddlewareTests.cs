using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>socket.io 4.8 test/socket-middleware.ts, against our server, with socket.io-client 4.8.1.</summary>
[TestFixture]
public sealed class SocketMiddlewareTests : NodeSuiteFixture
{
    [Test(Description = "should call functions")]
    public async Task ShouldCallFunctions()
    {
        var server = await StartAsync();
        var run = 0;
        var wrapped = new TaskCompletionSource<(string, string, int)>(TaskCreationOptions.RunContinuationsAsynchronously);
        string? first = null, second = null;
        server.Io.OnConnection(socket =>
        {
            socket.Use((e, next) =>
            {
                first = $"{e.Name} {string.Join(",", e.Args.Select(a => a?.ToJsonString()))}";
                // Node's event.unshift("wrap"): the event becomes "wrap" with the old name as its first argument
                e.Args = [System.Text.Json.Nodes.JsonValue.Create(e.Name), .. e.Args.Select(a => a?.DeepClone())];
                e.Name = "wrap";
                run++;
                next(null);
            });
            socket.Use((e, next) =>
            {
                second = $"{e.Name} {string.Join(",", e.Args.Select(a => a?.ToJsonString()))}";
                run++;
                next(null);
            });
            socket.On("wrap", e => wrapped.TrySetResult((e.Arg(0)!.GetValue<string>(), e.Arg(1)!.GetValue<string>(), run)));
        });
        var client = await ClientAsync(server, "/", new { multiplex = false });
        await client.EmitAsync("join", "woot");
        Assert.That(await wrapped.Task.Within(), Is.EqualTo(("join", "woot", 2)));
        Assert.That(first, Is.EqualTo("join \"woot\""));
        Assert.That(second, Is.EqualTo("wrap \"join\",\"woot\""));
    }

    [Test(Description = "should pass errors")]
    public async Task ShouldPassErrors()
    {
        var server = await StartAsync();
        var error = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondRan = false;
        var joined = false;
        server.Io.OnConnection(socket =>
        {
            socket.Use((_, next) => next(new InvalidOperationException("Authentication error")));
            socket.Use((_, next) =>
            {
                secondRan = true;
                next(null);
            });
            socket.On("join", _ => joined = true);
            socket.OnError(ex => error.TrySetResult(ex));
        });
        var client = await ClientAsync(server, "/", new { multiplex = false });
        await client.EmitAsync("join", "woot");
        Assert.That((await error.Task.Within()).Message, Is.EqualTo("Authentication error"));
        Assert.That(secondRan, Is.False);
        Assert.That(joined, Is.False);
    }
}
