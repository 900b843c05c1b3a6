using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>socket.ts, the cases of the flags and the catch-all listeners.</summary>
public sealed partial class SocketTests : NodeSuiteFixture
{
    /// <summary>
    /// The volatile cases: the server does <paramref name="emit"/> on connection (after <paramref name="delay"/>, as
    /// the original's setTimeout), then a regular "end" that shows every "ev" before it has arrived (no waiting for a quiet period); the count of "ev".
    /// </summary>
    private async Task<int> CountVolatileAsync(string transport, TimeSpan delay, Action<SocketIoServer, SocketIoSocket> emit)
    {
        var server = await StartAsync(engineIo: o => o.Transports = [transport]);
        // Node emits from one timer callback: one turn of its event loop. Here the emits run in one handler (the
        // turn of the incoming "go"), so "right after" means the same thing whatever the thread pool does.
        server.Io.OnConnection(s => s.On("go", _ =>
        {
            emit(server.Io, s);
            // a regular emit is never dropped: once it arrived, every "ev" before it has too
            s.Emit("end");
        }));
        var client = await ClientAsync(server, "/", new { transports = new[] { transport } });
        await client.ConnectedAsync();
        if (delay > TimeSpan.Zero)
        {
            // as the case: no packet of the opening in flight any more
            await Task.Delay(delay);
        }
        await client.EmitAsync("go");
        await client.WaitForAsync("end");
        return client.Seen("ev").Count;
    }

    [Test(Description = "should emit volatile event (polling)")]
    public async Task ShouldEmitVolatileEventPolling() =>
        Assert.That(await CountVolatileAsync("polling", TimeSpan.FromMilliseconds(100), (_, s) => s.Volatile.Emit("ev", "data")), Is.EqualTo(1));

    [Test(Description = "should emit volatile event (ws)")]
    public async Task ShouldEmitVolatileEventWs() =>
        Assert.That(await CountVolatileAsync("websocket", TimeSpan.FromMilliseconds(20), (_, s) => s.Volatile.Emit("ev", "data")), Is.EqualTo(1));

