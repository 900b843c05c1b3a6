using System.Text;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Redis;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// Bad input on the request and response channels — another tenant's traffic, truncated or absurd MessagePack,
/// answers to requests nobody sent, a flood of acknowledged broadcasts claiming a huge timeout: each dropped
/// and counted, and the node keeps answering well-formed requests at once.
/// </summary>
[TestFixture]
internal sealed class RedisClassicHostileInputTests
{
    private string _prefix = "";
    private TestServer _ours = null!;
    private RawSocketIoClient _client = null!;
    private ConnectionMultiplexer _redis = null!;
    private ChannelMessageQueue _responses = null!;
    private readonly System.Threading.Channels.Channel<JsonObject> _answers = System.Threading.Channels.Channel.CreateUnbounded<JsonObject>();

    [SetUp]
    public async Task StartAsync()
    {
        _prefix = RedisSetUp.UniquePrefix();
        _ours = await TestServer.StartAsync(["--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", _prefix,
            "--Redis:MaxPendingRequests", "10", "--Redis:MaxRemoteAckTimeout", "1500"]);
        ClusterTestHooks.Install(_ours, "dotnet");
        await ClusterTestHooks.Adapter(_ours).Requests.Subscribed.Within();
        _client = await RawSocketIoClient.ConnectAsync(_ours.BaseUri, 4, auth: "{\"rooms\":[\"r1\"]}");
        await _client.WaitForAsync("welcome");
        _redis = await ConnectionMultiplexer.ConnectAsync(RedisSetUp.Redis.Address).Within();
        _responses = await _redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(_prefix + "-response#/#")).Within();
        _responses.OnMessage(m =>
        {
            var bytes = (byte[])m.Message!;
            if (bytes.Length > 0 && bytes[0] == (byte)'{')
            {
                _answers.Writer.TryWrite((JsonObject)JsonNode.Parse(bytes)!);
            }
        });
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _client.DisposeAsync();
        await _redis.DisposeAsync();
        await _ours.DisposeAsync();
    }

    private RedisCluster Cluster => _ours.Get<RedisCluster>();

    private Task RequestAsync(byte[] message) =>
        _redis.GetSubscriber().PublishAsync(RedisChannel.Literal(_prefix + "-request#/#"), message).Within();

    private Task RequestAsync(string json) => RequestAsync(Encoding.UTF8.GetBytes(json));

    private async Task<JsonObject> AnswerAsync(string requestId)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var answer = await _answers.Reader.ReadAsync(cts.Token);
            if (answer["requestId"]?.GetValue<string>() == requestId)
            {
                return answer;
            }
        }
    }

    /// <summary>The node still answers at once: an ALL_ROOMS request from a made-up node gets our rooms.</summary>
    private async Task AssertStillAnsweringAsync()
    {
        string id = "probe" + Guid.NewGuid().ToString("N")[..6];
        await RequestAsync($"{{\"uid\":\"other\",\"requestId\":\"{id}\",\"type\":1}}");
        var answer = await AnswerAsync(id);
        Assert.That(answer["rooms"]!.AsArray().Select(r => r!.GetValue<string>()), Does.Contain("r1"));
    }

    [Test]
    public async Task MalformedAndForeignMessagesAreDroppedAndCounted()
    {
        byte[][] malformed =
        [
            [0x85, 0xa4, (byte)'t', (byte)'y'],                       // truncated map
            [0xdd, 0x7f, 0xff, 0xff, 0xff],                            // array claiming 2^31 items
            [0xdb, 0xff, 0xff, 0xff, 0xff, 0x41],                      // string claiming 4 GiB
            [.. Enumerable.Repeat((byte)0x91, 100_000), 0xc0],        // nested 100,000 deep
            Encoding.UTF8.GetBytes("{\"type\":1,\"requestId\":"),     // truncated JSON
            Encoding.UTF8.GetBytes("{" + new string('[', 5000)),       // JSON nested too deep
            [0xc1],                                                    // a byte MessagePack never uses
        ];
        foreach (var message in malformed)
        {
            await RequestAsync(message);
        }
        await Eventually.UntilAsync(() => Cluster.Counters.DroppedFor("malformed") >= malformed.Length, TimeSpan.FromSeconds(10), "every malformed message counted");

        // Another tenant's JSON on the channel, and an object of ours with a type we do not have.
        await RequestAsync("{\"hello\":\"world\"}");
        await RequestAsync("{\"uid\":\"x\",\"type\":42,\"requestId\":\"a\"}");
        await Eventually.UntilAsync(() => Cluster.Counters.DroppedFor("unknown-request") >= 2, TimeSpan.FromSeconds(10), "foreign requests counted");

        // Fields of the wrong kind: a broadcast whose packet is a string, a server-side emit without data.
        await RequestAsync("{\"uid\":\"x\",\"type\":7,\"requestId\":\"b\",\"packet\":\"nope\"}");
        await RequestAsync("{\"uid\":\"x\",\"type\":6,\"data\":5}");
        await Eventually.UntilAsync(() => Cluster.Counters.DroppedFor("invalid") >= 2, TimeSpan.FromSeconds(10), "invalid requests counted");

        // Garbage on the broadcast channels too.
        await _redis.GetSubscriber().PublishAsync(RedisChannel.Literal(_prefix + "#/#"), new byte[] { 0x93, 0xa1 }).Within();
        await Eventually.UntilAsync(() => Cluster.Counters.DroppedFor("malformed") >= malformed.Length + 1, TimeSpan.FromSeconds(10), "a malformed broadcast counted");

        await AssertStillAnsweringAsync();
        Assert.That(_client.Closed, Is.False);
        _ours.AssertNoErrors();
    }

    [Test]
    public async Task AResponseForAnUnknownRequestIsDropped()
    {
        long before = Cluster.Counters.DroppedFor("not-ours");
        await _redis.GetSubscriber().PublishAsync(RedisChannel.Literal(_prefix + "-response#/#"), "{\"requestId\":\"nobody\",\"sockets\":[\"x\"]}").Within();
        await _redis.GetSubscriber().PublishAsync(RedisChannel.Literal(_prefix + "-response#/#" + Cluster.NodeId + "#"), "{\"type\":9,\"requestId\":\"nobody\"}").Within();
        await Eventually.UntilAsync(() => Cluster.Counters.DroppedFor("not-ours") >= before + 2, TimeSpan.FromSeconds(10), "unknown responses counted");
        Assert.That(ClusterTestHooks.Adapter(_ours).Requests.PendingCount, Is.Zero);
        await AssertStillAnsweringAsync();
    }

    [Test]
    public async Task AFloodOfAcknowledgedBroadcastsWithHugeTimeoutsIsBounded()
    {
        // 30 broadcasts with acknowledgement, each claiming a timeout of 31 years. Only MaxPendingRequests (10)
        // are sent to the client; the others are answered with a count of zero so their senders do not wait.
        var ids = Enumerable.Range(0, 30).Select(i => "flood" + i).ToArray();
        foreach (var id in ids)
        {
            await RequestAsync($"{{\"uid\":\"other\",\"requestId\":\"{id}\",\"type\":7,\"packet\":{{\"type\":2,\"data\":[\"ask\",1],\"nsp\":\"/\"}},\"opts\":{{\"rooms\":[\"r1\"],\"except\":[],\"flags\":{{\"timeout\":1e12}}}}}}");
        }
        int sent = 0;
        foreach (var id in ids)
        {
            var answer = await AnswerAsync(id);
            Assert.That(answer["type"]!.GetValue<int>(), Is.EqualTo(8));
            sent += answer["clientCount"]!.GetValue<int>();
        }
        Assert.That(sent, Is.EqualTo(10));
        Assert.That(Cluster.Counters.DroppedFor("ack-limit"), Is.EqualTo(20));

        // The claimed timeout is capped (MaxRemoteAckTimeout 1.5 s): the slots come back, a new broadcast reaches the client.
        await Eventually.UntilAsync(async () =>
        {
            string id = "later" + Guid.NewGuid().ToString("N")[..6];
            await RequestAsync($"{{\"uid\":\"other\",\"requestId\":\"{id}\",\"type\":7,\"packet\":{{\"type\":2,\"data\":[\"ask\",2],\"nsp\":\"/\"}},\"opts\":{{\"rooms\":[\"r1\"],\"except\":[],\"flags\":{{\"timeout\":1e12}}}}}}");
            return (await AnswerAsync(id))["clientCount"]!.GetValue<int>() == 1;
        }, TimeSpan.FromSeconds(15), "ack slots freed after the capped timeout");
        await AssertStillAnsweringAsync();
        Assert.That(_client.Closed, Is.False);
        _ours.AssertNoErrors();
    }
}
