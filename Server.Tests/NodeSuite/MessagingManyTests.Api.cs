using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>messaging-many.ts, the cases of acknowledged broadcasts and joins of several rooms.</summary>
public sealed partial class MessagingManyTests : NodeSuiteFixture
{
    /// <summary>Three clients of "/"; the first two answer "some event" with 1 and 2, the third with 3 or never.</summary>
    private async Task<SuiteServer> ThreeAnsweringAsync(bool thirdAnswers)
    {
        var server = await StartAsync();
        await (await ClientAsync(server, "/", NoMultiplex, Answers(("some event", [1])))).ConnectedAsync();
        await (await ClientAsync(server, "/", NoMultiplex, Answers(("some event", [2])))).ConnectedAsync();
        await (await ClientAsync(server, "/", NoMultiplex, thirdAnswers ? Answers(("some event", [3])) : null)).ConnectedAsync();
        return server;
    }

    [Test(Description = "allows to join several rooms at once")]
    public async Task AllowsToJoinSeveralRoomsAtOnce()
    {
        var server = await StartAsync();
        var connections = server.Connections();
        await ClientAsync(server);
        var s = await connections.NextAsync();
        s.Join(["a", "b", "c"]);
        await Eventually.UntilAsync(() => s.Rooms.Count == 4, TaskTimeouts.Default, "the three rooms joined");
        Assert.That(s.Rooms, Is.EquivalentTo(new[] { s.Id, "a", "b", "c" }));
    }

    [Test(Description = "should broadcast and expect multiple acknowledgements")]
    public async Task ShouldBroadcastAndExpectMultipleAcknowledgements()
    {
        var server = await ThreeAnsweringAsync(thirdAnswers: true);
        var responses = await server.Io.Timeout(TimeSpan.FromSeconds(2)).EmitWithAckAsync("some event").Within();
        Assert.That(responses.Select(r => r!.GetValue<int>()), Is.EquivalentTo(new[] { 1, 2, 3 }));
    }

    [Test(Description = "should fail when a client does not acknowledge the event in the given delay")]
    public async Task ShouldFailWhenAClientDoesNotAcknowledgeTheEventInTheGivenDelay()
    {
        var server = await ThreeAnsweringAsync(thirdAnswers: false);
        var error = Assert.ThrowsAsync<AckTimeoutException>(async () => await server.Io.Timeout(TimeSpan.FromMilliseconds(200)).EmitWithAckAsync("some event").Within());
        Assert.That(error!.Responses.Select(r => r!.GetValue<int>()), Is.EquivalentTo(new[] { 1, 2 }));
    }

    [Test(Description = "should broadcast and expect multiple acknowledgements (promise)")]
    public async Task ShouldBroadcastAndExpectMultipleAcknowledgementsPromise()
    {
        var server = await ThreeAnsweringAsync(thirdAnswers: true);
        var responses = await server.Io.Timeout(TimeSpan.FromSeconds(2)).EmitWithAckAsync("some event").Within();
        Assert.That(responses.Select(r => r!.GetValue<int>()), Is.EquivalentTo(new[] { 1, 2, 3 }));
    }

    [Test(Description = "should fail when a client does not acknowledge the event in the given delay (promise)")]
    public async Task ShouldFailWhenAClientDoesNotAcknowledgeTheEventInTheGivenDelayPromise()
    {
        var server = await ThreeAnsweringAsync(thirdAnswers: false);
        var error = Assert.ThrowsAsync<AckTimeoutException>(async () => await server.Io.Timeout(TimeSpan.FromMilliseconds(200)).EmitWithAckAsync("some event").Within());
        Assert.That(error!.Responses.Select(r => r!.GetValue<int>()), Is.EquivalentTo(new[] { 1, 2 }));
        // the pending acknowledgements are all cleaned up
        await Eventually.UntilAsync(() => server.Io.Metrics.PendingAcks == 0, TaskTimeouts.Default, "no pending acknowledgement left");
    }

    [Test(Description = "should broadcast and return if the packet is sent to 0 client")]
    public async Task ShouldBroadcastAndReturnIfThePacketIsSentTo0Client()
    {
        var server = await ThreeAnsweringAsync(thirdAnswers: true);
        var responses = await server.Io.To("room123").Timeout(TimeSpan.FromMilliseconds(200)).EmitWithAckAsync("some event").Within();
        Assert.That(responses, Is.Empty);
        Assert.That(Clients.Events.Where(e => e.Event == "some event"), Is.Empty);
    }
}

/// <summary>messaging-many.ts, the case of the broadcast operator a socket makes.</summary>
public sealed partial class MessagingManyTests
{
    [Test(Description = "should return an immutable broadcast operator")]
    public async Task ShouldReturnAnImmutableBroadcastOperator()
    {
        var server = await StartAsync();
        var connections = server.Connections();
        var s = new List<SocketIoSocket>();
        foreach (var rooms in new[] { new[] { "room1" }, ["room2"], ["room1", "room3"], ["room4"], ["room1", "room5"], ["room1", "room6"] })
        {
            await (await ClientAsync(server, "/", NoMultiplex)).ConnectedAsync();
            var socket = await connections.NextAsync();
            socket.Join(rooms);
            s.Add(socket);
        }
        // the last socket makes the operator (Node: socket.local.compress(false).to([...]).except("room3"))
        var op = s[5].Broadcast.Local.Compress(false).To(["room1", "room2"]).Except("room3");
        string[] selected = [s[0].Id, s[1].Id, s[4].Id];
        Assert.That(await op.Compress(true).SocketIdsAsync().Within(), Is.EquivalentTo(selected));
        Assert.That(await op.Volatile.SocketIdsAsync().Within(), Is.EquivalentTo(selected));
        Assert.That(await op.To("room4").SocketIdsAsync().Within(), Is.EquivalentTo(selected.Append(s[3].Id)));
        Assert.That(await op.Except("room5").SocketIdsAsync().Within(), Is.EquivalentTo(new[] { s[0].Id, s[1].Id }));
        Assert.That(await s[5].To("room6").SocketIdsAsync().Within(), Is.Empty, "room6 holds only the sender");
        Assert.That(await op.SocketIdsAsync().Within(), Is.EquivalentTo(selected), "rooms room1, room2, except room3 and the sender, as made");
        // the flags too: Compress(true) on a derived operator left the original's emits uncompressed
        var created = new TaskCompletionSource<SocketIoSignal.EngineIO.EnginePacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        s[0].Conn.OnPacketCreate(p => created.TrySetResult(p));
        _ = op.Compress(true).Volatile;
        op.Emit("hello");
        var packet = await created.Task.Within();
        Assert.That(packet.Text, Is.EqualTo("2[\"hello\"]"));
        Assert.That(packet.Compress, Is.False);
    }
}
