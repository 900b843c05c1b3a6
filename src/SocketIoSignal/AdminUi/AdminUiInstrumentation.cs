using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.AdminUi;

/// <summary>
/// The server side of <c>@socket.io/admin-ui</c> 0.5.x, as Node's <c>instrument(io, options)</c>: the admin
/// namespace with its login, the statistics every <see cref="AdminUiOptions.ServerStatsInterval"/>, every socket,
/// room and event of this node as they happen (development mode), and the UI's actions (join, leave, disconnect,
/// emit). Attached before the server takes its first request, detached when the application stops.
/// </summary>
internal sealed partial class AdminUiInstrumentation : IHostedLifecycleService, IDisposable
{
    private readonly AdminUiOptions _options;
    private readonly SocketIoServer _server;
    private readonly EngineIoServer _engine;
    private readonly RoomEvents _rooms;
    private readonly IMeterFactory _meters;
    private readonly TimeProvider _time;
    private readonly ILogger<AdminUiInstrumentation> _logger;
    private readonly AdminSessions _sessions;
    private readonly byte[]? _userHash;
    private readonly byte[]? _passwordHash;
    private readonly string[] _features;
    private readonly string _serverId;
    private readonly string _hostname;
    private readonly DateTimeOffset _processStart;
    /// <summary>Logins that succeeded in the middleware: the session id is sent once the socket is connected.</summary>
    private readonly ConditionalWeakTable<SocketIoSocket, string> _newSessions = new();
    /// <summary>Sockets last reported on polling: the UI is told when they upgrade.</summary>
    private readonly ConcurrentDictionary<SocketIoSocket, byte> _polling = new();
    private SocketIoNamespace? _admin;
    private AggregatedEvents? _aggregated;
    private ITimer? _statsTimer;
    private int _attached;

    public AdminUiInstrumentation(IOptions<AdminUiOptions> options, SocketIoServer server, EngineIoServer engine, RoomEvents rooms,
        IMeterFactory meters, TimeProvider time, ILogger<AdminUiInstrumentation> logger)
    {
        _options = options.Value;
        _server = server;
        _engine = engine;
        _rooms = rooms;
        _meters = meters;
        _time = time;
        _logger = logger;
        _sessions = new AdminSessions(time, _options.SessionDuration);
        if (!_options.AllowAnonymous)
        {
            _userHash = Hash(_options.Username);
            _passwordHash = Hash(_options.Password);
        }
        _features = Features(_options);
        _hostname = Environment.MachineName;
        _serverId = string.IsNullOrEmpty(_options.ServerId) ? _hostname : _options.ServerId;
        using var process = Process.GetCurrentProcess();
        _processStart = process.StartTime.ToUniversalTime();
    }

