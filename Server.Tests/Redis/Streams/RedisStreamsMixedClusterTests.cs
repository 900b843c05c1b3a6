using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using static SocketIoSignal.Tests.Redis.Streams.StreamsNodes;

namespace SocketIoSignal.Tests.Redis.Streams;

/// <summary>
/// The utility requests of streams mode between our node and a Node 4.8.1 node with @socket.io/redis-streams-adapter
/// 0.3.1: each counts the other (<c>PUBSUB NUMSUB</c>), fetches the other's sockets with their rooms and data
/// (FETCH_SOCKETS over Pub/Sub), and a <c>socketsJoin</c> / <c>disconnectSockets</c> (stream entries) reaches the other's sockets.
/// </summary>
[TestFixture]
internal sealed class RedisStreamsMixedClusterTests
{
    [Test]
    public async Task CountFetchJoinAndDisconnectAcrossOurNodeAndANodeNode()
    {
        string prefix = RedisSetUp.UniquePrefix();
        await using var ours = await StartOursAsync(prefix);
        await using var node = await StartNodeAsync(prefix);
        await using var onOurs = StartClient(ours.Server.Url);
        await using var onNode = StartClient("http://127.0.0.1:" + node.Port);
        string ourId = (await NextAsync(onOurs, "connect"))["id"]!.GetValue<string>();
        string nodeId = (await NextAsync(onNode, "connect"))["id"]!.GetValue<string>();
        await ours.NextSocketAsync();
        await node.ConnectionAsync(1);

        Assert.That((await node.CallAsync("serverCount"))["count"]!.GetValue<int>(), Is.EqualTo(2), "Node counts our node");
        Assert.That(await ours.Namespace.Adapter.ServerCountAsync().AsTask().Within(), Is.EqualTo(2), "we count the Node node");

        var fromNode = (await node.CallAsync("fetch", new JsonObject { ["rooms"] = new JsonArray("call") }))["sockets"]!.AsArray();
        Assert.That(fromNode.Select(s => s!["id"]!.GetValue<string>()), Is.EquivalentTo(new[] { ourId, nodeId }));
        Assert.That(fromNode.Single(s => s!["id"]!.GetValue<string>() == ourId)!["data"]!.GetValue<string>(), Is.EqualTo("kept"));

        var fromOurs = await ours.Namespace.In("call").FetchSocketsAsync().AsTask().Within();
        Assert.That(fromOurs.Select(s => s.Id), Is.EquivalentTo(new[] { ourId, nodeId }));
        var nodeSocket = fromOurs.Single(s => s.Id == nodeId);
        Assert.That((nodeSocket.Data?.ToString(), nodeSocket.Rooms.Contains("call")), Is.EqualTo(("kept-node", true)));

        ours.Namespace.In("call").SocketsJoin("joined-by-dotnet");
        await Eventually.UntilAsync(async () =>
        {
            var sockets = (await node.CallAsync("fetch", new JsonObject { ["rooms"] = new JsonArray("joined-by-dotnet") }))["sockets"]!.AsArray();
            return sockets.Count == 2;
        }, Long, "the Node node's socket joined through the stream entry");

        ours.Namespace.In("joined-by-dotnet").DisconnectSockets();
        var gone = await NextAsync(onNode, "disconnect");
        Assert.That(gone["reason"]!.GetValue<string>(), Is.EqualTo("io server disconnect"));
        await NextAsync(onOurs, "disconnect");
    }
}
