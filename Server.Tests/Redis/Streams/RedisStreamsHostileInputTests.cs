using System.Text;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Redis;
using SocketIoSignal.Redis.Classic;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis.Streams;

/// <summary>
/// Bad input in streams mode: malformed stream entries (fields missing, a type that is no number, data that is
/// neither JSON nor base64 MessagePack, truncated MessagePack), another tenant's entries on the same stream, junk and
/// stray answers on the Pub/Sub channels. Each is dropped and counted (<c>redis.messages.dropped</c>), and the reader
/// goes on: a well-formed broadcast added after them reaches the client at once, and the node still answers requests.
/// </summary>
[TestFixture]
internal sealed class RedisStreamsHostileInputTests
{
    private string _prefix = "";
    private TestServer _ours = null!;
    private RawSocketIoClient _client = null!;

    [SetUp]
    public async Task StartAsync()
    {
        _prefix = RedisSetUp.UniquePrefix();
        _ours = await TestServer.StartAsync(["--redis", RedisSetUp.Redis.Address, "--Redis:KeyPrefix", _prefix, "--Redis:Mode", "streams",
            "--Redis:Streams:StreamName", StreamsNodes.Stream(_prefix), "--Redis:Streams:ChannelPrefix", _prefix, "--Redis:Streams:BlockTime", "1000"]);
        ClusterTestHooks.Install(_ours, "dotnet");
        await Cluster.StreamsHub!.Reading.Within();
        await ClusterTestHooks.Adapter(_ours).Requests.Subscribed.Within();
        _client = await RawSocketIoClient.ConnectAsync(_ours.BaseUri, 4, auth: "{\"rooms\":[\"r1\"]}");
        await _client.WaitForAsync("welcome");
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _client.DisposeAsync();
        await _ours.DisposeAsync();
    }

    private RedisCluster Cluster => _ours.Get<RedisCluster>();

    private static IDatabase Db => RedisSetUp.Redis.Db;

    private Task AddAsync(params (string Name, string Value)[] fields) =>
        Db.StreamAddAsync(StreamsNodes.Stream(_prefix), [.. fields.Select(f => new NameValueEntry(f.Name, f.Value))]).Within();

    private static string Broadcast(string nsp, string room, string eventName) =>
        $"{{\"packet\":{{\"type\":2,\"data\":[\"{eventName}\",1],\"nsp\":\"{nsp}\"}},\"opts\":{{\"rooms\":[\"{room}\"],\"except\":[],\"flags\":{{}}}}}}";

    [Test]
    public async Task MalformedAndForeignStreamEntriesAreDroppedAndCountedAndTheReaderGoesOn()
    {
        var counters = Cluster.Counters;
        long malformed = counters.DroppedFor("malformed");
        long invalid = counters.DroppedFor("invalid");
        long foreign = counters.DroppedFor("unknown-namespace");
        byte[] packed = ClusterCodec.EncodeMessagePack(JsonNode.Parse(Broadcast("/", "r1", "packed"))!.AsObject(), []);

        await AddAsync(("foo", "bar"));
        await AddAsync(("uid", "x"), ("nsp", "/"), ("type", "three"), ("data", Broadcast("/", "r1", "bad")));
        await AddAsync(("uid", "x"), ("nsp", "/"), ("type", "3"), ("data", "{not json"));
        await AddAsync(("uid", "x"), ("nsp", "/"), ("type", "3"), ("data", "!!not base64!!"));
        await AddAsync(("uid", "x"), ("nsp", "/"), ("type", "3"), ("data", Convert.ToBase64String(packed.AsSpan(0, packed.Length / 2))));
        await AddAsync(("uid", "x"), ("nsp", "/"), ("type", "3"), ("data", "{\"opts\":{}}"));
        await AddAsync(("uid", "x"), ("nsp", "/another-tenant"), ("type", "3"), ("data", Broadcast("/another-tenant", "r1", "theirs")));
        await AddAsync(("uid", "x"), ("nsp", "/"), ("type", "3"), ("data", Convert.ToBase64String(packed)));
        await AddAsync(("uid", "x"), ("nsp", "/"), ("type", "3"), ("data", Broadcast("/", "r1", "after")));

        // Read in order: once the last one arrives, every one before it was handled.
        string[] any = ["packed", "after", "bad", "theirs"];
        Assert.That((await _client.WaitForAnyAsync(any)).Name, Is.EqualTo("packed"), "the base64 MessagePack entry, after the junk");
        Assert.That((await _client.WaitForAnyAsync(any)).Name, Is.EqualTo("after"));
        Assert.That(counters.DroppedFor("malformed") - malformed, Is.EqualTo(5), "no fields, type not a number, bad JSON, bad base64, truncated MessagePack");
        Assert.That(counters.DroppedFor("invalid") - invalid, Is.EqualTo(1), "a broadcast without a packet");
        Assert.That(counters.DroppedFor("unknown-namespace") - foreign, Is.EqualTo(1), "another tenant's namespace");
    }

    [Test]
    public async Task JunkAndStrayAnswersOnTheChannelsAreDroppedAndCounted()
    {
        var counters = Cluster.Counters;
        long malformed = counters.DroppedFor("malformed");
        long notOurs = counters.DroppedFor("not-ours");
        var pub = RedisSetUp.Redis.Connection.GetSubscriber();
        var channel = RedisChannel.Literal(_prefix + "#/#");
        var own = RedisChannel.Literal(_prefix + "#/#" + Cluster.NodeId + "#");
        byte[] fetch = ClusterCodec.EncodeMessagePack(new JsonObject
        {
            ["uid"] = "other", ["nsp"] = "/", ["type"] = 7,
            ["data"] = new JsonObject { ["requestId"] = "r", ["opts"] = new JsonObject { ["rooms"] = new JsonArray(), ["except"] = new JsonArray() } },
        }, []);
        await pub.PublishAsync(channel, fetch.AsSpan(0, fetch.Length - 7).ToArray()).Within();
        await pub.PublishAsync(channel, new byte[] { 0xc1, 0xff, 0x00 }).Within();
        await pub.PublishAsync(own, Encoding.UTF8.GetBytes("{\"uid\":\"other\",\"nsp\":\"/\",\"type\":8,\"data\":{\"requestId\":\"nobody-asked\",\"sockets\":[]}}")).Within();
        await Eventually.UntilAsync(() => counters.DroppedFor("malformed") - malformed == 2 && counters.DroppedFor("not-ours") - notOurs == 1,
            TaskTimeouts.Default, "the junk and the stray answer were counted");

        // A well-formed FETCH_SOCKETS from a made-up node is still answered, on its own channel.
        var answers = System.Threading.Channels.Channel.CreateUnbounded<byte[]>();
        var queue = await pub.SubscribeAsync(RedisChannel.Literal(_prefix + "#/#other#")).Within();
        queue.OnMessage(m => answers.Writer.TryWrite((byte[])m.Message!));
        await pub.PublishAsync(channel, fetch).Within();
        var answer = ClusterCodec.Decode(await answers.Reader.ReadAsync().AsTask().Within(), 1 << 20);
        Assert.That(answer.Type, Is.EqualTo(8), "FETCH_SOCKETS_RESPONSE");
        Assert.That(answer.Root["data"]!["sockets"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()), Does.Contain(_client.Id));
        await queue.UnsubscribeAsync();
    }
}
