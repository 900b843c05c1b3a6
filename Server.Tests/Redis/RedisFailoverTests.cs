using System.Net;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// Real server processes (<c>dotnet SocketIoSignal.Server.dll --redis …</c>); one is killed in the middle of a call.
/// Its members must leave every room within the node timeout, and its clients, reconnecting to a survivor,
/// must get their room back. In every mode: classic and sharded on one Redis, sharded on a Redis Cluster.
/// </summary>
[TestFixture("classic", false)]
[TestFixture("sharded", false)]
[TestFixture("sharded", true)]
public sealed class RedisFailoverTests(string mode, bool onCluster)
{
    private const int HeartbeatMs = 300;
    private const int NodeTimeoutMs = 1200;

    private string _redis = "";
    private IDatabase _db = null!;

    [OneTimeSetUp]
    public async Task RedisAsync()
    {
        if (onCluster)
        {
            var cluster = await RedisSetUp.ClusterAsync().Within(TimeSpan.FromSeconds(60));
            (_redis, _db) = (cluster.Configuration, cluster.Db);
        }
        else
        {
            (_redis, _db) = (RedisSetUp.Redis.Address, RedisSetUp.Redis.Db);
        }
    }

    private async Task<(ChildProcess Process, Uri Uri)> StartNodeAsync(string prefix)
    {
        int port = FreePort.Find();
        var dll = Path.Combine(AppContext.BaseDirectory, "SocketIoSignal.Server.dll");
        var child = ChildProcess.Start("dotnet", [dll, "--port", port.ToString(), "--host", "127.0.0.1",
            "--redis", _redis, "--Redis:Mode", mode, "--Redis:KeyPrefix", prefix,
            "--Redis:HeartbeatInterval", HeartbeatMs.ToString(), "--Redis:NodeTimeout", NodeTimeoutMs.ToString()]);
        var uri = new Uri($"http://127.0.0.1:{port}");
        await child.WaitForLineAsync(l => l.Contains("serving", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        using var http = new HttpClient();
        var health = await http.GetAsync(new Uri(uri, "/healthz")).Within();
        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the node is ready");
        return (child, uri);
    }

    [Test]
    public async Task ANodeKilledMidCallLeavesItsRoomsAndItsClientsRejoinOnASurvivor()
    {
        string prefix = RedisSetUp.UniquePrefix();
        var db = _db;
        string roomKey = prefix + "#room#/#call";
        var (doomed, doomedUri) = await StartNodeAsync(prefix);
        await using var _ = doomed;
        var (survivor, survivorUri) = await StartNodeAsync(prefix);
        await using var __ = survivor;

        // A call: caller on the doomed node, callee on the survivor; a third party is refused.
        var caller = await RawSocketIoClient.ConnectAsync(doomedUri, 4);
        await using var callee = await RawSocketIoClient.ConnectAsync(survivorUri, 4);
        await caller.EmitAsync("create or join", "call");
        await caller.WaitForAsync("created");
        await callee.EmitAsync("create or join", "call");
        await callee.WaitForAsync("joined");
        await caller.WaitForAsync("ready");
        await callee.EmitAsync("message", "candidate");
        await caller.WaitForAsync("message");
        await using (var third = await RawSocketIoClient.ConnectAsync(survivorUri, 4))
        {
            await third.EmitAsync("create or join", "call");
            await third.WaitForAsync("full");
        }
        Assert.That(await db.SetLengthAsync(roomKey).Within(), Is.EqualTo(2));

        // Crash.
        var killedAt = TimeProvider.System.GetTimestamp();
        await doomed.KillAsync();
        await caller.WhenClosed.Within();
        await caller.DisposeAsync();

        // Within the node timeout (plus a sweep), the dead node's member is gone from the room.
        await Eventually.UntilAsync(async () => await db.SetLengthAsync(roomKey) == 1,
            TimeSpan.FromMilliseconds(NodeTimeoutMs + 3 * HeartbeatMs + 10_000), "the dead node's member purged");
        var purgeTime = TimeProvider.System.GetElapsedTime(killedAt);
        TestContext.Out.WriteLine($"room freed {purgeTime.TotalMilliseconds:F0} ms after the kill (NodeTimeout {NodeTimeoutMs} ms, heartbeat {HeartbeatMs} ms)");
        // A busy machine can hold a process back a few seconds; the bound is what a sweep every heartbeat gives, with room for that.
        Assert.That(purgeTime.TotalMilliseconds, Is.LessThan(NodeTimeoutMs + 3 * HeartbeatMs + 3000));
        Assert.That((await db.SetMembersAsync(roomKey).Within()).Select(m => m.ToString()), Has.All.EndsWith(":" + callee.Id));

        // The caller reconnects (the load balancer sends it to the survivor) and rejoins its call.
        await using var back = await RawSocketIoClient.ConnectAsync(survivorUri, 4);
        await back.EmitAsync("create or join", "call");
        Assert.That((await back.WaitForAsync("joined")).Args.ToJsonString(), Is.EqualTo($"[\"call\",\"{back.Id}\"]"));
        await callee.WaitForAsync("join");
        await callee.WaitForAsync("ready");
        await back.EmitAsync("message", "offer again");
        Assert.That((await callee.WaitForAsync("message")).Args.ToJsonString(), Is.EqualTo("[\"offer again\"]"));

        // Full again, with exactly the two of them; nothing of the dead node is left.
        await using (var late = await RawSocketIoClient.ConnectAsync(survivorUri, 4))
        {
            await late.EmitAsync("create or join", "call");
            await late.WaitForAsync("full");
        }
        Assert.That(await db.SetLengthAsync(roomKey).Within(), Is.EqualTo(2));
        Assert.That(await db.SetLengthAsync(prefix + "#{nodes}").Within(), Is.EqualTo(1), "only the survivor is registered");
    }
}