    /// <summary>What the UI may show and do (<c>config.supportedFeatures</c>).</summary>
    internal static string[] Features(AdminUiOptions options)
    {
        var features = new List<string>();
        if (!options.ReadOnly)
        {
            features.AddRange(["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"]);
        }
        features.Add("AGGREGATED_EVENTS");
        if (options.IsDevelopment)
        {
            features.Add("ALL_EVENTS");
        }
        return [.. features];
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _attached, 1) != 0)
        {
            return Task.CompletedTask;
        }
        _admin = _server.Of(_options.Namespace);
        _admin.Use(Authenticate);
        _admin.OnConnection(OnAdminConnected);
        _aggregated = new AggregatedEvents(_meters, _time);
        if (_options.IsDevelopment)
        {
            _server.SocketConnected += OnSocketConnected;
            _server.EventReceived += OnEventReceived;
            _server.EventSent += OnEventSent;
            _rooms.Joined += OnRoomJoined;
            _rooms.Left += OnRoomLeft;
        }
        if (_options.AllowAnonymous)
        {
            LogAnonymous(_options.Namespace);
        }
        _statsTimer = _time.CreateTimer(static s => ((AdminUiInstrumentation)s!).OnStatsTimer(), this,
            _options.ServerStatsInterval, _options.ServerStatsInterval);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        Detach();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => Detach();

    private void Detach()
    {
        if (Interlocked.Exchange(ref _attached, 2) != 1)
        {
            return;
        }
        _statsTimer?.Dispose();
        _server.SocketConnected -= OnSocketConnected;
        _server.EventReceived -= OnEventReceived;
        _server.EventSent -= OnEventSent;
        _rooms.Joined -= OnRoomJoined;
        _rooms.Left -= OnRoomLeft;
        _aggregated?.Dispose();
    }

    private bool Attached => Volatile.Read(ref _attached) == 1;

    // ---- login ----

    private static byte[] Hash(string? text) => SHA256.HashData(Encoding.UTF8.GetBytes(text ?? ""));

    /// <summary>
    /// The admin namespace's middleware: a session id from an earlier login, or the user name and password (both
    /// compared in constant time, over their hashes so that lengths do not show); else <c>invalid credentials</c>,
    /// the message the UI recognizes.
    /// </summary>
    private void Authenticate(SocketIoSocket socket)
    {
        if (_options.AllowAnonymous)
        {
            return;
        }
        var auth = socket.Handshake.Auth;
        if (Text(auth?["sessionId"]) is { Length: > 0 } session && _sessions.IsValid(session))
        {
            return;
        }
        var user = Text(auth?["username"]);
        var password = Text(auth?["password"]);
        bool userMatches = CryptographicOperations.FixedTimeEquals(Hash(user), _userHash!);
        bool passwordMatches = CryptographicOperations.FixedTimeEquals(Hash(password), _passwordHash!);
        if (user is not null && password is not null && userMatches & passwordMatches)
        {
            _newSessions.AddOrUpdate(socket, _sessions.Create());
            return;
        }
        LogRefused(socket.Handshake.Address?.ToString() ?? "?");
        throw new ConnectRejectedException("invalid credentials");
    }

    private void OnAdminConnected(SocketIoSocket socket)
    {
        if (_newSessions.TryGetValue(socket, out var session))
        {
            _newSessions.Remove(socket);
            socket.Emit("session", session);
        }
        if (!_options.ReadOnly)
        {
            socket.On("emit", OnEmitAsync);
            socket.On("join", e => OnRoomActionAsync(e, join: true));
            socket.On("leave", e => OnRoomActionAsync(e, join: false));
            socket.On("_disconnect", OnDisconnectActionAsync);
        }
        socket.Emit("config", new JsonObject { ["supportedFeatures"] = new JsonArray([.. _features.Select(f => JsonValue.Create(f))]) });
        if (_options.IsDevelopment)
        {
            socket.Emit("all_sockets", AllSockets());
        }
        // Not in Node (the UI waits for the next tick there): the dashboard is filled at once. The aggregated counts
        // stay for the next tick, which every admin socket gets.
        socket.Emit("server_stats", Stats(new JsonArray()));
    }

    // ---- the UI's actions ----

    /// <summary><c>emit(nsp, filter, event, ...args)</c>: emits to the namespace, or to the room or socket <c>filter</c>.</summary>
    private async Task OnEmitAsync(SocketIoEvent e)
    {
        if (Namespace(e.Arg(0)) is not { } nsp || Text(e.Arg(2)) is not { } name)
        {
            return;
        }
        var args = new object?[Math.Max(0, e.ArgCount - 3)];
        for (int i = 0; i < args.Length; i++)
        {
            args[i] = e.ArgForEmit(i + 3);
        }
        try
        {
            var filter = Text(e.Arg(1));
            await (string.IsNullOrEmpty(filter) ? nsp.EmitAsync(name, args) : nsp.In(filter).EmitAsync(name, args));
        }
        catch (ArgumentException)
        {
            // A reserved event name: nothing is sent, as Node's emit throws.
        }
    }

    /// <summary><c>join(nsp, room, filter?)</c> / <c>leave(nsp, room, filter?)</c>: the sockets of the namespace, or those in the room (or with the id) <c>filter</c>.</summary>
    private async Task OnRoomActionAsync(SocketIoEvent e, bool join)
    {
        if (Namespace(e.Arg(0)) is not { } nsp || Text(e.Arg(1)) is not { } room)
        {
            return;
        }
        foreach (var socket in await TargetsAsync(nsp, Text(e.Arg(2))))
        {
            await (join ? socket.JoinAsync(room) : socket.LeaveAsync(room));
        }
    }

    /// <summary><c>_disconnect(nsp, close, filter?)</c>: disconnects the targets; with close, their whole connection.</summary>
    private async Task OnDisconnectActionAsync(SocketIoEvent e)
    {
        if (Namespace(e.Arg(0)) is not { } nsp)
        {
            return;
        }
        bool close = e.Arg(1) is JsonValue v && v.GetValueKind() == JsonValueKind.True;
        foreach (var socket in await TargetsAsync(nsp, Text(e.Arg(2))))
        {
            socket.Disconnect(close);
        }
    }

    /// <summary>An existing namespace (an action never creates one, unlike Node's <c>io.of(nsp)</c>).</summary>
    private SocketIoNamespace? Namespace(JsonNode? name) =>
        Text(name) is { } text && _server.TryGetNamespace(text, out var nsp) ? nsp : null;

    /// <summary>The sockets of this node the action is for: all of the namespace, or those in the room <paramref name="filter"/>.</summary>
    private static async Task<List<SocketIoSocket>> TargetsAsync(SocketIoNamespace nsp, string? filter)
    {
        if (string.IsNullOrEmpty(filter))
        {
            return [.. nsp.Sockets.Values];
        }
        var ids = await nsp.In(filter).SocketIdsAsync();
        var sockets = new List<SocketIoSocket>(ids.Count);
        foreach (var id in ids)
        {
            if (nsp.Sockets.TryGetValue(id, out var socket))
            {
                sockets.Add(socket);
            }
        }
        return sockets;
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    // ---- what happens, as it happens (development mode) ----

    private string Now() => AdminSerializer.Timestamp(_time.GetUtcNow());

    /// <summary>Whether an admin socket is connected to this node: the live reports are built only then.</summary>
    private bool Watched => Attached && _admin is { Sockets.Count: > 0 };

    /// <summary>
    /// A live report, to the admin sockets of this node only (encoded once): with a cluster adapter, a UI sees the
    /// sockets, rooms and events of the node it is connected to, as its all_sockets and its actions are this
    /// node's. The statistics go to every node's UI (<see cref="OnStatsTimer"/>).
    /// </summary>
    private void ToAdmin(string eventName, params object?[] args)
    {
        if (_admin is { } admin && Watched)
        {
            ((ILocalDelivery)admin).Deliver(admin.Sockets.Keys, SocketIoEncoder.EncodeEvent(admin.Name, eventName, args));
        }
    }

    private void OnSocketConnected(SocketIoSocket socket)
    {
        if (socket.Client.Session.Transport != TransportKind.WebSocket)
        {
            _polling[socket] = 0;
        }
        string nsp = socket.Namespace.Name;
        string id = socket.Id;
        // Always: a UI that connects later lists this socket, and must hear that it left.
        socket.OnDisconnect(reason =>
        {
            _polling.TryRemove(socket, out _);
            ToAdmin("socket_disconnected", nsp, id, reason.ToWire(), Now());
        });
        if (Watched)
        {
            ToAdmin("socket_connected", AdminSerializer.Socket(socket), Now());
        }
    }

    private void OnRoomJoined(string nsp, string room, string id)
    {
        if (Watched)
        {
            ToAdmin("room_joined", nsp, room, id, Now());
        }
    }

    private void OnRoomLeft(string nsp, string room, string id)
    {
        if (Watched)
        {
            ToAdmin("room_left", nsp, room, id, Now());
        }
    }

    /// <summary>Events of the admin namespace itself are not reported, as in Node.</summary>
    private void OnEventReceived(SocketIoEvent e)
    {
        if (e.Socket.Namespace == _admin || !Watched)
        {
            return;
        }
        var args = new object?[e.ArgCount + 1];
        args[0] = e.Name;
        for (int i = 0; i < e.ArgCount; i++)
        {
            // The client's JSON text as it came (or its tree when it carried binary): encoded here, before any handler runs.
            args[i + 1] = e.ArgForEmit(i);
        }
        ToAdmin("event_received", e.Socket.Namespace.Name, e.Socket.Id, args, Now());
    }

    private void OnEventSent(SocketIoSocket socket, string eventName, IReadOnlyList<object?> args)
    {
        if (socket.Namespace == _admin || !Watched)
        {
            return;
        }
        var all = new object?[args.Count + 1];
        all[0] = eventName;
        for (int i = 0; i < args.Count; i++)
        {
            all[i + 1] = args[i];
        }
        ToAdmin("event_sent", socket.Namespace.Name, socket.Id, all, Now());
    }

    /// <summary>Every socket of every namespace on this node, serialized.</summary>
    private JsonArray AllSockets()
    {
        var all = new JsonArray();
        foreach (var nsp in _server.Namespaces.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            foreach (var socket in nsp.Sockets.Values)
            {
                all.Add(AdminSerializer.Socket(socket));
            }
        }
        return all;
    }

    // ---- statistics ----

    private void OnStatsTimer()
    {
        if (!Attached)
        {
            return;
        }
        try
        {
            ReportUpgrades();
            // Through the adapter, as Node: with a cluster adapter every node's UI lists every node (Servers page).
            _admin!.Emit("server_stats", Stats(_aggregated!.TakeAll()));
        }
        catch (Exception ex)
        {
            LogStatsFailed(ex);
        }
    }

    /// <summary>Tells the UI of sockets that left polling for WebSocket since the last tick (<c>socket_updated</c>).</summary>
    private void ReportUpgrades()
    {
        foreach (var socket in _polling.Keys)
        {
            if (!socket.Connected)
            {
                _polling.TryRemove(socket, out _);
            }
            else if (socket.Client.Session.Transport == TransportKind.WebSocket && _polling.TryRemove(socket, out _))
            {
                ToAdmin("socket_updated", new JsonObject
                {
                    ["id"] = socket.Id,
                    ["nsp"] = socket.Namespace.Name,
                    ["transport"] = "websocket",
                });
            }
        }
    }

    /// <summary>serverId, hostname, pid, uptime (seconds), clientsCount, pollingClientsCount, aggregatedEvents, namespaces.</summary>
    internal JsonObject Stats(JsonArray aggregatedEvents)
    {
        int clients = 0;
        int polling = 0;
        foreach (var session in _engine.Sessions)
        {
            clients++;
            if (session.Transport != TransportKind.WebSocket)
            {
                polling++;
            }
        }
        var namespaces = new JsonArray();
        foreach (var nsp in _server.Namespaces.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            namespaces.Add(new JsonObject { ["name"] = nsp.Name, ["socketsCount"] = nsp.Sockets.Count });
        }
        return new JsonObject
        {
            ["serverId"] = _serverId,
            ["hostname"] = _hostname,
            ["pid"] = Environment.ProcessId,
            ["uptime"] = Math.Round((_time.GetUtcNow() - _processStart).TotalSeconds, 3),
            ["clientsCount"] = clients,
            ["pollingClientsCount"] = polling,
            ["aggregatedEvents"] = aggregatedEvents,
            ["namespaces"] = namespaces,
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "admin UI: authentication is disabled (AllowAnonymous): anyone who reaches the server may connect to {Namespace}")]
    private partial void LogAnonymous(string @namespace);

    [LoggerMessage(Level = LogLevel.Information, Message = "admin UI: invalid credentials from {Address}")]
    private partial void LogRefused(string address);

    [LoggerMessage(Level = LogLevel.Error, Message = "admin UI: the statistics could not be sent")]
    private partial void LogStatsFailed(Exception ex);
}
