using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SocketIoSignal.SocketIO;

namespace SocketIoSignal.Signaling;

/// <summary>
/// The codelab's signaling handlers (the seed's index.js) on our Socket.IO server: <c>message</c>,
/// <c>create or join</c>, <c>ipaddr</c>, <c>bye</c>, in the mode chosen. The room decision is
/// <see cref="RoomPolicy"/>; the count-and-join is one atomic adapter call, so a room never gets a third member.
/// </summary>
public sealed partial class CodelabSignaling(SocketIoServer io, IOptions<SignalingOptions> options, ILogger<CodelabSignaling> logger) : IDisposable
{
    private readonly SignalingOptions _options = options.Value;

    public SignalingMode Mode => _options.Mode;

    /// <summary>The events a client may send, in every mode (the plain WebSocket endpoint refuses any other).</summary>
    public static readonly IReadOnlySet<string> Events = new HashSet<string>(StringComparer.Ordinal) { "message", "create or join", "ipaddr", "bye" };

    // The event handlers, made once and shared by every socket (each finds its socket in the event): a closure and
    // a delegate per event per connection would be held for the connection's life.
    private Func<SocketIoEvent, Task>? _onMessage;
    private Func<SocketIoEvent, Task>? _onCreateOrJoin;
    private Func<SocketIoEvent, Task>? _onIpAddr;
    private Func<SocketIoEvent, Task>? _onBye;

    public void Attach()
    {
        _onMessage = e =>
        {
            OnMessage(e.Socket, e);
            return Task.CompletedTask;
        };
        _onCreateOrJoin = e => OnCreateOrJoinAsync(e.Socket, e);
        _onIpAddr = e =>
        {
            OnIpAddr(e.Socket);
            return Task.CompletedTask;
        };
        _onBye = e =>
        {
            LogBye(e.Socket.Id, JsString.From(e.Arg(0), e.ArgCount > 0));
            return Task.CompletedTask;
        };
        io.OnConnection(OnConnection);
    }

    private void OnConnection(SocketIoSocket socket)
    {
        socket.On("message", _onMessage!);
        socket.On("create or join", _onCreateOrJoin!);
        socket.On("ipaddr", _onIpAddr!);
        socket.On("bye", _onBye!);
        if (_options.Mode == SignalingMode.Step6)
        {
            socket.OnDisconnect(reason =>
            {
                LogPeerGone(socket.Id, reason.ToWire());
                socket.Broadcast.Emit("bye");
            });
        }
        else if (_options.Mode == SignalingMode.Rooms)
        {
            if (socket.Recovered && _pendingByes.TryRemove(socket.Id, out var pending))
            {
                // Back within the recovery window, in its rooms again: the peer never hears a bye.
                pending.Dispose();
            }
            socket.OnDisconnecting(reason =>
            {
                var rooms = socket.Rooms.Where(room => room != socket.Id).ToArray();
                if (rooms.Length > 0 && socket.KeepsSessionOn(reason))
                {
                    // A network blip: the peer may come back with its session; say bye only once the window is over.
                    DeferBye(socket.Id, rooms);
                    return;
                }
                foreach (var room in rooms)
                {
                    socket.To(room).Emit("bye", room);
                }
            });
        }
    }

    /// <summary>Rooms mode with recovery: the byes of peers that dropped and may still come back, by socket id.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ITimer> _pendingByes = new(StringComparer.Ordinal);

    private volatile bool _stopped;