    [Test(Description = "onAny › should call listener")]
    public async Task OnAnyShouldCallListener()
    {
        var server = await StartAsync();
        var seen = new TaskCompletionSource<(string, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(s => s.OnAny(e => seen.TrySetResult((e.Name, e.Arg(0)!.GetValue<string>()))));
        var client = await ClientAsync(server, "/", new { multiplex = false });
        await client.EmitAsync("my-event", "123");
        Assert.That(await seen.Task.Within(), Is.EqualTo(("my-event", "123")));
    }

    [Test(Description = "onAny › should prepend listener")]
    public async Task OnAnyShouldPrependListener()
    {
        var server = await StartAsync();
        var order = new List<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(s =>
        {
            s.OnAny(_ =>
            {
                order.Add(2);
                done.TrySetResult();
            });
            s.PrependAny(_ => order.Add(1));
            s.PrependAny(_ => order.Add(0));
        });
        var client = await ClientAsync(server, "/", new { multiplex = false });
        await client.EmitAsync("my-event", "123");
        await done.Task.Within();
        Assert.That(order, Is.EqualTo(new[] { 0, 1, 2 }));
    }

    [Test(Description = "onAny › should remove listener")]
    public async Task OnAnyShouldRemoveListener()
    {
        var server = await StartAsync();
        var failed = false;
        var listeners = -1;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(s =>
        {
            Action<SocketIoEvent> fail = _ => failed = true;
            s.OnAny(fail);
            s.OffAny(fail);
            listeners = s.ListenersAny().Count;
            s.OnAny(_ => done.TrySetResult());
        });
        var client = await ClientAsync(server, "/", new { multiplex = false });
        await client.EmitAsync("my-event", "123");
        await done.Task.Within();
        Assert.That(listeners, Is.Zero);
        Assert.That(failed, Is.False);
    }

    [Test(Description = "onAnyOutgoing › should call listener")]
    public async Task OnAnyOutgoingShouldCallListener()
    {
        var server = await StartAsync();
        var seen = new TaskCompletionSource<(string, object?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(s =>
        {
            s.OnAnyOutgoing((name, args) => seen.TrySetResult((name, args[0])));
            s.Emit("my-event", "123");
        });
        await ClientAsync(server, "/", new { multiplex = false });
        Assert.That(await seen.Task.Within(), Is.EqualTo(("my-event", (object?)"123")));
    }

    [Test(Description = "onAnyOutgoing › should call listener when broadcasting")]
    public async Task OnAnyOutgoingShouldCallListenerWhenBroadcasting()
    {
        var server = await StartAsync();
        var seen = new TaskCompletionSource<(string, object?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(s =>
        {
            s.OnAnyOutgoing((name, args) => seen.TrySetResult((name, args[0])));
            server.Io.Emit("my-event", "123");
        });
        await ClientAsync(server, "/", new { multiplex = false });
        Assert.That(await seen.Task.Within(), Is.EqualTo(("my-event", (object?)"123")));
    }

    [Test(Description = "onAnyOutgoing › should call listener when broadcasting binary data")]
    public async Task OnAnyOutgoingShouldCallListenerWhenBroadcastingBinaryData()
    {
        var server = await StartAsync();
        var seen = new TaskCompletionSource<(string, object?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(s =>
        {
            s.OnAnyOutgoing((name, args) => seen.TrySetResult((name, args[0])));
            server.Io.Emit("my-event", new byte[] { 1, 2, 3 });
        });
        await ClientAsync(server, "/", new { multiplex = false });
        var (name, arg) = await seen.Task.Within();
        Assert.That(name, Is.EqualTo("my-event"));
        Assert.That(arg, Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test(Description = "onAnyOutgoing › should prepend listener")]
    public async Task OnAnyOutgoingShouldPrependListener()
    {
        var server = await StartAsync();
        var order = new List<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(s =>
        {
            s.OnAnyOutgoing((_, _) =>
            {
                order.Add(2);
                done.TrySetResult();
            });
            s.PrependAnyOutgoing((_, _) => order.Add(1));
            s.PrependAnyOutgoing((_, _) => order.Add(0));
            s.Emit("my-event", "123");
        });
        await ClientAsync(server, "/", new { multiplex = false });
        await done.Task.Within();
        Assert.That(order, Is.EqualTo(new[] { 0, 1, 2 }));
    }

    [Test(Description = "onAnyOutgoing › should remove listener")]
    public async Task OnAnyOutgoingShouldRemoveListener()
    {
        var server = await StartAsync();
        var failed = false;
        var listeners = -1;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(s =>
        {
            Action<string, IReadOnlyList<object?>> fail = (_, _) => failed = true;
            s.OnAnyOutgoing(fail);
            s.OffAnyOutgoing(fail);
            listeners = s.ListenersAnyOutgoing().Count;
            s.OnAnyOutgoing((_, _) => done.TrySetResult());
            s.Emit("my-event", "123");
        });
        await ClientAsync(server, "/", new { multiplex = false });
        await done.Task.Within();
        Assert.That(listeners, Is.Zero);
        Assert.That(failed, Is.False);
    }

    [Test(Description = "should not emit volatile event after regular event (polling)")]
    public async Task ShouldNotEmitVolatileEventAfterRegularEventPolling() =>
        Assert.That(await CountVolatileAsync("polling", TimeSpan.Zero, (_, s) =>
        {
            s.Emit("ev", "data");
            s.Volatile.Emit("ev", "data");
        }), Is.EqualTo(1));

    [Test(Description = "should not emit volatile event after regular event (ws)")]
    public async Task ShouldNotEmitVolatileEventAfterRegularEventWs() =>
        Assert.That(await CountVolatileAsync("websocket", TimeSpan.Zero, (_, s) =>
        {
            s.Emit("ev", "data");
            s.Volatile.Emit("ev", "data");
        }), Is.EqualTo(1));

    [Test(Description = "should emit only one consecutive volatile event (polling)")]
    public async Task ShouldEmitOnlyOneConsecutiveVolatileEventPolling() =>
        Assert.That(await CountVolatileAsync("polling", TimeSpan.FromMilliseconds(100), (_, s) =>
        {
            s.Volatile.Emit("ev", "data");
            s.Volatile.Emit("ev", "data");
        }), Is.EqualTo(1));

    [Test(Description = "should emit only one consecutive volatile event (ws)")]
    public async Task ShouldEmitOnlyOneConsecutiveVolatileEventWs() =>
        Assert.That(await CountVolatileAsync("websocket", TimeSpan.FromMilliseconds(20), (_, s) =>
        {
            s.Volatile.Emit("ev", "data");
            s.Volatile.Emit("ev", "data");
        }), Is.EqualTo(1));

    [Test(Description = "should emit only one consecutive volatile event with binary (ws)")]
    public async Task ShouldEmitOnlyOneConsecutiveVolatileEventWithBinaryWs() =>
        Assert.That(await CountVolatileAsync("websocket", TimeSpan.FromMilliseconds(20), (_, s) =>
        {
            s.Volatile.Emit("ev", new byte[] { 1, 2, 3 });
            s.Volatile.Emit("ev", new byte[] { 4, 5, 6 });
        }), Is.EqualTo(1));

    [Test(Description = "should broadcast only one consecutive volatile event with binary (ws)")]
    public async Task ShouldBroadcastOnlyOneConsecutiveVolatileEventWithBinaryWs() =>
        Assert.That(await CountVolatileAsync("websocket", TimeSpan.FromMilliseconds(20), (io, _) =>
        {
            io.Volatile.Emit("ev", new byte[] { 1, 2, 3 });
            io.Volatile.Emit("ev", new byte[] { 4, 5, 6 });
        }), Is.EqualTo(1));

    [Test(Description = "should emit regular events after trying a failed volatile event (ws)")]
    public async Task ShouldEmitRegularEventsAfterTryingAFailedVolatileEventWs() =>
        Assert.That(await CountVolatileAsync("websocket", TimeSpan.FromMilliseconds(20), (_, s) =>
        {
            s.Emit("ev", "data");
            s.Volatile.Emit("ev", "data");
            s.Emit("ev", "data");
        }), Is.EqualTo(2));

    [Test(Description = "should emit regular events after trying a failed volatile event (polling)")]
    public async Task ShouldEmitRegularEventsAfterTryingAFailedVolatileEventPolling() =>
        Assert.That(await CountVolatileAsync("polling", TimeSpan.FromMilliseconds(20), (_, s) =>
        {
            s.Emit("ev", "data");
            s.Volatile.Emit("ev", "data");
            s.Emit("ev", "data");
        }), Is.EqualTo(2));
}
