using System.Net;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis.Streams;

/// <summary>
/// Failover in streams mode: real server processes (<c>dotnet SocketIoSignal.Server.dll --Redis:Mode streams</c>), one
/// SIGKILLed in the middle of a call. Its member leaves every room within the node timeout, it drops out of the
/// server count (its Pub/Sub connection is gone), and its client, reconnecting to the survivor, gets its call back.
/// </summary>
[TestFixture]
public sealed class RedisStreamsFailoverTests
{
    private const int HeartbeatMs = 300;
    private const int NodeTimeoutMs = 1200;

    private static async Task<(ChildProcess Process, Uri Uri)> StartNodeAsync(string prefix)
    {
        int port = FreePort.Find();
        var dll = Path.Combine(AppContext.BaseDirectory, "SocketIoSignal.Server.dll");
        var child = ChildProcess.Start("dotnet", [dll, "--port", port.ToString(), "--host", "127.0.0.1",
            "--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", prefix, "--Redis:Mode", "streams",
            "--Redis:Streams:StreamName", StreamsNodes.Stream(prefix), "--Redis:Streams:ChannelPrefix", prefix,
            "--Redis:HeartbeatInterval", HeartbeatMs.ToString(), "--Redis:NodeTimeout", NodeTimeoutMs.ToString()]);
        var uri = new Uri($"http://127.0.0.1:{port}");
        await child.WaitForLineAsync(l => l.Contains("serving", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        using var http = new HttpClient();
        var health = await http.GetAsync(new Uri(uri, "/healthz")).Within();
        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the node is ready");
        return (child, uri);
    }

    private static async Task<long> SubscribersAsync(string channel)
    {
        var server = RedisSetUp.Redis.Connection.GetServers()[0];
        var items = (RedisResult[])(await server.ExecuteAsync("PUBSUB", "NUMSUB", channel))!;
        return (long)items[1];
    }

    [Test]
    public async Task ANodeKilledMidCallLeavesItsRoomsAndItsClientRejoinsOnTheSurvivor()
    {
        string prefix = RedisSetUp.UniquePrefix();
        var db = RedisSetUp.Redis.Db;
        string roomKey = prefix + "#room#/#call";
        var (doomed, doomedUri) = await StartNodeAsync(prefix);
        await using var _ = doomed;
        var (survivor, survivorUri) = await StartNodeAsync(prefix);
        await using var __ = survivor;
        Assert.That(await SubscribersAsync(prefix + "#/#"), Is.EqualTo(2), "both nodes counted (the adapter's serverCount)");

        var caller = await RawSocketIoClient.ConnectAsync(doomedUri, 4);
        await using var callee = await RawSocketIoClient.ConnectAsync(survivorUri, 4);
        await caller.EmitAsync("create or join", "call");
        await caller.WaitForAsync("created");
        await callee.EmitAsync("create or join", "call");
        await callee.WaitForAsync("joined");
        await caller.WaitForAsync("ready");
        // The relay crosses the stream: from the survivor's client to the doomed node's.
        await callee.EmitAsync("message", "candidate");
        Assert.That((await caller.WaitForAsync("message")).Args.ToJsonString(), Is.EqualTo("[\"candidate\"]"));
        Assert.That(await db.SetLengthAsync(roomKey).Within(), Is.EqualTo(2));

        var killedAt = TimeProvider.System.GetTimestamp();
        await doomed.KillAsync();
        await caller.WhenClosed.Within();
        await caller.DisposeAsync();

        await Eventually.UntilAsync(async () => await db.SetLengthAsync(roomKey) == 1,
            TimeSpan.FromMilliseconds(NodeTimeoutMs + 3 * HeartbeatMs + 2000), "the dead node's member purged");
        var purgeTime = TimeProvider.System.GetElapsedTime(killedAt);
        TestContext.Out.WriteLine($"room freed {purgeTime.TotalMilliseconds:F0} ms after the kill (NodeTimeout {NodeTimeoutMs} ms, heartbeat {HeartbeatMs} ms)");
        Assert.That((await db.SetMembersAsync(roomKey).Within()).Select(m => m.ToString()), Has.All.EndsWith(":" + callee.Id));
        await Eventually.UntilAsync(async () => await SubscribersAsync(prefix + "#/#") == 1, TaskTimeouts.Default, "the dead node is out of the server count");

        await using var back = await RawSocketIoClient.ConnectAsync(survivorUri, 4);
        await back.EmitAsync("create or join", "call");
        Assert.That((await back.WaitForAsync("joined")).Args.ToJsonString(), Is.EqualTo($"[\"call\",\"{back.Id}\"]"));
        await callee.WaitForAsync("ready");
        await back.EmitAsync("message", "offer again");
        Assert.That((await callee.WaitForAsync("message")).Args.ToJsonString(), Is.EqualTo("[\"offer again\"]"));
        Assert.That(await db.SetLengthAsync(roomKey).Within(), Is.EqualTo(2));
    }
}
