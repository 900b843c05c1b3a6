using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO.Protocol;
using SocketIoSignal.EngineIO.WebSockets;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// The Engine.IO endpoint: parses each request into an <see cref="EngineIoRequest"/>, checks it as the reference
/// does (transport, origin, sid, method, version), then hands it to the session's polling or WebSocket transport.
/// </summary>
internal sealed partial class EngineIoServer : IDisposable
{
    private readonly PartitionedRateLimiter<System.Net.IPAddress>? _handshakeLimiter;

    private readonly ConcurrentDictionary<string, EngineIoSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>
    /// Polling sessions the client closed (close packet in a POST) while no GET was waiting: a GET the client
    /// sent before that POST may reach us after it (two connections race), and gets the noop the reference gives
    /// a pending poll. One GET per entry, within <see cref="ClientCloseGrace"/>; bounded.
    /// </summary>
    private readonly ConcurrentDictionary<string, (long Expires, int Protocol)> _closedByClient = new(StringComparer.Ordinal);

    private static readonly TimeSpan ClientCloseGrace = TimeSpan.FromMilliseconds(500);

    private const int MaxClosedByClient = 10_000;
    private readonly ILogger<EngineIoServer> _logger;
    private readonly IEngineIoHandler _handler;

    public EngineIoServer(IOptions<EngineIoOptions> options, IEngineIoHandler handler, TimeProvider time, ILogger<EngineIoServer> logger, EngineIoMetrics metrics,
        Engine? engine = null)
    {
        Options = options.Value;
        Engine = engine ?? new Engine();
        Engine.Attach(this);
        _handler = handler;
        Time = time;
        _logger = logger;
        Metrics = metrics;
        Timers = new SessionTimers(time);
        if (Options.HandshakesPerIpPerMinute > 0)
        {
            int perMinute = Options.HandshakesPerIpPerMinute;
            var refill = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerMinute / perMinute));
            _handshakeLimiter = PartitionedRateLimiter.Create<System.Net.IPAddress, System.Net.IPAddress>(address =>
                RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = perMinute,
                    TokensPerPeriod = 1,
                    ReplenishmentPeriod = refill,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
        }
        Metrics.QueuedBytes = () => _sessions.Values.Sum(s => s.QueuedBytes);
    }

    public EngineIoOptions Options { get; }

    /// <summary>The public face of this server: its events (Node's <c>io.engine</c>).</summary>
    public Engine Engine { get; }

    public TimeProvider Time { get; }

    public EngineIoMetrics Metrics { get; }

    /// <summary>The heartbeat and close timers of all sessions.</summary>
    internal SessionTimers Timers { get; }

    public int SessionCount => _sessions.Count;

    /// <summary>Whether <see cref="ShutdownAsync"/> has begun: new handshakes are refused.</summary>
    public bool IsShuttingDown => Volatile.Read(ref _shuttingDown);

    public IEnumerable<EngineIoSession> Sessions => _sessions.Values;

    public bool TryGetSession(string sid, out EngineIoSession? session) => _sessions.TryGetValue(sid, out session);

    /// <summary>
    /// Not async itself: every branch ends in the task it returns, so no state machine of this method stays alive
    /// beside the session's for as long as a WebSocket runs.
    /// </summary>
    public Task HandleAsync(HttpContext context)
    {
        var request = EngineIoRequest.Parse(context, out var query);
        if (!Cors.Apply(context, Options.AllowedOrigins, Options.AllowedHeaders))
        {
            return WriteErrorAsync(context, EngineIoError.Forbidden, Context("name", "ORIGIN_NOT_ALLOWED", "origin", context.Request.Headers.Origin.ToString()));
        }
        if (HttpMethods.IsOptions(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }
        if (request.Transport == TransportKind.Unknown || !Options.Transports.Contains(request.Transport == TransportKind.Polling ? "polling" : "websocket"))
        {
            return WriteErrorAsync(context, EngineIoError.TransportUnknown, Context("transport", query is not null && query.TryGetValue("transport", out var t) ? t.ToString() : null));
        }
        if (request.JsonpInvalid || (request.IsJsonp && request.Transport != TransportKind.Polling))
        {
            return WriteErrorAsync(context, EngineIoError.BadRequest, Context("name", "INVALID_JSONP"));
        }
        return request.Sid is { } sid ? HandleSessionRequestAsync(context, request, sid) : HandshakeAsync(context, request, query);
    }

    /// <summary>The session the request names, or null once the request has been answered with an error.</summary>
    private async ValueTask<EngineIoSession?> SessionForAsync(HttpContext context, EngineIoRequest request, string sid)
    {
        if (!_sessions.TryGetValue(sid, out var session))
        {
            if (request.Transport == TransportKind.Polling && HttpMethods.IsGet(context.Request.Method) && TryTakeClientClose(sid, request.Protocol))
            {
                await WritePayloadAsync(context, request, request.Protocol, supportsBinary: false, [EngineIoPacket.Noop]);
                return null;
            }
            await WriteErrorAsync(context, EngineIoError.UnknownSid, Context("sid", sid));
            return null;
        }
        if (request.Protocol != session.Protocol)
        {
            await WriteErrorAsync(context, EngineIoError.BadRequest, Context("name", "PROTOCOL_MISMATCH", "protocol", request.Protocol));
            return null;
        }
        return session;
    }

    private Task HandleSessionRequestAsync(HttpContext context, EngineIoRequest request, string sid)
    {
        if (request.Transport != TransportKind.WebSocket)
        {
            return PollAsync(context, request, sid);
        }
        // The upgraded WebSocket runs after this request's frame has ended: unwrapped, not awaited in it.
        return UpgradeAsync(context, request, sid).Unwrap();
    }

    private async Task PollAsync(HttpContext context, EngineIoRequest request, string sid)
    {
        if (await SessionForAsync(context, request, sid) is not { } session)
        {
            return;
        }
        if (HttpMethods.IsGet(context.Request.Method))
        {
            await session.HandlePollGetAsync(context, request);
        }
        else if (HttpMethods.IsPost(context.Request.Method))
        {
            await session.HandlePollPostAsync(context, request);
        }
        else
        {
            // Anything else leaves the session as it was.
            await WriteErrorAsync(context, EngineIoError.BadRequest, Context("name", "BAD_METHOD", "method", context.Request.Method));
        }
    }

    /// <summary>A WebSocket that probes an upgrade of a polling session: answered here; the task returned runs it.</summary>
    private async Task<Task> UpgradeAsync(HttpContext context, EngineIoRequest request, string sid)
    {
        if (await SessionForAsync(context, request, sid) is not { } session)
        {
            return Task.CompletedTask;
        }
        if (!request.IsWebSocketRequest)
        {
            await WriteNotWebSocketAsync(context);
            return Task.CompletedTask;
        }
        var accepted = await TryAcceptWebSocketAsync(context, session.Protocol, initial: false);
        if (accepted is null)
        {
            await WriteErrorAsync(context, EngineIoError.Forbidden, Context("name", "UPGRADE_LIMIT"));
            return Task.CompletedTask;
        }
        // Nothing reads the request from here: a connection-level upgrade lets its context go for the WebSocket's life.
        (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>() as IReleasableRequest)?.Release();
        return RunProbeAsync(session, accepted, Options.AllowUpgrades);
    }

    private static async Task RunProbeAsync(EngineIoSession session, WebSocketConnection accepted, bool allowUpgrades)
    {
        try
        {
            if (!allowUpgrades)
            {
                // As the reference: the WebSocket is accepted, then closed; the session goes on.
                await EngineIoSession.RejectProbeAsync(accepted);
                return;
            }
            await session.RunProbeAsync(accepted);
        }
        finally
        {
            accepted.Finish();
        }
    }

    /// <summary>
    /// Not async itself: a WebSocket runs after the handshake's own frame has ended (unwrapped, not awaited in it), so
    /// neither that frame nor the request it held (the context, its features) stays alive as long as the WebSocket.
    /// </summary>
    private Task HandshakeAsync(HttpContext context, EngineIoRequest request, Dictionary<string, Microsoft.Extensions.Primitives.StringValues>? query)
        => OpenAsync(context, request, query).Unwrap();

    /// <summary>The handshake: answered here; the task returned runs a new WebSocket session (a polling one has had its first GET).</summary>
    private async Task<Task> OpenAsync(HttpContext context, EngineIoRequest request, Dictionary<string, Microsoft.Extensions.Primitives.StringValues>? query)
    {
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            await WriteErrorAsync(context, EngineIoError.BadHandshakeMethod, Context("method", context.Request.Method));
            return Task.CompletedTask;
        }
        if (request.Protocol == 0)
        {
            await WriteErrorAsync(context, EngineIoError.UnsupportedProtocolVersion,
                Context("protocol", query is not null && query.TryGetValue("EIO", out var eio) ? eio.ToString() : null));
            return Task.CompletedTask;
        }
        if (request.Transport == TransportKind.WebSocket && !request.IsWebSocketRequest)
        {
            await WriteNotWebSocketAsync(context);
            return Task.CompletedTask;
        }
        if (Options.AllowRequest is { } allowRequest)
        {
            AllowRequestResult? decision;
            try
            {
                decision = await allowRequest(context);
            }
            catch (Exception ex)
            {
                ListenerFailed(ex, "allowRequest");
                decision = null;
            }
            if (decision is not { Success: true })
            {
                Metrics.Refused("allowRequest");
                await WriteErrorAsync(context, EngineIoError.Forbidden, Context("message", decision?.Message), decision?.Message);
                return Task.CompletedTask;
            }
            if (context.RequestAborted.IsCancellationRequested)
            {
                return Task.CompletedTask;
            }
        }
        if (request.Protocol == 3 && !Options.AllowEIO3)
        {
            // After allowRequest, as Node: socket.io-client 1.x/2.x only where EngineIo:AllowEIO3 lets them in.
            await WriteErrorAsync(context, EngineIoError.UnsupportedProtocolVersion, Context("protocol", 3));
            return Task.CompletedTask;
        }
        if (Volatile.Read(ref _shuttingDown))
        {
            // No new session on a server that is closing its sessions. Drop the connection, as a server that has
            // stopped listening would: every client retries that (some give up on an HTTP error), and the retry
            // reaches the next server.
            context.Abort();
            return Task.CompletedTask;
        }
        if (!TakeHandshakePermit(context))
        {
            Metrics.Refused("handshake rate");
            await WriteErrorAsync(context, EngineIoError.Forbidden, Context("name", "HANDSHAKE_RATE"));
            return Task.CompletedTask;
        }
        if (_sessions.Count >= Options.MaxSessions)
        {
            Metrics.Refused("max sessions");
            await WriteErrorAsync(context, EngineIoError.Forbidden, Context("name", "MAX_SESSIONS"));
            return Task.CompletedTask;
        }
        string id = SessionId.New();
        bool supportsBinary = request.Protocol >= 4 || (!request.Base64 && !request.IsJsonp);
        if ((request.Protocol == 3 && Options.CookieV3) || (request.Protocol == 4 && Options.CookieV4))
        {
            context.Response.Headers.Append("Set-Cookie", $"io={id}; Path=/; HttpOnly; SameSite=Strict");
        }
        var handshake = HandshakeInfo.From(context, query, Time);
        WebSocketConnection? ws = null;
        if (request.Transport == TransportKind.WebSocket)
        {
            // Accepted before the session exists: an upgrade Kestrel refuses leaves nothing behind.
            ws = await TryAcceptWebSocketAsync(context, request.Protocol, initial: true);
            if (ws is null)
            {
                await WriteErrorAsync(context, EngineIoError.Forbidden, Context("name", "UPGRADE_LIMIT"));
                return Task.CompletedTask;
            }
        }
        var session = new EngineIoSession(this, id, request.Protocol, request.Transport, supportsBinary, handshake);
        bool upgradable = request.Transport == TransportKind.Polling && Options.AllowUpgrades && Options.Transports.Contains("websocket");
        session.Send(EngineIoPacket.Create(EngineIoPacketType.Open, OpenPacketJson(id, upgradable, request.Protocol)));
        _sessions[id] = session;
        Metrics.SessionOpened();
        LogOpened(id, request.Protocol, request.Transport);
        if (Engine.ObservesConnections)
        {
            Engine.RaiseConnection(session.Connection);
        }
        try
        {
            _handler.OnConnect(session);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(ex, id);
        }
        session.StartHeartbeat();
        if (ws is not null)
        {
            // Nothing reads the request from here: a connection-level upgrade lets its context go for the WebSocket's life.
            (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>() as IReleasableRequest)?.Release();
            return session.RunWebSocketAsync(ws);
        }
        await session.HandlePollGetAsync(context, request);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Accepts the WebSocket, or null when Kestrel refuses the upgrade (Kestrel:Limits:MaxConcurrentUpgradedConnections
    /// reached): the client gets 403 code 4 instead of an exception and a 500. The handshake is answered here, and
    /// the WebSocket runs on the upgraded connection's own pipes (HTTP/1.1) or stream (HTTP/2) with our framing.
    /// permessage-deflate is agreed when EngineIo:PerMessageDeflate is on and the client offers it.
    /// </summary>
    /// <param name="context">The handshake request.</param>
    /// <param name="protocol">The Engine.IO protocol of the session.</param>
    /// <param name="initial">
    /// For an Engine.IO request: whether it opens a session (initial_headers and headers are raised on the 101) or
    /// upgrades one (headers); null for a WebSocket that is not Engine.IO's.
    /// </param>
    internal async Task<WebSocketConnection?> TryAcceptWebSocketAsync(HttpContext context, int protocol, bool? initial = null)
    {
        var headers = context.Response.Headers;
        if (initial is { } opens)
        {
            Engine.RaiseHeaders(context, opens);
        }
        DeflateParameters? deflate = null;
        if (Options.PerMessageDeflate)
        {
            deflate = PerMessageDeflate.Negotiate(context.Request.Headers.SecWebSocketExtensions, Options);
            if (deflate is not null)
            {
                headers.SecWebSocketExtensions = deflate.ResponseHeader;
            }
        }
        // WebSocket over HTTP/2 (RFC 8441, extended CONNECT): what browsers use on an HTTPS endpoint that speaks h2.
        var connect = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpExtendedConnectFeature>();
        if (connect is { IsExtendedConnect: true } && string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase))
        {
            var stream = await connect.AcceptAsync();
            DisableRequestTimeout(context);
            return new WebSocketConnection(stream, protocol, Options.MaxHttpBufferSize, Deflater(deflate), Options.CloseTimeout, Metrics, context.Abort);
        }
        var upgrade = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>();
        if (upgrade is null || !upgrade.IsUpgradableRequest)
        {
            Metrics.Refused("upgrade limit");
            return null;
        }
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
        headers.SecWebSocketAccept = WebSocketAcceptKey(context.Request.Headers.SecWebSocketKey.ToString());
        Stream upgraded;
        try
        {
            upgraded = await upgrade.UpgradeAsync();
        }
        catch (InvalidOperationException) when (!context.Response.HasStarted)
        {
            headers.Remove("Connection");
            headers.Remove("Upgrade");
            headers.Remove("Sec-WebSocket-Accept");
            headers.Remove("Sec-WebSocket-Extensions");
            Metrics.Refused("upgrade limit");
            return null;
        }
        DisableRequestTimeout(context);
        return new WebSocketConnection(upgraded, protocol, Options.MaxHttpBufferSize, Deflater(deflate), Options.CloseTimeout, Metrics,
            upgraded is UpgradedTransport transport ? transport.Abort : context.Abort);
    }

    private PerMessageDeflate? Deflater(DeflateParameters? parameters) =>
        parameters is null ? null : new PerMessageDeflate(parameters, Options.PerMessageDeflateThreshold);

    private static void DisableRequestTimeout(HttpContext context) =>
        context.Features.Get<Microsoft.AspNetCore.Http.Timeouts.IHttpRequestTimeoutFeature>()?.DisableTimeout();

    /// <summary>Sec-WebSocket-Accept for a client's key (RFC 6455 §4.2.2).</summary>
    internal static string WebSocketAcceptKey(string key)
    {
        Span<byte> hash = stackalloc byte[20];
        System.Security.Cryptography.SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"), hash);
        return Convert.ToBase64String(hash);
    }

    /// <summary>
    /// A <c>transport=websocket</c> request that is no WebSocket handshake ASP.NET accepts: a handshake of another
    /// version (or none) gets 426 with <c>Sec-WebSocket-Version: 13</c> (RFC 6455 §4.4), anything else 400 code 3.
    /// </summary>
    private Task WriteNotWebSocketAsync(HttpContext context)
    {
        var request = context.Request.Headers;
        bool upgradeToWebSocket = request.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase);
        if (upgradeToWebSocket && request.SecWebSocketVersion.ToString() != "13" && !context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            context.Response.Headers.SecWebSocketVersion = "13";
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync($"{{\"code\":{(int)EngineIoError.BadRequest},\"message\":\"{ErrorMessages[(int)EngineIoError.BadRequest]}\"}}");
        }
        return WriteErrorAsync(context, EngineIoError.BadRequest, Context("name", "TRANSPORT_HANDSHAKE_ERROR"));
    }

    private bool TakeHandshakePermit(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (_handshakeLimiter is null || address is null || (Options.HandshakeRateExemptLoopback && System.Net.IPAddress.IsLoopback(address)))
        {
            return true;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        using var lease = _handshakeLimiter.AttemptAcquire(address);
        return lease.IsAcquired;
    }

    public void Dispose()
    {
        _handshakeLimiter?.Dispose();
        Timers.Dispose();
    }

    private string OpenPacketJson(string sid, bool upgradable, int protocol)
    {
        var sb = new StringBuilder(128);
        sb.Append("{\"sid\":\"").Append(sid).Append("\",\"upgrades\":").Append(upgradable ? "[\"websocket\"]" : "[]")
          .Append(",\"pingInterval\":").Append((long)Options.PingInterval.TotalMilliseconds)
          .Append(",\"pingTimeout\":").Append((long)Options.PingTimeout.TotalMilliseconds);
        if (protocol >= 4)
        {
            sb.Append(",\"maxPayload\":").Append(Options.MaxHttpBufferSize);
        }
        return sb.Append('}').ToString();
    }

    // ---- calls from sessions ----

    internal void DispatchMessage(EngineIoSession session, EngineIoPacket packet)
    {
        Metrics.PacketIn();
        try
        {
            if (packet.IsBinary)
            {
                _handler.OnBinary(session, packet.Binary);
            }
            else if (packet.HoldsUtf8)
            {
                _handler.OnMessageUtf8(session, packet.TextUtf8);
            }
            else
            {
                _handler.OnMessage(session, packet.Text!);
            }
        }
        catch (Exception ex)
        {
            LogHandlerFailed(ex, session.Id);
        }
    }

    /// <summary>The session began to close (or closed at once): the layer above lets its sockets go.</summary>
    internal void OnSessionClosed(EngineIoSession session, CloseReason reason)
    {
        Metrics.SessionClosed(reason);
        LogClosed(session.Id, reason);
        try
        {
            _handler.OnDisconnect(session, reason);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(ex, session.Id);
        }
    }

    /// <summary>The session is closed for good (its transport too): the connection's "close" event.</summary>
    internal void OnSessionEnded(EngineIoSession session, CloseReason reason) =>
        session.ObservedConnection?.RaiseClose(reason.ToWire());

    internal void OnProtocolError(EngineIoSession session, string what)
    {
        Metrics.ProtocolError(what);
        LogProtocolError(session.Id, what);
    }

    internal void OnUpgraded(EngineIoSession session)
    {
        LogUpgraded(session.Id);
        session.ObservedConnection?.RaiseUpgrade("websocket");
    }

    /// <summary>A listener of the public events, or the allowRequest hook, threw: logged, and the engine goes on.</summary>
    internal void ListenerFailed(Exception ex, string eventName) => LogListenerFailed(ex, eventName);

    /// <summary>True (once) when a GET for this sid may still get the noop of a session its client closed.</summary>
    internal bool TryTakeClientClose(string sid, int protocol) =>
        _closedByClient.TryRemove(sid, out var closed) && Time.GetTimestamp() < closed.Expires && closed.Protocol == protocol;

    internal void RememberClientClose(EngineIoSession session)
    {
        long now = Time.GetTimestamp();
        if (_closedByClient.Count >= MaxClosedByClient)
        {
            foreach (var (sid, entry) in _closedByClient)
            {
                if (entry.Expires <= now)
                {
                    _closedByClient.TryRemove(sid, out _);
                }
            }
            if (_closedByClient.Count >= MaxClosedByClient)
            {
                return;
            }
        }
        _closedByClient[session.Id] = (now + (long)(ClientCloseGrace.TotalSeconds * Time.TimestampFrequency), session.Protocol);
    }

    private bool _shuttingDown;

    internal void Remove(EngineIoSession session) => _sessions.TryRemove(new KeyValuePair<string, EngineIoSession>(session.Id, session));

    /// <summary>Closes every session with a close packet and waits (bounded) until they are gone.</summary>
    public async Task ShutdownAsync(TimeSpan timeout)
    {
        Interlocked.Exchange(ref _shuttingDown, true);
        foreach (var session in _sessions.Values)
        {
            session.BeginClose(CloseReason.ServerShuttingDown);
        }
        // The wall clock bounds shutdown: a TimeProvider that does not move (a test's fake clock) must not hang it.
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        while (!_sessions.IsEmpty && elapsed.Elapsed < timeout)
        {
            await Task.Delay(20, CancellationToken.None);
        }
        foreach (var session in _sessions.Values)
        {
            session.Abort(CloseReason.ServerShuttingDown);
        }
    }

    // ---- responses ----

    private static readonly string[] ErrorMessages =
    [
        "Transport unknown",
        "Session ID unknown",
        "Bad handshake method",
        "Bad request",
        "Forbidden",
        "Unsupported protocol version",
    ];

    /// <summary>Strings escaped about as JSON.stringify escapes them (quotes and control characters, not every non-ASCII).</summary>
    private static readonly System.Text.Json.JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly IReadOnlyDictionary<string, object?> NoContext = new Dictionary<string, object?>();

    /// <summary>The context of a connection_error, as pairs of name and value.</summary>
    private static IReadOnlyDictionary<string, object?> Context(params object?[] pairs)
    {
        var context = new Dictionary<string, object?>(pairs.Length / 2, StringComparer.Ordinal);
        for (int i = 0; i + 1 < pairs.Length; i += 2)
        {
            context[(string)pairs[i]!] = pairs[i + 1];
        }
        return context;
    }

    /// <summary>
    /// The error response: 403 for Forbidden, 400 otherwise, <c>{"code":…,"message":…}</c> with the code's message
    /// or <paramref name="message"/> (an allowRequest refusal's own); connection_error is raised first, as Node does.
    /// </summary>
    internal Task WriteErrorAsync(HttpContext context, EngineIoError error, IReadOnlyDictionary<string, object?>? errorContext = null, string? message = null)
    {
        if (Engine.ObservesErrors)
        {
            Engine.RaiseConnectionError(new EngineConnectionError(context.Request, (int)error, ErrorMessages[(int)error], errorContext ?? NoContext));
        }
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }
        context.Response.StatusCode = error == EngineIoError.Forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest;
        context.Response.ContentType = "application/json";
        string body = message is null
            ? $"{{\"code\":{(int)error},\"message\":\"{ErrorMessages[(int)error]}\"}}"
            : $"{{\"code\":{(int)error},\"message\":{System.Text.Json.JsonSerializer.Serialize(message, RelaxedJson)}}}";
        return context.Response.WriteAsync(body);
    }

    internal Task WriteStatusAsync(HttpContext context, int status)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.StatusCode = status;
        }
        return Task.CompletedTask;
    }

    private static readonly byte[] OkBody = "ok"u8.ToArray();

    internal Task WriteOkAsync(HttpContext context)
    {
        Engine.RaiseHeaders(context, initial: false);
        context.Response.ContentType = "text/html";
        context.Response.ContentLength = 2;
        return context.Response.Body.WriteAsync(OkBody).AsTask();
    }

    internal Task WritePayloadAsync(HttpContext context, EngineIoRequest request, EngineIoSession session, List<EngineIoPacket> packets) =>
        WritePayloadAsync(context, request, session.Protocol, session.SupportsBinary, packets);

    private Task WritePayloadAsync(HttpContext context, EngineIoRequest request, int protocol, bool supportsBinary, List<EngineIoPacket> packets)
    {
        Metrics.PacketsOut(packets.Count);
        if (request.IsJsonp)
        {
            var script = PollingPayload.EncodeJsonp(PollingPayload.EncodeV3Text(packets), request.JsonpIndex!);
            return WriteBodyAsync(context, request, AnyCompressed(packets), "text/javascript; charset=UTF-8", Encoding.UTF8.GetBytes(script));
        }
        switch (PollingPayload.ChooseEncoding(protocol, supportsBinary, packets))
        {
            case PollingPayload.Encoding3Or4.V4:
                return WriteBodyAsync(context, request, AnyCompressed(packets), "text/plain; charset=UTF-8", Encoding.UTF8.GetBytes(PollingPayload.EncodeV4(packets)));
            case PollingPayload.Encoding3Or4.V3Text:
                return WriteBodyAsync(context, request, AnyCompressed(packets), "text/plain; charset=UTF-8", Encoding.UTF8.GetBytes(PollingPayload.EncodeV3Text(packets)));
            default:
                var buffer = new ArrayBufferWriter<byte>();
                PollingPayload.EncodeV3Binary(packets, buffer);
                return WriteBodyAsync(context, request, AnyCompressed(packets), "application/octet-stream", buffer.WrittenMemory);
        }
    }

    /// <summary>As engine.io: a poll's response may be compressed unless every packet in it was emitted with compress(false).</summary>
    private static bool AnyCompressed(List<EngineIoPacket> packets)
    {
        foreach (var packet in packets)
        {
            if (packet.Compress)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// A poll's response: compressed as engine.io's httpCompression does (at least the threshold, and a coding the
    /// request accepts), with the length of what is sent.
    /// </summary>
    private Task WriteBodyAsync(HttpContext context, EngineIoRequest request, bool compress, string contentType, ReadOnlyMemory<byte> body)
    {
        var response = context.Response;
        Engine.RaiseHeaders(context, initial: request.Sid is null);
        response.ContentType = contentType;
        var compression = Options.HttpCompression;
        if (compress && compression.Enabled && body.Length >= compression.Threshold)
        {
            var coding = HttpCompression.Choose(context.Request.Headers.AcceptEncoding.ToString());
            if (coding != ContentCoding.Identity)
            {
                body = HttpCompression.Compress(body.Span, coding);
                response.Headers.ContentEncoding = HttpCompression.Name(coding);
            }
        }
        response.ContentLength = body.Length;
        Metrics.BytesOut(body.Length);
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "session {Sid} opened (EIO {Protocol}, {Transport})")]
    private partial void LogOpened(string sid, int protocol, TransportKind transport);

    [LoggerMessage(Level = LogLevel.Debug, Message = "session {Sid} closed: {Reason}")]
    private partial void LogClosed(string sid, CloseReason reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "session {Sid} upgraded to websocket")]
    private partial void LogUpgraded(string sid);

    [LoggerMessage(Level = LogLevel.Information, Message = "session {Sid} protocol error: {What}")]
    private partial void LogProtocolError(string sid, string what);

    [LoggerMessage(Level = LogLevel.Error, Message = "a listener of the engine's {Event} event failed")]
    private partial void LogListenerFailed(Exception ex, string @event);

    [LoggerMessage(Level = LogLevel.Error, Message = "handler failed for session {Sid}")]
    private partial void LogHandlerFailed(Exception ex, string sid);
}
