using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>namespaces.ts, the cases of the server's aliases, broadcast operators, compression and manual children.</summary>
public sealed partial class NamespacesTests : NodeSuiteFixture
{
    [Test(Description = "should be aliased")]
    public async Task ShouldBeAliased()
    {
        // Node checks that io has use, to, in, emit, send, write, allSockets and compress; here each is shown to do
        // what the namespace "/" does (allSockets: FetchSocketsAsync, the ids of the sockets)
        var server = await StartAsync();
        var used = false;
        var connections = server.Connections();
        server.Io.Use(_ =>
        {
            used = true;
            return Task.CompletedTask;
        });
        var client = await ClientAsync(server);
        await client.ConnectedAsync();
        var socket = await connections.NextAsync();
        socket.Join("r");
        Assert.That(used, Is.True);
        server.Io.Emit("e", 1);
        server.Io.Send("s");
        server.Io.Write("w");
        server.Io.To("r").Emit("to");
        server.Io.In("r").Emit("in");
        server.Io.Compress(false).Emit("c");
        foreach (var name in new[] { "e", "to", "in", "c" })
        {
            await client.WaitForAsync(name);
        }
        var messages = await client.WaitForCountAsync("message", 2);
        Assert.That(messages.Select(m => m.Text(0)), Is.EqualTo(new[] { "s", "w" }));
        var all = await server.Io.FetchSocketsAsync().Within();
        Assert.That(all.Select(s => s.Id), Is.EqualTo(new[] { socket.Id }));
    }

    /// <summary>Sockets of "/", one per entry, each in the rooms given.</summary>
    private async Task<(SuiteServer Server, SocketIoSocket[] Sockets)> SocketsInRoomsAsync(params string[][] rooms)
    {
        var server = await StartAsync();
        var connections = server.Connections();
        var sockets = new List<SocketIoSocket>();
        foreach (var joined in rooms)
        {
            await (await ClientAsync(server, "/", new { forceNew = true })).ConnectedAsync();
            var socket = await connections.NextAsync();
            socket.Join(joined);
            sockets.Add(socket);
        }
        return (server, [.. sockets]);
    }

    [Test(Description = "should return an immutable broadcast operator")]
    public async Task ShouldReturnAnImmutableBroadcastOperator()
    {
        var (server, s) = await SocketsInRoomsAsync(["room1"], ["room2"], ["room1", "room3"], ["room4"], ["room1", "room5"]);
        var op = server.Io.Local.To(["room1", "room2"]).Except("room3");
        string[] selected = [s[0].Id, s[1].Id, s[4].Id];
        // every call makes a new operator: what the derived ones select shows, and the original selects the same after
        Assert.That(await op.Compress(true).SocketIdsAsync().Within(), Is.EquivalentTo(selected));
        Assert.That(await op.Volatile.SocketIdsAsync().Within(), Is.EquivalentTo(selected));
        Assert.That(await op.To("room4").SocketIdsAsync().Within(), Is.EquivalentTo(selected.Append(s[3].Id)));
        Assert.That(await op.Except("room5").SocketIdsAsync().Within(), Is.EquivalentTo(new[] { s[0].Id, s[1].Id }));
        Assert.That(await server.Io.To("room6").SocketIdsAsync().Within(), Is.Empty);
        Assert.That(await op.SocketIdsAsync().Within(), Is.EquivalentTo(selected), "rooms room1, room2 and except room3, as made");
        // the flags too: Compress(false) and Volatile on derived operators left the original's emits compressible
        var created = new TaskCompletionSource<EnginePacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        s[0].Conn.OnPacketCreate(p => created.TrySetResult(p));
        _ = op.Compress(false).Volatile;
        op.Emit("hello");
        var packet = await created.Task.Within();
        Assert.That(packet.Text, Is.EqualTo("2[\"hello\"]"));
        Assert.That(packet.Compress, Is.True);
    }

    [Test(Description = "should enable compression by default")]
    public async Task ShouldEnableCompressionByDefault()
    {
        var packet = await FirstPacketCreatedAsync("/chat", (chat, _) => chat.Emit("woot", "hi"));
        Assert.That(packet.Text, Is.EqualTo("2/chat,[\"woot\",\"hi\"]"));
        Assert.That(packet.Compress, Is.True);
    }

    [Test(Description = "should disable compression")]
    public async Task ShouldDisableCompression()
    {
        var packet = await FirstPacketCreatedAsync("/chat", (chat, _) => chat.Compress(false).Emit("woot", "hi"));
        Assert.That(packet.Text, Is.EqualTo("2/chat,[\"woot\",\"hi\"]"));
        Assert.That(packet.Compress, Is.False);
    }

    [Test(Description = "dynamic namespaces › should attach a child namespace to its parent upon manual creation")]
    public async Task DynamicNamespacesShouldAttachAChildNamespaceToItsParentUponManualCreation()
    {
        var server = await StartAsync();
        var parent = server.Io.Of(new Regex("^/dynamic-\\d+$"));
        var child = server.Io.Of("/dynamic-101");
        // Node checks parent.children; here the parent's broadcast reaching the child's client shows it
        Assert.That(server.Io.TryGetNamespace("/dynamic-101", out var found) && found == child, Is.True);
        var client = await ClientAsync(server, "/dynamic-101");
        await client.ConnectedAsync();
        parent.Emit("from-parent", 1);
        Assert.That((await client.WaitForAsync("from-parent")).Arg(0)!.GetValue<int>(), Is.EqualTo(1));
    }
}
