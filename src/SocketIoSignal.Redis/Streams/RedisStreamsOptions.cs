namespace SocketIoSignal.Redis;

/// <summary>
/// The <c>Redis:Streams</c> section: streams mode (<c>Redis:Mode streams</c>), the protocol of
/// <c>@socket.io/redis-streams-adapter</c> 0.3; each option is named and defaulted as that adapter's.
/// </summary>
public sealed class RedisStreamsOptions
{
    /// <summary>The Redis stream (the prefix of the streams when <see cref="StreamCount"/> is above 1); <c>socket.io</c>.</summary>
    public string StreamName { get; set; } = "socket.io";

    /// <summary>Streams to spread namespaces over (each namespace stays on one, so its events keep their order); 1.</summary>
    public int StreamCount { get; set; } = 1;

    /// <summary>Prefix of the Pub/Sub channels (requests, responses); <c>socket.io</c>.</summary>
    public string ChannelPrefix { get; set; } = "socket.io";

    /// <summary>Sharded Pub/Sub (SPUBLISH/SSUBSCRIBE, Redis 7 or later) for requests and responses; false.</summary>
    public bool UseShardedPubSub { get; set; }

    /// <summary>The stream is trimmed to about this many entries (<c>MAXLEN ~</c>); 10,000. Recovery reaches back this far at most.</summary>
    public int MaxLen { get; set; } = 10_000;

    /// <summary>Entries fetched per XREAD; 100.</summary>
    public int ReadCount { get; set; } = 100;

    /// <summary>How long one XREAD blocks waiting for entries; 5 s.</summary>
    public TimeSpan BlockTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Prefix of the key a disconnected socket's session is kept under (connection state recovery); <c>sio:session:</c>.</summary>
    public string SessionKeyPrefix { get; set; } = "sio:session:";
}
