using NUnit.Framework;
using SocketIoSignal.Signaling;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.SocketIOTests.Recovery;
using static SocketIoSignal.Tests.Redis.Streams.StreamsNodes;

namespace SocketIoSignal.Tests.Redis.Streams;

/// <summary>
/// The signaling app in rooms mode on two nodes in streams mode, behind a round-robin balancer: a peer whose network
/// blips mid-call comes back on the other node with its room and the candidates sent meanwhile, and when the first
/// node's recovery window ends it does not tell the room <c>bye</c> (the peer is alive on the other node).
/// </summary>
[TestFixture]
internal sealed class RedisStreamsCodelabTests
{
    private static Task<TestServer> StartAsync(string prefix) => TestServer.StartAsync([
        "--mode", "rooms", "--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", prefix, "--Redis:Mode", "streams",
        "--Redis:Streams:StreamName", Stream(prefix), "--Redis:Streams:ChannelPrefix", prefix,
        "--Redis:Streams:SessionKeyPrefix", SessionPrefix(prefix), "--Redis:Streams:BlockTime", "1000",
        "--SocketIo:ConnectionStateRecovery:MaxDisconnectionDuration=2000",
        "--EngineIo:PingInterval=500", "--EngineIo:PingTimeout=1500"]);

    [Test]
    public async Task APeerBackOnTheOtherNodeKeepsItsCallAndNobodyHearsBye()
    {
        string prefix = RedisSetUp.UniquePrefix();
        await using var first = await StartAsync(prefix);
        await using var second = await StartAsync(prefix);
        await using var proxy = new CuttableProxy(first.Port, second.Port);
        await using var a = ChildProcess.Start("node", [Path.Combine(Codelab.NodeScripts.Folder, "recovery-client.js"), "--url", proxy.Url, "--nsp", "/", "--transport", "websocket"]);
        await using var b = ChildProcess.Start("node", [Path.Combine(Codelab.NodeScripts.Folder, "recovery-client.js"), "--url", second.Url, "--nsp", "/", "--transport", "websocket"]);
        string aId = (await NextAsync(a, "connect"))["id"]!.GetValue<string>();
        await NextAsync(b, "connect");
        await a.SendLineAsync("{\"emit\":\"create or join\",\"args\":[\"call\"]}");
        await NextAsync(a, "event", "\"name\":\"created\"");
        await b.SendLineAsync("{\"emit\":\"create or join\",\"args\":[\"call\"]}");
        await NextAsync(a, "event", "\"name\":\"ready\"");

        proxy.Cut();
        await Eventually.UntilAsync(async () => await SessionCountAsync(prefix) == 1, Long, "the first node kept the session in Redis");
        Assert.That(first.Get<CodelabSignaling>().PendingByes, Is.EqualTo(1), "bye held back while the peer may come back");
        await b.SendLineAsync("{\"emit\":\"message\",\"args\":[{\"type\":\"candidate\",\"candidate\":\"c1\"}]}");
        await NextAsync(b, "event", "\"name\":\"log\"");
        proxy.Restore();

        var back = await NextAsync(a, "connect");
        Assert.That((back["id"]!.GetValue<string>(), back["recovered"]!.GetValue<bool>()), Is.EqualTo((aId, true)), "recovered on the second node");
        Assert.That(a.Output.Count(l => l.Contains("\"candidate\":\"c1\"", StringComparison.Ordinal)), Is.EqualTo(1), "the candidate sent while away, once");

        await Eventually.UntilAsync(() => first.Get<CodelabSignaling>().PendingByes == 0, Long, "the first node's window ended");
        await a.SendLineAsync("{\"emit\":\"message\",\"args\":[\"still here\"]}");
        await NextAsync(b, "event", "\"args\":[\"still here\"");
        await b.SendLineAsync("{\"emit\":\"message\",\"args\":[\"and you\"]}");
        await NextAsync(a, "event", "\"args\":[\"and you\"");
        Assert.That(b.Output.Any(l => l.Contains("\"name\":\"bye\"", StringComparison.Ordinal)), Is.False, "the other peer never heard bye");
    }
}
