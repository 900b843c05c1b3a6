using System.Text.Json.Nodes;
using SocketIoSignal.EngineIO;
using SocketIoSignal.EngineIO.Protocol;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO;

/// <summary>
/// The Socket.IO side of one Engine.IO session: decodes its packets (reassembling binary ones), routes them to
/// the socket of their namespace, and closes the connection on anything invalid, as the reference does.
/// </summary>
internal sealed class SocketIoClient
{
    private readonly SocketIoServer _server;

    internal SocketIoServer Server => _server;
    /// <summary>
    /// The sockets by the namespace name they connected with: a client has one or a few, so a small array searched in
    /// order, replaced (never changed) under <see cref="_gate"/>, costs less per connection than a dictionary.
    /// </summary>
    private SocketEntry[] _sockets = [];
    // The client is internal and never handed out, so it serves as its own lock (no lock object per connection).
    private object _gate => this;

    private readonly record struct SocketEntry(string Name, SocketIoSocket Socket);
    private SocketIoPacket? _pendingBinary;
    private List<ReadOnlyMemory<byte>>? _attachments;
    private ITimer? _connectTimer;
    private ITimer? _attachmentTimer;
    private HashSet<string>? _connecting;
    private bool _closed;

    // rate limit (token bucket; only the dispatching thread touches these)
    private double _tokens;
    private long _lastRefill;
    private long _limitedSince;

    public SocketIoClient(SocketIoServer server, IEngineIoConnection session)
    {
        _server = server;
        Session = session;
        Protocol = session.Protocol >= 4 ? 5 : 4;
    }

    public IEngineIoConnection Session { get; }

    public int Protocol { get; }

    public int SocketCount
    {
        get
        {
            lock (_gate)
            {
                return _sockets.Length;
            }
        }
    }

