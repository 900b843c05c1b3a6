using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.Redis;

namespace SocketIoSignal.Tests.AdminUi;

/// <summary>The admin UI on two nodes sharing rooms through Redis: what crosses nodes (statistics, emit) and what stays local.</summary>
[TestFixture]
public sealed class AdminUiRedisTests
{
    private RedisProcess _redis = null!;

    [OneTimeSetUp]
    public async Task StartRedisAsync() => _redis = await RedisProcess.StartAsync();

    [OneTimeTearDown]
    public async Task StopRedisAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private Task<TestServer> StartNodeAsync(string prefix, string serverId) => TestServer.StartAsync(
    [
        "--redis", _redis.Address, "--Redis:KeyPrefix", prefix,
        "--AdminUi:Enabled=true", "--AdminUi:Username=admin", "--AdminUi:Password=secret", "--AdminUi:ServerStatsInterval=200",
        "--AdminUi:ServerId=" + serverId,
    ]);

    [Test]
    public async Task AUiSeesEveryNodesStatisticsAndItsEmitReachesEveryNode()
    {
        string prefix = "t" + Guid.NewGuid().ToString("N")[..12];
        await using var node1 = await StartNodeAsync(prefix, "node1");
        await using var node2 = await StartNodeAsync(prefix, "node2");
        await using var driver = SioDriver.Start();
        await driver.ConnectedAsync("admin", node1.Url + "/admin", new { username = "admin", password = "secret" });
        var remote = await driver.ConnectedAsync("remote", node2.Url + "/", transports: ["websocket"]);

        // The Servers page lists both nodes, each with its own counts.
        var fromNode2 = await driver.WaitForAsync("admin", "server_stats", l =>
            l.Arg(0)!["serverId"]!.GetValue<string>() == "node2"
            && l.Arg(0)!["namespaces"]!.AsArray().Any(n => n!["name"]!.GetValue<string>() == "/" && n["socketsCount"]!.GetValue<int>() == 1));
        await driver.WaitForAsync("admin", "server_stats", l => l.Arg(0)!["serverId"]!.GetValue<string>() == "node1");
        Assert.That(fromNode2.Arg(0)!["clientsCount"]!.GetValue<int>(), Is.EqualTo(1), "node 2 counts its own client");

        // all_sockets is the node's own: the remote socket is not in it.
        var all = await driver.WaitForAsync("admin", "all_sockets");
        Assert.That(all.Arg(0)!.AsArray().Select(s => s!["id"]!.GetValue<string>()), Does.Not.Contain(remote));

        // emit goes through the adapter, to every node.
        await driver.EmitAsync("admin", "emit", "/", null, "notice", "to everyone");
        var notice = await driver.WaitForAsync("remote", "notice");
        Assert.That(notice.Text(0), Is.EqualTo("to everyone"));
        node1.AssertNoErrors();
        node2.AssertNoErrors();
    }
}
