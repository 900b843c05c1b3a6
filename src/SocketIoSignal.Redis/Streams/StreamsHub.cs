using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using SocketIoSignal.Redis.Classic;
using StackExchange.Redis;

namespace SocketIoSignal.Redis.Streams;

/// <summary>
/// Streams mode's reader: one blocking <c>XREAD</c> loop over every stream, on a connection of its own (a blocked
/// read would hold up every other command of a shared one), handing each entry to its namespace. It starts after the
/// entries already in the streams (the adapter's <c>$</c>, pinned to an id so nothing added between two reads is
/// missed) and goes on from the last id it read. Entries that are not the adapter's are dropped and counted.
/// </summary>
internal sealed class StreamsHub : IAsyncDisposable
{
    private readonly RedisCluster _cluster;
    private readonly ConcurrentDictionary<string, StreamsRequests> _namespaces = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly string[] _streams;
    private readonly string[] _offsets;
    private ConnectionMultiplexer? _reader;
    private Task _loop = Task.CompletedTask;
    private long _entriesRead;

    public StreamsHub(RedisCluster cluster)
    {
        _cluster = cluster;
        var options = cluster.Options.Streams;
        _streams = options.StreamCount == 1
            ? [options.StreamName]
            : [.. Enumerable.Range(0, options.StreamCount).Select(i => options.StreamName + "-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        _offsets = new string[_streams.Length];
    }

    /// <summary>Entries read so far (every stream, every namespace).</summary>
    public long EntriesRead => Interlocked.Read(ref _entriesRead);

    /// <summary>True once the loop has its starting offsets (entries added from then on are read).</summary>
    public Task Reading => _started.Task;

    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Register(StreamsRequests requests) => _namespaces[requests.Namespace] = requests;

    public void Forget(StreamsRequests requests) => _namespaces.TryRemove(new KeyValuePair<string, StreamsRequests>(requests.Namespace, requests));

    public void Start()
    {
        var config = ConfigurationOptions.Parse(_cluster.Options.Configuration);
        config.AbortOnConnectFail = false;
        config.ConnectTimeout = (int)_cluster.Options.ConnectTimeout.TotalMilliseconds;
        // A read blocks up to BlockTime: the command timeout must outlast it.
        config.AsyncTimeout = (int)Math.Min(int.MaxValue, (_cluster.Options.Streams.BlockTime + TimeSpan.FromSeconds(5)).TotalMilliseconds);
        config.SyncTimeout = config.AsyncTimeout;
        config.Protocol = RedisProtocol.Resp2;
        config.ClientName = "socketiosignal-" + _cluster.NodeId + "-xread";
        _reader = ConnectionMultiplexer.Connect(config);
        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    private async Task LoopAsync()
    {
        var db = _reader!.GetDatabase();
        var token = _stopping.Token;
        long blockMs = (long)_cluster.Options.Streams.BlockTime.TotalMilliseconds;
        while (!token.IsCancellationRequested)
        {
            try
            {
                if (_offsets[0] is null)
                {
                    for (int i = 0; i < _streams.Length; i++)
                    {
                        var last = await db.StreamRangeAsync(_streams[i], "-", "+", 1, Order.Descending);
                        _offsets[i] = last.Length > 0 ? last[0].Id.ToString() : "0-0";
                    }
                    _started.TrySetResult();
                }
                var args = new List<object>(6 + 2 * _streams.Length) { "BLOCK", blockMs, "COUNT", _cluster.Options.Streams.ReadCount, "STREAMS" };
                args.AddRange(_streams);
                args.AddRange(_offsets);
                var result = await db.ExecuteAsync("XREAD", args);
                if (!result.IsNull)
                {
                    Read(result);
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException or InvalidCastException)
            {
                if (token.IsCancellationRequested)
                {
                    return;
                }
                _cluster.LogRequestFailed(ex, "xread");
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), _cluster.Time, token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>XREAD's answer: <c>[[stream, [[id, [field, value, …]], …]], …]</c>.</summary>
    private void Read(RedisResult result)
    {
        foreach (var stream in (RedisResult[])result!)
        {
            var parts = (RedisResult[])stream!;
            if (parts.Length != 2)
            {
                continue;
            }
            int index = Array.IndexOf(_streams, parts[0].ToString());
            if (index < 0)
            {
                continue;
            }
            foreach (var item in (RedisResult[])parts[1]!)
            {
                var entry = (RedisResult[])item!;
                if (entry.Length != 2)
                {
                    continue;
                }
                string id = entry[0].ToString();
                _offsets[index] = id;
                Interlocked.Increment(ref _entriesRead);
                var fields = entry[1].IsNull ? [] : (RedisValue[])entry[1]!;
                OnEntry(id, fields, _streams[index]);
            }
        }
    }

    private void OnEntry(string id, RedisValue[] fields, string stream)
    {
        var counters = _cluster.Counters;
        var pairs = new NameValueEntry[fields.Length / 2];
        for (int i = 0; i + 1 < fields.Length; i += 2)
        {
            pairs[i / 2] = new NameValueEntry(fields[i], fields[i + 1]);
        }
        string? nsp = Field(pairs, "nsp");
        string? uid = Field(pairs, "uid");
        string? typeText = Field(pairs, "type");
        if (fields.Length % 2 != 0 || string.IsNullOrEmpty(nsp) || uid is null
            || !int.TryParse(typeText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int type))
        {
            counters.Dropped("malformed");
            LogBadEntry(id, stream);
            return;
        }
        if (uid == _cluster.NodeId)
        {
            return;
        }
        if (!_namespaces.TryGetValue(nsp, out var requests))
        {
            // Another namespace (maybe one this node never opened) or another application on the same stream.
            counters.Dropped("unknown-namespace");
            return;
        }
        string? dataText = Field(pairs, "data");
        JsonObject? data = null;
        IReadOnlyList<ReadOnlyMemory<byte>> attachments = [];
        if (!string.IsNullOrEmpty(dataText))
        {
            if (ReadData(dataText, _cluster.Options.MaxMessageBytes) is not { } decoded)
            {
                counters.Dropped("malformed");
                LogBadEntry(id, stream);
                return;
            }
            (data, attachments) = decoded;
        }
        requests.OnStreamEntry(uid, type, data, attachments, id);
    }

    /// <summary>A field of an entry (the first of that name), as text; null when absent.</summary>
    internal static string? Field(NameValueEntry[] values, string name)
    {
        foreach (var value in values)
        {
            if (value.Name == name)
            {
                return value.Value.IsNull ? null : value.Value.ToString();
            }
        }
        return null;
    }

    /// <summary>The adapter's <c>decode</c> of <c>data</c>: JSON text when it starts with <c>{</c>, else base64 MessagePack; null when it is neither, or not an object.</summary>
    internal static (JsonObject? Data, IReadOnlyList<ReadOnlyMemory<byte>> Attachments)? ReadData(string? text, int maxBytes)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        try
        {
            byte[] bytes = text[0] == '{' ? Encoding.UTF8.GetBytes(text) : Convert.FromBase64String(text);
            var message = ClusterCodec.Decode(bytes, maxBytes);
            return (message.Root, message.Attachments);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }
        await _stopping.CancelAsync();
        if (_reader is not null)
        {
            // Fails the blocked read at once rather than waiting out its block time.
            await _reader.CloseAsync(allowCommandsToComplete: false);
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _reader.Dispose();
        }
        _stopping.Dispose();
    }

    private void LogBadEntry(string id, string stream) => _cluster.LogDropped(new FormatException("malformed entry " + id), stream);
}
