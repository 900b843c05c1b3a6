using SocketIoSignal.SocketIO.Adapter;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Redis.Classic;
using SocketIoSignal.Redis.Streams;
using StackExchange.Redis;

namespace SocketIoSignal.Redis;

/// <summary>
/// This node's membership of a Redis-backed cluster: one connection, one pattern subscription
/// (<c>{prefix}#*</c>, the Node adapter's broadcast channels of every namespace), a heartbeat key with
/// expiry, and a sweep that purges the rooms of nodes whose heartbeat has expired. It makes the
/// <see cref="RedisRoomAdapter"/> of each namespace.
/// </summary>
internal sealed partial class RedisCluster : IRoomAdapterFactory, IHostedService, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, RedisRoomAdapter> _adapters = new(StringComparer.Ordinal);
    private readonly ILogger<RedisCluster> _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly byte[] _uidUtf8;
    private readonly RedisKey _heartbeatKey;
    private readonly RedisKey _nodesKey;
    private readonly Counter<long> _published;
    private readonly Counter<long> _received;
    private readonly Counter<long> _purged;
    private readonly Counter<long> _heartbeatFailures;
    private ChannelMessageQueue? _subscription;
    private Task _loop = Task.CompletedTask;
    private int _disposed;
    private int _stopped;
    private long _lastHeartbeat = long.MinValue;

    public RedisCluster(IOptions<RedisOptions> options, NodeIdentity node, TimeProvider time, ILogger<RedisCluster> logger, IMeterFactory meters)
    {
        Options = options.Value;
        NodeId = node.Id;
        _uidUtf8 = Encoding.UTF8.GetBytes(NodeId);
        _time = time;
        _logger = logger;
        Prefix = Options.KeyPrefix;
        _heartbeatKey = Prefix + "#hb#" + NodeId;
        _nodesKey = Prefix + "#nodes";
        IndexKey = Prefix + "#index#" + NodeId;

        var config = ConfigurationOptions.Parse(Options.Configuration);
        config.AbortOnConnectFail = false;
        config.ConnectTimeout = (int)Options.ConnectTimeout.TotalMilliseconds;
        config.ClientName ??= "socketiosignal-" + NodeId;
        Connection = ConnectionMultiplexer.Connect(config);
        Database = Connection.GetDatabase();

        var meter = meters.Create(new MeterOptions("SocketIoSignal.Redis") { Tags = node.Tags });
        _published = meter.CreateCounter<long>("redis.broadcasts.published");
        _received = meter.CreateCounter<long>("redis.broadcasts.received");
        _purged = meter.CreateCounter<long>("redis.members.purged");
        _heartbeatFailures = meter.CreateCounter<long>("redis.heartbeat.failures");
        Counters = new ClusterCounters(meter);
        meter.CreateObservableGauge("redis.rooms.local", () => _adapters.Values.Sum(a => (long)a.LocalRoomCount));
        StreamsHub = Streams ? new StreamsHub(this) : null;
    }

    /// <summary>Streams mode: the stream reader every namespace's adapter receives from.</summary>
    internal StreamsHub? StreamsHub { get; }

    /// <summary>Streams mode (<c>@socket.io/redis-streams-adapter</c>'s protocol).</summary>
    internal bool Streams => Options.Mode == "streams";

    public RedisOptions Options { get; }

    internal TimeProvider Time => _time;

    /// <summary>What the request protocol did (answered, sent, timed out, dropped by reason).</summary>
    internal ClusterCounters Counters { get; }

    /// <summary>The adapter of a namespace, when this node has made it.</summary>
    internal RedisRoomAdapter? AdapterOf(string nsp) => _adapters.TryGetValue(nsp, out var adapter) ? adapter : null;

    /// <summary>This node's uid: in every message it publishes (so it ignores its own) and every member it owns.</summary>
    public string NodeId { get; }

    public string Prefix { get; }

    internal RedisKey IndexKey { get; }

    internal IConnectionMultiplexer Connection { get; }

    internal IDatabase Database { get; }

    public IRoomAdapter Create(string namespaceName, ILocalDelivery delivery) =>
        _adapters.GetOrAdd(namespaceName, n => new RedisRoomAdapter(this, n, delivery));

    internal void Forget(RedisRoomAdapter adapter) =>
        _adapters.TryRemove(new KeyValuePair<string, RedisRoomAdapter>(adapter.Namespace, adapter));

    /// <summary>Subscribes and sends the first heartbeat, then keeps beating. A Redis that cannot be reached
    /// does not stop the start: the node serves its local sockets and <see cref="IsReadyAsync"/> says no.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        bounded.CancelAfter(Options.ConnectTimeout);
        try
        {
            StreamsHub?.Start();
            await SubscribeAsync().WaitAsync(bounded.Token);
            await BeatAsync().WaitAsync(bounded.Token);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            LogStartWithoutRedis(ex, Options.Configuration);
        }
        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    /// <summary>Stops beating and leaves the cluster at once: this node's members go from every room.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            if (Connection.IsConnected)
            {
                await SweepAsync(NodeId).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            }
            if (_subscription is not null && Connection.IsConnected)
            {
                await _subscription.UnsubscribeAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            LogLeaveFailed(ex);
        }
    }

    /// <summary>Ready: Redis answers a PING and this node's heartbeat is current.</summary>
    public async Task<bool> IsReadyAsync(TimeSpan timeout)
    {
        if (!Connection.IsConnected || (_subscription is null && !Sharded && !Streams))
        {
            return false;
        }
        try
        {
            await Database.PingAsync().WaitAsync(timeout);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return false;
        }
        long last = Interlocked.Read(ref _lastHeartbeat);
        return last != long.MinValue && _time.GetElapsedTime(last) < Options.NodeTimeout;
    }

    internal void Publish(RedisChannel channel, byte[] message)
    {
        try
        {
            Database.Publish(channel, message, CommandFlags.FireAndForget);
            _published.Add(1);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            // A broadcast from a timer after the node left the cluster (shutdown): this node's own delivery still runs.
            LogRequestFailed(ex, "publish");
        }
    }

    /// <summary>Sharded mode: the namespaces' channels are subscribed by each namespace, nothing by pattern.</summary>
    internal bool Sharded => Options.Mode == "sharded";

    internal void CountPublished() => _published.Add(1);

    internal void CountReceived() => _received.Add(1);

    private async Task SubscribeAsync()
    {
        if (_subscription is not null || Sharded || Streams)
        {
            return;
        }
        var queue = await Connection.GetSubscriber().SubscribeAsync(RedisChannel.Pattern(Prefix + "#*"));
        queue.OnMessage(OnMessage);
        _subscription = queue;
    }

    private void OnMessage(ChannelMessage message)
    {
        try
        {
            var payload = (ReadOnlyMemory<byte>)message.Message;
            var broadcast = RedisWire.DecodeBroadcast(payload.Span, _uidUtf8, nsp => _adapters.ContainsKey(nsp));
            if (broadcast is not null && _adapters.TryGetValue(broadcast.Namespace, out var adapter))
            {
                _received.Add(1);
                adapter.DeliverRemote(broadcast);
            }
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException)
        {
            Counters.Dropped("malformed");
            LogBadMessage(ex, message.Channel.ToString());
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Options.HeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    await SubscribeAsync();
                    foreach (var adapter in _adapters.Values)
                    {
                        await adapter.Requests.EnsureSubscribedAsync();
                    }
                    await BeatAsync();
                    await SweepAsync(null);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
                {
                    _heartbeatFailures.Add(1);
                    LogHeartbeatFailed(ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task BeatAsync()
    {
        var expired = (long)await Database.ScriptEvaluateAsync(RedisScripts.Heartbeat,
            [_heartbeatKey, _nodesKey], [NodeId, (long)Options.NodeTimeout.TotalMilliseconds]);
        bool first = Interlocked.Read(ref _lastHeartbeat) == long.MinValue;
        Interlocked.Exchange(ref _lastHeartbeat, _time.GetTimestamp());
        if (expired == 1 && !first)
        {
            // Silent longer than NodeTimeout: the others may have purged this node. Publish what it owns again.
            LogResync();
            foreach (var adapter in _adapters.Values)
            {
                await adapter.RepublishAsync();
            }
        }
    }

    /// <summary>Purges every node whose heartbeat has expired (and <paramref name="self"/> when given).</summary>
    internal async Task<long> SweepAsync(string? self)
    {
        var purged = (long)await Database.ScriptEvaluateAsync(RedisScripts.Sweep, [_nodesKey], [Prefix, self ?? ""]);
        if (purged > 0)
        {
            _purged.Add(purged);
            if (self is null)
            {
                LogPurged(purged);
            }
        }
        return purged;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await StopAsync(CancellationToken.None);
        if (StreamsHub is not null)
        {
            await StreamsHub.DisposeAsync();
        }
        await Connection.CloseAsync(allowCommandsToComplete: false);
        Connection.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis at {Configuration} unreachable at start-up; serving local sockets until it is")]
    private partial void LogStartWithoutRedis(Exception ex, string configuration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis heartbeat failed")]
    private partial void LogHeartbeatFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "this node's heartbeat had expired; publishing its room memberships again")]
    private partial void LogResync();

    [LoggerMessage(Level = LogLevel.Information, Message = "purged {Count} room memberships of dead nodes")]
    private partial void LogPurged(long count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "ignored a malformed message on {Channel}")]
    private partial void LogBadMessage(Exception ex, string channel);

    [LoggerMessage(Level = LogLevel.Debug, Message = "dropped a message on {Channel}")]
    internal partial void LogDropped(Exception ex, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "a cluster request ({What}) failed")]
    internal partial void LogRequestFailed(Exception ex, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not leave the cluster cleanly")]
    private partial void LogLeaveFailed(Exception ex);
}