    internal void Start()
    {
        if (Protocol == 4)
        {
            // Clients 1.x/2.x never send CONNECT for "/": the server connects them at once.
            Connect("/", null, null);
        }
        else
        {
            _connectTimer = _server.Metrics.Timers.Create(_server.Time, static s => ((SocketIoClient)s!).OnConnectTimeout(), this,
                _server.Options.ConnectTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnConnectTimeout()
    {
        if (SocketCount == 0)
        {
            _server.OnProtocolError("connect timeout");
            Session.Close();
        }
    }

    public bool Send(EncodedPacket packet) => packet.SendTo(Session);

    // ---- incoming ----

    public void OnText(string text)
    {
        if (!AttachmentsDue())
        {
            Decoded(SocketIoParser.TryDecode(text, Protocol, _server.ParserLimits, out var packet, out var error), packet, error);
        }
    }

    /// <summary>A packet as UTF-8 that stays unchanged (an Engine.IO frame received over WebSocket).</summary>
    public void OnText(ReadOnlyMemory<byte> utf8)
    {
        if (!AttachmentsDue())
        {
            Decoded(SocketIoParser.TryDecode(utf8, Protocol, _server.ParserLimits, out var packet, out var error), packet, error);
        }
    }

    /// <summary>A text packet while a binary packet still waits for attachments is an error (the connection closes).</summary>
    private bool AttachmentsDue()
    {
        if (_pendingBinary is null)
        {
            return false;
        }
        Fail("text packet while attachments are due");
        return true;
    }

    private void Decoded(bool ok, SocketIoPacket? packet, string error)
    {
        if (!ok)
        {
            Fail(error);
            return;
        }
        OnPacket(packet!);
    }

    private void OnPacket(SocketIoPacket packet)
    {
        if (packet.IsBinary)
        {
            _pendingBinary = packet;
            _attachments = new List<ReadOnlyMemory<byte>>(packet.Attachments);
            lock (_gate)
            {
                if (_closed)
                {
                    // The connection ended while this packet was being dispatched: no timer to leak.
                    _pendingBinary = null;
                    _attachments = null;
                    return;
                }
                _attachmentTimer ??= _server.Metrics.Timers.Create(_server.Time, static s => ((SocketIoClient)s!).OnAttachmentTimeout(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _attachmentTimer.Change(_server.Options.AttachmentTimeout, Timeout.InfiniteTimeSpan);
            }
            return;
        }
        Route(packet);
    }

    public void OnBinary(ReadOnlyMemory<byte> data)
    {
        if (_pendingBinary is null || _attachments is null)
        {
            Fail("unexpected binary data");
            return;
        }
        _attachments.Add(data);
        if (_attachments.Count < _pendingBinary.Attachments)
        {
            return;
        }
        var packet = _pendingBinary;
        var attachments = _attachments;
        _pendingBinary = null;
        _attachments = null;
        _attachmentTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (!SocketIoParser.TryReconstruct(packet, attachments))
        {
            Fail("illegal attachments");
            return;
        }
        Route(packet);
    }

    private void OnAttachmentTimeout()
    {
        if (_pendingBinary is not null)
        {
            Fail("attachments never arrived");
        }
    }

    private void Route(SocketIoPacket packet)
    {
        _server.Metrics.PacketIn();
        if (!TakePermit())
        {
            return;
        }
        if (packet.Type == SocketIoPacketType.Connect)
        {
            Connect(packet.Namespace, packet.Data as JsonObject, packet.Query);
            return;
        }
        SocketIoSocket? socket;
        lock (_gate)
        {
            socket = Find(packet.Namespace);
        }
        if (socket is null)
        {
            Fail("namespace not connected");
            return;
        }
        switch (packet.Type)
        {
            case SocketIoPacketType.Disconnect:
                Remove(socket);
                socket.OnClose(DisconnectReason.ClientNamespaceDisconnect);
                break;
            case SocketIoPacketType.Event:
            case SocketIoPacketType.BinaryEvent:
                _server.Metrics.EventIn();
                socket.OnPacket(packet);
                break;
            default:
                socket.OnPacket(packet);
                break;
        }
    }

    /// <summary>
    /// The per-connection rate limit: a token bucket of <see cref="SocketIoOptions.EventBurst"/> refilled at
    /// <see cref="SocketIoOptions.MaxEventsPerSecond"/>. A packet without a token is dropped (and counted); a
    /// connection whose bucket has not refilled to half within RateLimitDisconnectAfter of its first drop is closed.
    /// </summary>
    private bool TakePermit()
    {
        var options = _server.Options;
        if (options.MaxEventsPerSecond <= 0)
        {
            return true;
        }
        var time = _server.Time;
        long now = time.GetTimestamp();
        double burst = options.EventBurst > 0 ? options.EventBurst : 2.0 * options.MaxEventsPerSecond;
        _tokens = _lastRefill == 0 ? burst : Math.Min(burst, _tokens + (now - _lastRefill) * (double)options.MaxEventsPerSecond / time.TimestampFrequency);
        _lastRefill = now;
        if (_limitedSince != 0 && _tokens >= burst / 2)
        {
            _limitedSince = 0;
        }
        if (_tokens >= 1)
        {
            _tokens -= 1;
            return true;
        }
        _server.Metrics.Dropped("rate-limited");
        if (_limitedSince == 0)
        {
            _limitedSince = now;
        }
        else if (options.RateLimitDisconnectAfter > TimeSpan.Zero && now - _limitedSince >= (long)(options.RateLimitDisconnectAfter.TotalSeconds * time.TimestampFrequency))
        {
            _limitedSince = 0;
            _server.Metrics.RateLimitDisconnect();
            Fail("rate limit exceeded for too long");
        }
        return false;
    }

    private void Connect(string name, JsonObject? auth, string? nspQuery)
    {
        var connecting = ConnectAsync(name, auth, nspQuery);
        if (!connecting.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(connecting);
        }

        async Task ObserveAsync(Task task)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _server.LogHandlerError(ex, Session.Id, "connect");
            }
        }
    }

    /// <summary>
    /// Connects the client to a namespace: a static one, or a child a parent namespace makes for the name; then the
    /// namespace's middlewares (async: the connection's other packets go on meanwhile). Runs inline to the end
    /// when nothing awaits, so a plain connect is answered before the next packet is read.
    /// </summary>
    private async Task ConnectAsync(string name, JsonObject? auth, string? nspQuery)
    {
        lock (_gate)
        {
            if (Find(name) is not null || (_connecting?.Contains(name) ?? false))
            {
                if (Protocol == 4 && name == "/")
                {
                    // Some protocol 4 clients announce "/" although the server already connected them.
                    return;
                }
                Fail("already connected to the namespace");
                return;
            }
            (_connecting ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
        }
        try
        {
            var handshake = new SocketIoHandshake
            {
                Engine = Session.Handshake,
                Query = MergeQuery(Session.Handshake.Query, nspQuery),
                // The reference always hands handlers an object: protocol 5's CONNECT payload ({} when it carried
                // none), protocol 4's namespace query ({} without one); the handshake makes {} when asked for.
                Auth = Protocol >= 5 ? auth : QueryObject(nspQuery),
            };
            if (!_server.TryGetNamespace(name, out var nsp))
            {
                nsp = await _server.MatchDynamicAsync(name, handshake).ConfigureAwait(false);
                if (nsp is null)
                {
                    Send(SocketIoEncoder.EncodeConnectError(name, "Invalid namespace", null, Protocol));
                    return;
                }
            }
            // Connection state recovery: a CONNECT with the pid and offset of a session kept here takes that session.
            var restored = Protocol >= 5 && nsp!.Recovery is { } recovery ? await Recovery.Restoring.TakeAsync(recovery, auth).ConfigureAwait(false) : null;
            string id = restored?.Session.Sid ?? (Protocol == 4 ? (name == "/" ? Session.Id : $"{name}#{Session.Id}") : SessionId.New());
            var socket = new SocketIoSocket(this, nsp!, id, handshake);
            if (restored is not null)
            {
                socket.Restore(restored.Session);
            }
            else if (Protocol >= 5 && nsp!.Recovery is not null)
            {
                // A separate secret: the socket id is seen by other clients, the pid only by its own.
                socket.Pid = SessionId.New();
            }
            try
            {
                if (restored is null || !_server.Options.ConnectionStateRecovery.SkipMiddlewares)
                {
                    await nsp!.RunMiddlewareAsync(socket).ConfigureAwait(false);
                }
            }
            catch (ConnectRejectedException rejected)
            {
                socket.Cleanup();
                Send(SocketIoEncoder.EncodeConnectError(name, rejected.Message, rejected.ErrorData, Protocol));
                return;
            }
            catch (Exception ex)
            {
                _server.LogHandlerError(ex, id, "middleware");
                socket.Cleanup();
                Send(SocketIoEncoder.EncodeConnectError(name, "Internal error", null, Protocol));
                return;
            }
            bool gone;
            lock (_gate)
            {
                gone = _closed;
                if (!gone)
                {
                    int at = IndexOf(name);
                    if (at < 0)
                    {
                        _sockets = [.. _sockets, new SocketEntry(name, socket)];
                    }
                    else
                    {
                        var copy = (SocketEntry[])_sockets.Clone();
                        copy[at] = new SocketEntry(name, socket);
                        _sockets = copy;
                    }
                }
            }
            if (gone)
            {
                // The client went away while the middlewares ran: the socket is dropped, not connected.
                socket.Cleanup();
                return;
            }
            socket.MarkConnected();
            // Connected: the connect timeout is over for good, and its timer goes (no timer per connected client,
            // nor a disposed one kept for the connection's life).
            Interlocked.Exchange(ref _connectTimer, null)?.Dispose();
            if (socket.Pid is not null)
            {
                Recovery.Restoring.Connect(this, nsp!, socket, restored);
            }
            else
            {
                Send(SocketIoEncoder.EncodeConnect(name, Protocol >= 5 ? id : null));
                _server.Metrics.SocketConnected();
                nsp!.AddSocket(socket);
            }
            socket.MarkReady();
        }
        finally
        {
            lock (_gate)
            {
                // Connecting is brief: no empty set kept for the connection's life.
                if (_connecting!.Remove(name) && _connecting.Count == 0)
                {
                    _connecting = null;
                }
            }
        }
    }

    /// <summary>A query as Node's <c>url.parse(nsp, true).query</c>: each key's value, an array when it repeats.</summary>
    private static JsonObject? QueryObject(string? query)
    {
        if (string.IsNullOrEmpty(query))
        {
            return null;
        }
        var result = new JsonObject();
        foreach (var (key, values) in Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query))
        {
            result[key] = values.Count == 1
                ? JsonValue.Create(values[0] ?? "")
                : new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v ?? ""))]);
        }
        return result;
    }

    private static IReadOnlyDictionary<string, string> MergeQuery(IReadOnlyDictionary<string, string> engine, string? nspQuery)
    {
        if (string.IsNullOrEmpty(nspQuery))
        {
            // Nothing to merge: the session's own read-only query, not a copy per socket.
            return engine;
        }
        var merged = new Dictionary<string, string>(engine, StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(nspQuery))
        {
            foreach (var (key, value) in Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(nspQuery))
            {
                merged[key] = value.ToString();
            }
        }
        return merged;
    }

    internal void Remove(SocketIoSocket socket)
    {
        lock (_gate)
        {
            int at = IndexOf(socket.Namespace.Name);
            if (at >= 0 && _sockets[at].Socket == socket)
            {
                _sockets = [.. _sockets.AsSpan(0, at), .. _sockets.AsSpan(at + 1)];
                _server.Metrics.SocketDisconnected();
            }
        }
    }

    /// <summary>The server disconnects every socket of this client, then closes the connection.</summary>
    internal void DisconnectAll()
    {
        foreach (var socket in Snapshot())
        {
            socket.Disconnect();
        }
        Session.Close();
    }

    /// <summary>The Engine.IO session ended.</summary>
    internal void OnClose(CloseReason reason)
    {
        SocketIoSocket[] sockets;
        lock (_gate)
        {
            _closed = true;
            sockets = [.. _sockets.Select(e => e.Socket)];
        }
        Interlocked.Exchange(ref _connectTimer, null)?.Dispose();
        _attachmentTimer?.Dispose();
        _pendingBinary = null;
        _attachments = null;
        var why = DisconnectReasons.FromEngine(reason);
        foreach (var socket in sockets)
        {
            Remove(socket);
            socket.OnClose(why);
        }
    }

    private SocketIoSocket[] Snapshot()
    {
        lock (_gate)
        {
            return [.. _sockets.Select(e => e.Socket)];
        }
    }

    /// <summary>Where the socket connected with <paramref name="name"/> is, or -1 (under the gate).</summary>
    private int IndexOf(string name)
    {
        var sockets = _sockets;
        for (int i = 0; i < sockets.Length; i++)
        {
            if (string.Equals(sockets[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    private SocketIoSocket? Find(string name)
    {
        int at = IndexOf(name);
        return at < 0 ? null : _sockets[at].Socket;
    }

    /// <summary>Whether the connect timer is still held (for tests: a connected client holds none).</summary>
    internal bool HoldsConnectTimer => Volatile.Read(ref _connectTimer) is not null;

    /// <summary>Whether a set of namespaces being connected is held (for tests: none once the connects are over).</summary>
    internal bool HoldsConnectingSet
    {
        get
        {
            lock (_gate)
            {
                return _connecting is not null;
            }
        }
    }

    /// <summary>The connection was closed for bad input: its sockets are not kept for recovery.</summary>
    internal bool Failed { get; private set; }

    private void Fail(string why)
    {
        Failed = true;
        // As Node's client.onerror: every socket's error handlers hear it, then the connection closes.
        var error = new InvalidDataException(string.Concat(char.ToUpperInvariant(why[0]).ToString(), why.AsSpan(1)));
        foreach (var socket in Snapshot())
        {
            socket.RaiseError(error);
        }
        _server.OnProtocolError(why);
        Session.Close();
    }
}
