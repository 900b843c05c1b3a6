using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Adapter;

namespace SocketIoSignal.Redis.Classic;

/// <summary>
/// The local half for one namespace of this server: room state from the adapter's in-memory index (joins and
/// leaves go through the Redis adapter, so the shared sets follow), sockets from the namespace.
/// </summary>
internal sealed class NamespaceLocal(RedisRoomAdapter adapter, InMemoryRoomAdapter rooms, SocketIoNamespace? nsp) : IClusterLocal
{
    /// <summary>Who takes other nodes' <c>serverSideEmit</c> here; none drops them, as a Node namespace without listeners.</summary>
    public Func<JsonArray, Action<JsonNode?>?, bool>? ServerSideEmitHandler { get; set; }

    public IReadOnlyCollection<string> SocketIds(BroadcastTarget target) => rooms.SocketIdsAsync(target).Result;

    public IReadOnlyCollection<string> Rooms()
    {
        var all = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, socketRooms) in rooms.Snapshot())
        {
            all.UnionWith(socketRooms);
        }
        return all;
    }

    public async ValueTask AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> joined)
    {
        foreach (var id in SocketIds(target))
        {
            await adapter.AddAllAsync(id, joined);
        }
    }

    public async ValueTask DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> left)
    {
        foreach (var id in SocketIds(target))
        {
            foreach (var room in left)
            {
                await adapter.DeleteAsync(id, room);
            }
        }
    }

    public void DisconnectSockets(BroadcastTarget target, bool close)
    {
        foreach (var id in SocketIds(target))
        {
            Disconnect(id, close);
        }
    }

    public async ValueTask<bool> JoinAsync(string socketId, string room)
    {
        if (Socket(socketId) is null)
        {
            return false;
        }
        await adapter.AddAllAsync(socketId, [room]);
        return true;
    }

    public async ValueTask<bool> LeaveAsync(string socketId, string room)
    {
        if (Socket(socketId) is null)
        {
            return false;
        }
        await adapter.DeleteAsync(socketId, room);
        return true;
    }

    public bool Disconnect(string socketId, bool close)
    {
        if (Socket(socketId) is not { } socket)
        {
            return false;
        }
        socket.Disconnect(close);
        return true;
    }

    public IReadOnlyList<RemoteSocketInfo> FetchSockets(BroadcastTarget target)
    {
        var result = new List<RemoteSocketInfo>();
        foreach (var id in SocketIds(target))
        {
            if (Socket(id) is { } socket)
            {
                result.Add(new RemoteSocketInfo(id, HandshakeJson(socket.Handshake), [.. rooms.RoomsOf(id)], DataJson(socket.Data)));
            }
        }
        return result;
    }

    public bool OnServerSideEmit(JsonArray args, Action<JsonNode?>? ack) => ServerSideEmitHandler?.Invoke(args, ack) ?? false;

    public int BroadcastWithAck(string eventName, IReadOnlyList<object?> args, BroadcastTarget target, TimeSpan timeout, Action<JsonNode?> onAck)
    {
        int count = 0;
        foreach (var id in SocketIds(target))
        {
            if (Socket(id) is { } socket)
            {
                count++;
                _ = AwaitAck(socket.EmitWithAckAsync(eventName, timeout, [.. args]));
            }
        }
        return count;

        async Task AwaitAck(Task<IReadOnlyList<JsonNode?>> pending)
        {
            try
            {
                var answer = await pending;
                onAck(answer.Count > 0 ? answer[0] : null);
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                // No answer in time, or the socket left: the requester counts it missing, as Node's does.
            }
        }
    }

    private SocketIoSocket? Socket(string id) => nsp is not null && nsp.Sockets.TryGetValue(id, out var socket) ? socket : null;

    /// <summary>The handshake as socket.io 4 builds it, so a Node node's fetch sees the same fields.</summary>
    internal static JsonObject HandshakeJson(SocketIoHandshake handshake)
    {
        var headers = new JsonObject();
        foreach (var (name, value) in handshake.Headers)
        {
            headers[name.ToLowerInvariant()] = value;
        }
        var query = new JsonObject();
        foreach (var (name, value) in handshake.Query)
        {
            query[name] = value;
        }
        string? address = handshake.Address?.ToString();
        return new JsonObject
        {
            ["headers"] = headers,
            ["time"] = JsDateString(handshake.Time),
            ["address"] = address,
            ["xdomain"] = handshake.Headers.ContainsKey("origin"),
            ["secure"] = handshake.Secure,
            ["issued"] = handshake.Time.ToUnixTimeMilliseconds(),
            ["url"] = handshake.Url,
            ["query"] = query,
            ["auth"] = handshake.Auth?.DeepClone() ?? new JsonObject(),
        };
    }

    /// <summary>JavaScript's <c>Date#toString</c> in UTC, e.g. <c>Mon Dec 07 2026 02:50:45 GMT+0000 (Coordinated Universal Time)</c>.</summary>
    internal static string JsDateString(DateTimeOffset time) =>
        time.UtcDateTime.ToString("ddd MMM dd yyyy HH:mm:ss", CultureInfo.InvariantCulture) + " GMT+0000 (Coordinated Universal Time)";

    /// <summary>Socket data as JSON; a value that does not serialize travels as null rather than failing the fetch.</summary>
    internal static JsonNode? DataJson(object? data)
    {
        if (data is null)
        {
            return null;
        }
        if (data is JsonNode node)
        {
            return node.DeepClone();
        }
        try
        {
            return JsonSerializer.SerializeToNode(data, data.GetType(), ClusterCodec.Json);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            return null;
        }
    }
}
