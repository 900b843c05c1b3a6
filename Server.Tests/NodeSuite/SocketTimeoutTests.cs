using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>
/// socket.io 4.8 test/socket-timeout.ts, against our server, with socket.io-client 4.8.1. Node's
/// <c>socket.timeout(ms).emit(…, cb)</c> and <c>socket.timeout(ms).emitWithAck(…)</c> are both
/// <c>socket.EmitWithAckAsync(event, timeout, …)</c> here: the callback form is the same task.
/// </summary>
[TestFixture]
public sealed class SocketTimeoutTests : NodeSuiteFixture
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(50);

    private async Task<(Task<IReadOnlyList<JsonNode?>> Ack, NodeClient Client)> EmitOnConnectionAsync(TimeSpan timeout, string eventName, bool echo, params object?[] args)
    {
        var server = await StartAsync();
        var ack = new TaskCompletionSource<Task<IReadOnlyList<JsonNode?>>>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(socket => ack.TrySetResult(socket.EmitWithAckAsync(eventName, timeout, args)));
        var client = await ClientAsync(server, respond: echo ? Answers(("echo", [42])) : null);
        return (await ack.Task.Within(), client);
    }

    [Test(Description = "should timeout if the client does not acknowledge the event")]
    public async Task ShouldTimeoutIfTheClientDoesNotAcknowledgeTheEvent()
    {
        var (ack, _) = await EmitOnConnectionAsync(Short, "unknown", echo: false);
        Assert.That(async () => await ack.Within(), Throws.InstanceOf<TimeoutException>());
    }

    [Test(Description = "should timeout if the client does not acknowledge the event in time")]
    public async Task ShouldTimeoutIfTheClientDoesNotAcknowledgeTheEventInTime()
    {
        var (ack, client) = await EmitOnConnectionAsync(TimeSpan.Zero, "echo", echo: true, 42);
        Assert.That(async () => await ack.Within(), Throws.InstanceOf<TimeoutException>());
        // the client's late answer arrives, and changes nothing
        await client.WaitForAsync("echo");
        Assert.That(ack.IsFaulted, Is.True);
    }

    [Test(Description = "should not timeout if the client does acknowledge the event")]
    public async Task ShouldNotTimeoutIfTheClientDoesAcknowledgeTheEvent()
    {
        var server = await StartAsync();
        var connections = server.Connections();
        await ClientAsync(server, respond: Answers(("echo", [42])));
        var socket = await connections.NextAsync();
        var value = await socket.EmitWithAckAsync("echo", Short * 20, 42).Within();
        Assert.That(value[0]!.GetValue<int>(), Is.EqualTo(42));
    }

    [Test(Description = "should timeout if the client does not acknowledge the event (promise)")]
    public async Task ShouldTimeoutIfTheClientDoesNotAcknowledgeTheEventPromise()
    {
        var (ack, _) = await EmitOnConnectionAsync(Short, "unknown", echo: false);
        Assert.That(async () => await ack.Within(), Throws.InstanceOf<TimeoutException>());
    }

    [Test(Description = "should not timeout if the client does acknowledge the event (promise)")]
    public async Task ShouldNotTimeoutIfTheClientDoesAcknowledgeTheEventPromise()
    {
        var server = await StartAsync();
        var connections = server.Connections();
        await ClientAsync(server, respond: Answers(("echo", [42])));
        var socket = await connections.NextAsync();
        var value = await socket.EmitWithAckAsync("echo", Short * 20, 42).Within();
        Assert.That(value[0]!.GetValue<int>(), Is.EqualTo(42));
    }
}
