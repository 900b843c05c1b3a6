using System.Net;
using NUnit.Framework;
using SocketIoSignal.Redis;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// In each mode, a real redis-server SIGKILLed under two nodes and started again, empty, on the same port: meanwhile /healthz
/// says 503; then the nodes reconnect, subscribe again (the request protocol and broadcasts work across them) and
/// write their room memberships back.
/// </summary>
[TestFixture]
internal sealed class RedisRestartTests
{
    [TestCase("classic")]
    [TestCase("sharded")]
    [TestCase("streams")]
    public async Task NodesReconnectResubscribeAndRewriteTheirMembershipsAfterARedisRestart(string mode)
    {
        var redis = await RedisProcess.StartAsync();
        string[] args = ["--redis", redis.Address, "--Redis:Mode", mode, "--Redis:HeartbeatInterval", "300", "--Redis:NodeTimeout", "1500", "--Redis:RequestsTimeout", "2000"];
        await using var node1 = await TestServer.StartAsync(args);
        await using var node2 = await TestServer.StartAsync(args);
        ClusterTestHooks.Install(node1, "n1");
        ClusterTestHooks.Install(node2, "n2");
        await ClusterTestHooks.Adapter(node1).Requests.Subscribed.Within();
        await ClusterTestHooks.Adapter(node2).Requests.Subscribed.Within();
        await using var a = await RawSocketIoClient.ConnectAsync(node1.BaseUri, 4, auth: "{\"rooms\":[\"r1\"]}");
        await using var b = await RawSocketIoClient.ConnectAsync(node2.BaseUri, 4, auth: "{\"rooms\":[\"r1\"]}");
        await a.WaitForAsync("welcome");
        await b.WaitForAsync("welcome");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Assert.That((await http.GetAsync(new Uri(node1.BaseUri, "/healthz")).Within()).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        await redis.KillAsync();
        await Eventually.UntilAsync(async () => (await http.GetAsync(new Uri(node1.BaseUri, "/healthz"))).StatusCode == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(20), "/healthz says 503 while Redis is down");
        Assert.That(a.Closed || b.Closed, Is.False, "clients stay connected to their nodes meanwhile");

        await redis.DisposeAsync();
        await using var restarted = await redis.RestartAsync();
        Assert.That(restarted.Port, Is.EqualTo(redis.Port));
        await Eventually.UntilAsync(async () => (await http.GetAsync(new Uri(node1.BaseUri, "/healthz"))).StatusCode == HttpStatusCode.OK
            && (await http.GetAsync(new Uri(node2.BaseUri, "/healthz"))).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "/healthz back to 200 once Redis is");
        await Eventually.UntilAsync(async () => await restarted.Db.SetLengthAsync("socket.io#room#/#r1") == 2,
            TimeSpan.FromSeconds(30), "both nodes wrote their memberships back into the empty Redis");

        // Subscribed again: the request protocol spans both nodes, and so do broadcasts.
        await Eventually.UntilAsync(async () => await ClusterTestHooks.Adapter(node1).Requests.ServerCountAsync() == 2,
            TimeSpan.FromSeconds(30), "both nodes subscribed to the request channel again");
        var fetched = await ClusterTestHooks.Adapter(node1).Requests.FetchSocketsAsync(new BroadcastTarget(new HashSet<string> { "r1" }, RoomSet.Empty)).Within();
        Assert.That(fetched.Complete, Is.True);
        Assert.That(fetched.Value.Select(s => s.Id), Is.EquivalentTo(new[] { a.Id, b.Id }));
        await Eventually.UntilAsync(async () =>
        {
            await ClusterTestHooks.Adapter(node1).BroadcastAsync(SocketIoSignal.SocketIO.Protocol.SocketIoEncoder.EncodeEvent("/", "after", []),
                new BroadcastTarget(new HashSet<string> { "r1" }, RoomSet.Empty));
            return b.PendingEventNames().Contains("after");
        }, TimeSpan.FromSeconds(15), "a broadcast from node 1 reaches node 2's client");
        // The health check service logs each unhealthy answer as an error, by design; nothing else may.
        foreach (var node in new[] { node1, node2 })
        {
            Assert.That(node.Logs.Errors.Where(e => !e.Contains("HealthChecks.DefaultHealthCheckService", StringComparison.Ordinal)), Is.Empty);
        }
    }
}
