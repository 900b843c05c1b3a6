namespace SocketIoSignal.Redis;

/// <summary>The <c>Redis</c> section: where the shared rooms live and how nodes watch each other.</summary>
public sealed class RedisOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string Section = "Redis";

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c> or <c>redis.internal:6379,password=…</c>.</summary>
    public string Configuration { get; set; } = "";

    /// <summary>Time between this node's heartbeats (and its sweeps for dead nodes); 2 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a heartbeat lives: a node silent this long is dead and its members are purged; 6 s.</summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>Prefix of every key and channel; <c>socket.io</c> is the Node adapter's default.</summary>
    public string KeyPrefix { get; set; } = "socket.io";

    /// <summary>How long the first connection may take at start-up before the node starts without Redis; 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
