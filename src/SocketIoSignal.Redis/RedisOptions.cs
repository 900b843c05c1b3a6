namespace SocketIoSignal.SocketIO.Adapter.Redis;

/// <summary>The <c>Redis</c> section: where the shared rooms live and how nodes watch each other.</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6380</c> (<c>--redis</c> sets it).</summary>
    public string Configuration { get; set; } = "";

    /// <summary>Milliseconds between heartbeats (and between sweeps for dead nodes).</summary>
    public int HeartbeatInterval { get; set; } = 2000;

    /// <summary>Milliseconds a heartbeat lives: a node silent this long is dead and its members are purged.</summary>
    public int NodeTimeout { get; set; } = 6000;

    /// <summary>Prefix of every key and channel; <c>socket.io</c> is the Node adapter's default.</summary>
    public string KeyPrefix { get; set; } = "socket.io";

    /// <summary>Milliseconds the first connection may take at start-up before the node starts without Redis.</summary>
    public int ConnectTimeout { get; set; } = 5000;
}
