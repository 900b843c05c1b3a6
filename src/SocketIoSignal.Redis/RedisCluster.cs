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
    private readonly SemaphoreSlim _revive = new(1, 1);
    private readonly Counter<long> _published;
    private readonly Counter<long> _received;
    private readonly Counter<long> _purged;
    private readonly Counter<long> _heartbeatFailures;
    private ChannelMessageQueue? _subscription;
    private Task _loop = Task.CompletedTask;
    private int _disposed;
    private int _stopped;
    private long _lastHeartbeat = long.MinValue;
    private int _incarnation;
    private long _receivedCount;
    private volatile Owner _owner;

    public RedisCluster(IOptions<RedisOptions> options, NodeIdentity node, TimeProvider time, ILogger<RedisCluster> logger, IMeterFactory meters)
    {
        Options = options.Value;
        NodeId = node.Id;
        _uidUtf8 = Encoding.UTF8.GetBytes(NodeId);
        _time = time;
        _logger = logger;
        Prefix = Options.KeyPrefix;
        Keys = new RedisKeys(Prefix);
        _owner = new Owner(NodeId);

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

    internal RedisKeys Keys { get; }

    /// <summary>
    /// The name this node's memberships are written under: its uid, then <c>uid.N</c> each time it finds it was
    /// taken for dead (so a purge of its former name that is still running cannot remove the new memberships).
    /// </summary>
    internal Owner CurrentOwner => _owner;

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
                await SweepAsync(_owner.Name).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
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
        catch (RedisException ex)
        {
            LogRequestFailed(ex, "publish");
        }
        catch (ObjectDisposedException)
        {
            // A broadcast from a timer that outlives the node (its connection, and maybe its logger, are gone):
            // dropped, never thrown into a timer thread, where nothing would catch it.
        }
    }

    /// <summary>Sharded mode: the namespaces' channels are subscribed by each namespace, nothing by pattern.</summary>
    internal bool Sharded => Options.Mode == "sharded";

    internal void CountPublished() => _published.Add(1);

    internal void CountReceived()
    {
        _received.Add(1);
        Interlocked.Increment(ref _receivedCount);
    }

    /// <summary>Broadcasts from other nodes received so far (what <c>redis.broadcasts.received</c> counts).</summary>
    internal long ReceivedCount => Interlocked.Read(ref _receivedCount);

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
                CountReceived();
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
        var owner = _owner;
        bool first = Interlocked.Read(ref _lastHeartbeat) == long.MinValue;
        var expired = (long)await Database.ScriptEvaluateAsync(RedisScripts.Heartbeat,
            [Keys.Heartbeat(owner.Name), Keys.Nodes, Keys.Slots(owner.Name)], [owner.Name, (long)Options.NodeTimeout.TotalMilliseconds, first ? 1 : 0]);
        if (expired == 1)
        {
            await ReviveAsync(owner);
        }
        Interlocked.Exchange(ref _lastHeartbeat, _time.GetTimestamp());
    }

    /// <summary>
    /// Silent longer than NodeTimeout: the others may be purging this node. It comes back under a new owner name
    /// and writes what it owns again; the old name is purged as any dead node's.
    /// </summary>
    private async Task ReviveAsync(Owner expired)
    {
        await _revive.WaitAsync();
        try
        {
            if (_owner != expired)
            {
                return;
            }
            LogResync();
            var owner = new Owner(NodeId + "." + Interlocked.Increment(ref _incarnation).ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Database.ScriptEvaluateAsync(RedisScripts.Heartbeat,
                [Keys.Heartbeat(owner.Name), Keys.Nodes, Keys.Slots(owner.Name)], [owner.Name, (long)Options.NodeTimeout.TotalMilliseconds, 1]);
            _owner = owner;
            foreach (var adapter in _adapters.Values)
            {
                await adapter.RepublishAsync(owner);
            }
        }
        finally
        {
            _revive.Release();
        }
    }

    /// <summary>
    /// Before an owner's first write in a slot: records the slot in its bitmap, so a purge knows where to look.
    /// False when the owner's heartbeat is gone (taken for dead): it must not write anywhere new.
    /// </summary>
    internal Task<bool> MarkSlotAsync(Owner owner, int slot)
    {
        var task = owner.Marks.GetOrAdd(slot, s => MarkAsync(owner, s));
        if (task.IsFaulted || task.IsCanceled)
        {
            // A Redis error is not an answer: try again next time.
            owner.Marks.TryUpdate(slot, MarkAsync(owner, slot), task);
            return owner.Marks[slot];
        }
        return task;
    }

    private async Task<bool> MarkAsync(Owner owner, int slot) =>
        (long)await Database.ScriptEvaluateAsync(RedisScripts.MarkSlot, [Keys.Heartbeat(owner.Name), Keys.Slots(owner.Name)], [slot]) == 1;

    /// <summary>
    /// Moves every owner whose heartbeat has expired (and <paramref name="self"/>, leaving, when given) to the
    /// purge list, then purges what is listed there: slot by slot, each slot atomic. Returns the memberships removed.
    /// </summary>
    /// <remarks>
    /// Not one atomic step (an owner's members span slots), yet nothing is left behind: an owner is listed
    /// before its purge starts and unlisted only once every slot of its bitmap is done, so a purge cut short is
    /// taken up by the next sweep. Once listed, its heartbeat is gone, so it can mark no new slot (MarkSlot
    /// refuses) and the bitmap read by the purge covers every slot it can ever have written to; a write of it
    /// still in flight to one of those slots lands before that slot's purge (and is purged) or after it (and is
    /// refused by the slot's tombstone). The node itself, on finding its heartbeat gone, takes a new owner name,
    /// so its new memberships are never mistaken for the old ones.
    /// </remarks>
    internal async Task<long> SweepAsync(string? self)
    {
        var listed = (RedisValue[])(await Database.ScriptEvaluateAsync(RedisScripts.Claim, [Keys.Nodes, Keys.Purging], [Keys.Nodes, self ?? ""]))!;
        long purged = 0;
        long tombstone = (long)Math.Max(60_000, 10 * Options.NodeTimeout.TotalMilliseconds);
        foreach (var value in listed)
        {
            string owner = value.ToString();
            if (owner != self && !await Database.StringSetAsync(Keys.Lease(owner), NodeId, TimeSpan.FromSeconds(30), When.NotExists))
            {
                continue;
            }
            byte[]? bitmap = await Database.StringGetAsync(Keys.Slots(owner));
            var slots = new List<int>();
            for (int i = 0; bitmap is not null && i < bitmap.Length; i++)
            {
                for (int bit = 0; bit < 8; bit++)
                {
                    if ((bitmap[i] & (0x80 >> bit)) != 0)
                    {
                        slots.Add(i * 8 + bit);
                    }
                }
            }
            foreach (var batch in slots.Chunk(256))
            {
                var counts = await Task.WhenAll(batch.Select(slot => Database.ScriptEvaluateAsync(RedisScripts.PurgeSlot,
                    [Keys.Index(slot, owner), Keys.Gone(slot, owner)], [owner, tombstone])));
                purged += counts.Sum(c => (long)c);
            }
            await Database.ScriptEvaluateAsync(RedisScripts.Purged, [Keys.Purging, Keys.Slots(owner), Keys.Lease(owner)], [owner]);
        }
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
        _revive.Dispose();
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

    /// <summary>An owner name and the slots it has marked (see <see cref="MarkSlotAsync"/>).</summary>
    internal sealed class Owner(string name)
    {
        public string Name { get; } = name;

        public ConcurrentDictionary<int, Task<bool>> Marks { get; } = new();
    }
}