    private void DeferBye(string id, string[] rooms)
    {
        if (_stopped)
        {
            // The server is going away: every peer is being disconnected, and no timer may outlive the host.
            return;
        }
        var timer = io.Time.CreateTimer(_ =>
        {
            if (_pendingByes.TryRemove(id, out var self))
            {
                self.Dispose();
                _ = ByeUnlessBackAsync(id, rooms);
            }
        }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (_pendingByes.TryAdd(id, timer))
        {
            // Armed once registered, so the callback always finds it; a little past the window, when the session is gone for good.
            timer.Change(io.Options.ConnectionStateRecovery.MaxDisconnectionDuration + TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);
        }
        else
        {
            timer.Dispose();
        }
    }

    /// <summary>Drops the byes still waiting (the host is stopping); none is armed after this.</summary>
    public void Dispose()
    {
        _stopped = true;
        foreach (var id in _pendingByes.Keys)
        {
            if (_pendingByes.TryRemove(id, out var timer))
            {
                timer.Dispose();
            }
        }
    }

    /// <summary>
    /// The window is over: bye, unless the peer recovered its session on another node of the cluster (Redis streams
    /// mode), where its socket id lives on; on one node a recovery has already taken the pending bye away.
    /// </summary>
    private async Task ByeUnlessBackAsync(string id, string[] rooms)
    {
        try
        {
            if ((await io.To(id).FetchSocketsAsync().ConfigureAwait(false)).Count > 0)
            {
                return;
            }
        }
        catch (Exception ex)
        {
            LogByeCheckFailed(ex, id);
        }
        foreach (var room in rooms)
        {
            io.To(room).Emit("bye", room);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not ask the cluster whether {Id} came back; saying bye")]
    private partial void LogByeCheckFailed(Exception ex, string id);

    /// <summary>Byes waiting for a dropped peer's recovery window to end (for tests).</summary>
    internal int PendingByes => _pendingByes.Count;

    /// <summary>The seed's <c>log()</c>: one <c>log</c> event whose argument is an array.</summary>
    private static void Log(SocketIoSocket socket, params object?[] parts)
    {
        var array = new object?[parts.Length + 1];
        array[0] = "Message from server:";
        parts.CopyTo(array, 1);
        socket.Emit("log", (object)array);
    }

    private void OnMessage(SocketIoSocket socket, SocketIoEvent e)
    {
        // Passed on as the client's JSON text (no tree): encoded once per emit, byte for byte what JSON.stringify gives.
        var message = e.ArgForEmit(0);
        Log(socket, "Client said: ", message);
        if (_options.Mode == SignalingMode.Rooms)
        {
            var target = socket.Broadcast;
            bool any = false;
            foreach (var room in socket.Rooms)
            {
                if (room != socket.Id)
                {
                    target = target.To(room);
                    any = true;
                }
            }
            if (any)
            {
                target.Emit("message", message);
            }
            return;
        }
        // "for a real app, would be room-only (not broadcast)" — the codelab broadcasts to everyone else.
        socket.Broadcast.Emit("message", message);
    }

    private async Task OnCreateOrJoinAsync(SocketIoSocket socket, SocketIoEvent e)
    {
        bool present = e.ArgCount > 0;
        JsonNode? room = e.Arg(0);
        string key = JsString.From(room, present);
        Log(socket, "Received request to create or join room " + key);
        if (key.Length > _options.MaxRoomNameLength)
        {
            socket.Emit("full", room);
            return;
        }
        if (room is JsonArray array)
        {
            await CreateOrJoinArrayAsync(socket, room, array, key);
            return;
        }
        if (!socket.Connected)
        {
            return;
        }
        var join = await socket.Namespace.Adapter.JoinIfBelowAsync(socket.Id, key, _options.Capacity);
        if (await UndoIfGoneAsync(socket))
        {
            return;
        }
        int numClients = join.CountBefore;
        Log(socket, "Room " + key + " now has " + numClients + " client(s)");
        // The original decides on the count alone, the asker included when it is already a member.
        switch (RoomPolicy.Decide(numClients, _options.Capacity))
        {
            case RoomDecision.Created:
                Created(socket, room, key);
                break;
            case RoomDecision.Joined:
                // The original emits "join" to the room before the joiner is in it; the join already happened
                // (atomically with the count), so leave the joiner out unless it was a member before.
                var before = socket.Namespace.To(key);
                await JoinedAsync(socket, room, key, join.WasMember ? before : before.Except(socket.Id), joinRooms: null);
                break;
            default:
                socket.Emit("full", room);
                break;
        }
    }

    /// <summary>
    /// An array as the room, exactly as socket.io 2.x treats it: the count and the broadcasts use the room's
    /// string form ("1,x,"), while socket.join(array) joins each element as a room of its own.
    /// </summary>
    private async Task CreateOrJoinArrayAsync(SocketIoSocket socket, JsonNode room, JsonArray array, string key)
    {
        int numClients = await socket.Namespace.Adapter.RoomSizeAsync(key);
        Log(socket, "Room " + key + " now has " + numClients + " client(s)");
        var elements = array.Select(item => JsString.From(item)).Distinct().ToArray();
        switch (RoomPolicy.Decide(numClients, _options.Capacity))
        {
            case RoomDecision.Created:
                await socket.Namespace.Adapter.AddAllAsync(socket.Id, elements);
                if (await UndoIfGoneAsync(socket))
                {
                    return;
                }
                Created(socket, room, key);
                break;
            case RoomDecision.Joined:
                await JoinedAsync(socket, room, key, socket.Namespace.To(key), elements);
                break;
            default:
                socket.Emit("full", room);
                break;
        }
    }

    private static void Created(SocketIoSocket socket, JsonNode? room, string key)
    {
        Log(socket, "Client ID " + socket.Id + " created room " + key);
        socket.Emit("created", room, socket.Id);
    }

    /// <summary>
    /// A socket that disconnected while its join was in flight had its rooms cleared before the join landed:
    /// take it out again, so no ghost member holds a slot. (The socket is marked closed before its rooms are
    /// cleared, so a join that lands after the clearing always sees it closed here.)
    /// </summary>
    private static async ValueTask<bool> UndoIfGoneAsync(SocketIoSocket socket)
    {
        if (socket.Connected)
        {
            return false;
        }
        await socket.Namespace.Adapter.DeleteAllAsync(socket.Id);
        return true;
    }

    private async Task JoinedAsync(SocketIoSocket socket, JsonNode? room, string key, BroadcastOperator joinTarget, string[]? joinRooms)
    {
        Log(socket, "Client ID " + socket.Id + " joined room " + key);
        if (_options.Mode != SignalingMode.Step6)
        {
            joinTarget.Emit("join", room);
        }
        if (joinRooms is not null)
        {
            await socket.Namespace.Adapter.AddAllAsync(socket.Id, joinRooms);
            if (await UndoIfGoneAsync(socket))
            {
                return;
            }
        }
        socket.Emit("joined", room, socket.Id);
        if (_options.Mode == SignalingMode.Step6)
        {
            socket.Namespace.To(key).Emit("ready", room);
            socket.Broadcast.Emit("ready", room);
        }
        else
        {
            socket.Namespace.To(key).Emit("ready");
        }
    }

    private void OnIpAddr(SocketIoSocket socket)
    {
        if (!_options.IpAddrEnabled)
        {
            return;
        }
        foreach (var address in LocalIPv4Addresses())
        {
            socket.Emit("ipaddr", address);
        }
    }

    /// <summary>Every IPv4 address of the machine but 127.0.0.1, as os.networkInterfaces() lists them.</summary>
    internal static IEnumerable<string> LocalIPv4Addresses()
    {
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && unicast.Address.ToString() != "127.0.0.1")
                {
                    yield return unicast.Address.ToString();
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "socket {Id} said bye ({Room})")]
    private partial void LogBye(string id, string room);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id} disconnected: {Reason}")]
    private partial void LogPeerGone(string id, string reason);
}
