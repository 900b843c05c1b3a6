using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using SocketIoSignal.EngineIO;
using SocketIoSignal.EngineIO.WebSockets;

namespace SocketIoSignal.AspNetCore;

/// <summary>
/// A Kestrel connection middleware that takes an Engine.IO WebSocket (<c>GET {path}/?EIO=…&amp;transport=websocket</c>,
/// for a new session or, with a sid, the upgrade of a polling session; a clean HTTP/1.1 upgrade request arriving whole
/// in the connection's first read) before Kestrel's HTTP/1.1 layer does: the engine handles it as it handles every
/// request (version, transport, allowRequest, limits, the handshake events), on a request made from the parsed head,
/// and the WebSocket then runs on the connection's own pipes, with no HTTP/1.1 connection, request or headers kept
/// under it. Any other connection is handed to HTTP untouched (nothing is consumed). What it skips: the endpoint's
/// middleware and conventions (authorization, CORS policies, rate limiting, host filtering) and Kestrel's
/// upgraded-connection limit, so it is for servers that have none of them on the Socket.IO endpoint: an explicit
/// opt-in.
/// </summary>
internal sealed class WebSocketConnectionTakeover
{
    /// <summary>A request head longer than this goes to HTTP (Kestrel applies its own limits there).</summary>
    internal const int MaxHead = 8192;

    private const int MaxHeaders = 64;

    private readonly ConnectionDelegate _next;
    private readonly IServiceProvider _services;
    private readonly byte[] _prefix;
    private readonly long? _maxTaken;
    private readonly TimeSpan _firstReadTimeout;
    private EngineIoServer? _engine;

    /// <param name="next">Kestrel's HTTP handling of the connection.</param>
    /// <param name="services">The application's services (the engine is resolved on first use).</param>
    /// <param name="path">The Socket.IO path, as given to MapSocketIo.</param>
    /// <param name="maxTaken">
    /// Kestrel's <c>MaxConcurrentUpgradedConnections</c>, which does not see the connections taken here: a WebSocket
    /// is taken only while the engine holds fewer WebSockets than this (both paths counted); past it the engine
    /// refuses it as it refuses an upgrade Kestrel turns down (403, UPGRADE_LIMIT). Null: no limit.
    /// </param>
    /// <param name="firstReadTimeout">How long a new connection may stay silent (Kestrel's <c>KeepAliveTimeout</c>); default 130 s.</param>
    public WebSocketConnectionTakeover(ConnectionDelegate next, IServiceProvider services, string path, long? maxTaken = null, TimeSpan? firstReadTimeout = null)
    {
        _firstReadTimeout = firstReadTimeout ?? TimeSpan.FromSeconds(130);
        _next = next;
        _services = services;
        _prefix = Encoding.ASCII.GetBytes("GET " + path.TrimEnd('/') + "/");
        _maxTaken = maxTaken;
    }

    /// <summary>
    /// Not async itself: the first read's task is unwrapped, not awaited in a frame of its own, so nothing of that read
    /// or of the parsed head stays alive for as long as the WebSocket does.
    /// </summary>
    public Task OnConnectionAsync(ConnectionContext connection) => ReadRequestAsync(connection).Unwrap();

    /// <summary>
    /// The first read, then the request taken (the task returned runs the WebSocket), or HTTP's handling of the
    /// connection, or nothing when the connection ended before a request.
    /// </summary>
    private async Task<Task> ReadRequestAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        ReadResult first;
        try
        {
            // A connection that says nothing is closed after Kestrel's keep-alive timeout, as HTTP/1.1 would close it,
            // or at once when Kestrel stops (a browser's preconnected socket must not hold the graceful shutdown).
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed,
                connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default);
            idle.CancelAfter(_firstReadTimeout);
            first = await input.ReadAsync(idle.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // Gone before its first bytes (a reset, an abort), or silent too long: nothing to answer, as HTTP would not.
            return Task.CompletedTask;
        }
        var buffer = first.Buffer;
        Head? head = null;
        if (!first.IsCompleted && !first.IsCanceled && buffer.Length >= _prefix.Length && buffer.Length <= MaxHead)
        {
            head = Parse(buffer.IsSingleSegment ? buffer.FirstSpan : buffer.ToArray(), _prefix);
        }
        if (head is null)
        {
            // Not ours (or not whole in the first read): HTTP reads the same bytes again, at once (none examined).
            input.AdvanceTo(buffer.Start, buffer.Start);
            await _next(connection);
            return Task.CompletedTask;
        }
        input.AdvanceTo(buffer.GetPosition(head.Length));
        return Take(connection, MakeRequest(head));
    }

    private static HttpRequestFeature MakeRequest(Head head)
    {
        var requestHeaders = new HeaderDictionary();
        foreach (var (name, value) in head.Headers)
        {
            requestHeaders.Append(name, value);
        }
        return new HttpRequestFeature
        {
            Protocol = "HTTP/1.1",
            Scheme = "http",
            Method = HttpMethods.Get,
            PathBase = "",
            Path = PathString.FromUriComponent(head.Path),
            QueryString = head.Query.Value ?? "",
            RawTarget = head.Target,
            Headers = requestHeaders,
        };
    }

    /// <summary>Runs the engine's request; the WebSocket lives as long as the task returned.</summary>
    private Task Take(ConnectionContext connection, HttpRequestFeature request)
    {
        _engine ??= _services.GetRequiredService<EngineIoServer>();
        var upgrade = new Upgrade(connection, _maxTaken is not { } max || _engine.Metrics.WebSockets < max);
        var handling = _engine.HandleAsync(Context(connection, request, upgrade));
        // Upgraded: nothing is left to do after the engine's task (the WebSocket), so no frame waits on it.
        return upgrade.Upgraded ? handling : FinishAsync(connection, upgrade, handling);
    }

    /// <summary>
    /// Waits for the engine's request to end (with the WebSocket, when upgraded), keeping only the upgrade feature:
    /// the request's context and features are let go once the engine has the WebSocket. Not upgraded: writes the answer.
    /// </summary>
    private static async Task FinishAsync(ConnectionContext connection, Upgrade upgrade, Task handling)
    {
        try
        {
            await handling;
        }
        catch (Exception) when (!upgrade.Upgraded)
        {
            // As Kestrel answers a request whose handler failed before the response started.
            upgrade.Response!.StatusCode = StatusCodes.Status500InternalServerError;
            upgrade.Body!.SetLength(0);
        }
        if (!upgrade.Upgraded && !connection.ConnectionClosed.IsCancellationRequested)
        {
            // An answer other than the upgrade (an error, a refusal): written as HTTP/1.1, then the connection closes.
            var response = upgrade.Response!;
            var body = upgrade.Body!;
            var output = connection.Transport.Output;
            var text = new StringBuilder();
            text.Append("HTTP/1.1 ").Append(response.StatusCode).Append(' ').Append(ReasonPhrases.GetReasonPhrase(response.StatusCode)).Append("\r\n");
            foreach (var (name, values) in response.Headers)
            {
                if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
                    || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                foreach (var value in values)
                {
                    text.Append(name).Append(": ").Append(value).Append("\r\n");
                }
            }
            text.Append("Content-Length: ").Append(body.Length).Append("\r\nConnection: close\r\n\r\n");
            try
            {
                await output.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()));
                await output.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length));
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // The client went away before its answer: nothing more to do for it.
            }
        }
    }

    /// <summary>The request's context, made from the parsed head and the connection (outside the async frame above).</summary>
    private DefaultHttpContext Context(ConnectionContext connection, HttpRequestFeature request, Upgrade upgrade)
    {
        var body = new MemoryStream();
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(request);
        var response = new HttpResponseFeature();
        features.Set<IHttpResponseFeature>(response);
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        var local = connection.LocalEndPoint as IPEndPoint;
        var remote = connection.RemoteEndPoint as IPEndPoint;
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature
        {
            ConnectionId = connection.ConnectionId,
            LocalIpAddress = local?.Address,
            LocalPort = local?.Port ?? 0,
            RemoteIpAddress = remote?.Address,
            RemotePort = remote?.Port ?? 0,
        });
        features.Set<IHttpUpgradeFeature>(upgrade);
        features.Set<IHttpWebSocketFeature>(new WebSocketRequest(IsWebSocketHandshake(request.Headers)));
        features.Set<IHttpRequestLifetimeFeature>(new Lifetime(connection));
        features.Set<IServiceProvidersFeature>(new ServiceProvidersFeature { RequestServices = _services });
        var context = new DefaultHttpContext(features);
        upgrade.Request = request;
        upgrade.Response = response;
        upgrade.Body = body;
        upgrade.Context = context;
        return context;
    }

    /// <summary>The parsed head of a request this middleware takes.</summary>
    internal sealed record Head(int Length, string Target, string Path, QueryString Query, List<(string Name, string Value)> Headers);

    /// <summary>
    /// Header names and values that most handshakes carry, exactly as clients write them: every session keeps a copy
    /// of its handshake's headers, and these are shared instead of made again for each.
    /// </summary>
    private static readonly string[] CommonText =
    [
        "Host", "host", "Connection", "connection", "Upgrade", "upgrade", "websocket", "Sec-WebSocket-Key", "sec-websocket-key",
        "Sec-WebSocket-Version", "sec-websocket-version", "13", "Sec-WebSocket-Extensions", "sec-websocket-extensions",
        "permessage-deflate; client_max_window_bits", "permessage-deflate", "User-Agent", "user-agent", "Origin", "origin",
        "Accept-Encoding", "accept-encoding", "gzip, deflate, br, zstd", "gzip, deflate, br", "gzip, deflate", "Accept-Language",
        "accept-language", "Cache-Control", "cache-control", "no-cache", "Pragma", "pragma", "Cookie", "cookie", "Accept", "accept", "*/*",
    ];

    /// <summary>One of <see cref="CommonText"/> when the bytes are one of them (ordinal), else a new string.</summary>
    private static string Shared(ReadOnlySpan<byte> ascii)
    {
        foreach (var common in CommonText)
        {
            if (common.Length == ascii.Length && Ascii.Equals(ascii, common))
            {
                return common;
            }
        }
        return Encoding.ASCII.GetString(ascii);
    }

    /// <summary>
    /// The head when it is a whole, clean HTTP/1.1 Engine.IO WebSocket handshake under the path (a new session, or a
    /// polling session's upgrade: the engine checks the sid as on the HTTP path);
    /// null for anything else (which HTTP then handles, with its own checks and errors).
    /// </summary>
    internal static Head? Parse(ReadOnlySpan<byte> data, ReadOnlySpan<byte> prefix)
    {
        if (!data.StartsWith(prefix))
        {
            return null;
        }
        int end = data.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return null;
        }
        var lines = data[..(end + 2)];
        int lineEnd = lines.IndexOf("\r\n"u8);
        var requestLine = lines[..lineEnd];
        const int methodLength = 4; // "GET "
        int targetEnd = requestLine[methodLength..].IndexOf((byte)' ');
        if (targetEnd < 0 || !requestLine[(methodLength + targetEnd)..].SequenceEqual(" HTTP/1.1"u8))
        {
            return null;
        }
        var targetBytes = requestLine.Slice(methodLength, targetEnd);
        foreach (var b in targetBytes)
        {
            if (b is < 0x21 or > 0x7E)
            {
                return null;
            }
        }
        string target = Encoding.ASCII.GetString(targetBytes);
        int q = target.IndexOf('?');
        if (q < 0 || target.Contains('#'))
        {
            return null;
        }
        var query = QueryHelpers.ParseQuery(target[q..]);
        if (!query.TryGetValue("transport", out var transport) || transport.Count != 1 || transport[0] != "websocket"
            || !query.ContainsKey("EIO"))
        {
            return null;
        }
        var headers = new List<(string, string)>();
        bool host = false, upgrade = false, key = false;
        var rest = lines[(lineEnd + 2)..];
        while (rest.Length > 0)
        {
            int eol = rest.IndexOf("\r\n"u8);
            var line = rest[..eol];
            rest = rest[(eol + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0 || headers.Count == MaxHeaders)
            {
                return null;
            }
            foreach (var b in line[..colon])
            {
                if (!IsTokenChar(b))
                {
                    return null;
                }
            }
            var value = line[(colon + 1)..].Trim(" \t"u8);
            foreach (var b in value)
            {
                if (b is not (>= 0x20 and <= 0x7E) and not (byte)'\t')
                {
                    return null;
                }
            }
            string name = Shared(line[..colon]);
            string text = Shared(value);
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                if (host)
                {
                    return null;
                }
                host = true;
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                // A handshake has no body.
                return null;
            }
            else if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
            {
                upgrade = text.Equals("websocket", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase))
            {
                key = true;
            }
            headers.Add((name, text));
        }
        if (!host || !upgrade || !key)
        {
            return null;
        }
        return new Head(end + 4, target, target[..q], new QueryString(target[q..]), headers);
    }

    /// <summary>What ASP.NET's WebSocket middleware accepts as a handshake (the method is GET already).</summary>
    private static bool IsWebSocketHandshake(IHeaderDictionary headers)
    {
        bool connectionUpgrade = false;
        foreach (var value in headers.Connection)
        {
            foreach (var token in (value ?? "").Split(','))
            {
                connectionUpgrade |= token.Trim().Equals("Upgrade", StringComparison.OrdinalIgnoreCase);
            }
        }
        if (!connectionUpgrade || headers.Upgrade.Count != 1 || !string.Equals(headers.Upgrade[0], "websocket", StringComparison.OrdinalIgnoreCase)
            || headers.SecWebSocketVersion.Count != 1 || headers.SecWebSocketVersion[0] != "13" || headers.SecWebSocketKey.Count != 1)
        {
            return false;
        }
        Span<byte> key = stackalloc byte[16];
        return Convert.TryFromBase64String(headers.SecWebSocketKey[0]!.Trim(), key, out int written) && written == 16;
    }

    private sealed class WebSocketRequest(bool isWebSocketRequest) : IHttpWebSocketFeature
    {
        public bool IsWebSocketRequest => isWebSocketRequest;

        public Task<System.Net.WebSockets.WebSocket> AcceptAsync(WebSocketAcceptContext context) =>
            throw new NotSupportedException("the engine runs its own WebSocket on the upgraded connection");
    }

    private static bool IsTokenChar(byte b) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'!' or (byte)'#' or (byte)'$' or (byte)'%' or (byte)'&' or (byte)'\'' or (byte)'*' or (byte)'+'
            or (byte)'-' or (byte)'.' or (byte)'^' or (byte)'_' or (byte)'`' or (byte)'|' or (byte)'~';

    /// <summary>The upgrade: writes the 101 with the response's headers and hands over the connection's pipes.</summary>
    private sealed class Upgrade(ConnectionContext connection, bool belowLimit) : IHttpUpgradeFeature, IReleasableRequest
    {
        public HttpRequestFeature? Request { get; set; }

        public HttpResponseFeature? Response { get; set; }

        public MemoryStream? Body { get; set; }

        public DefaultHttpContext? Context { get; set; }

        /// <summary>After the upgrade, once the engine holds the WebSocket: nothing of the request is needed any more.</summary>
        public void Release()
        {
            if (!Upgraded)
            {
                return;
            }
            Context?.Uninitialize();
            Context = null;
            Request = null;
            Response = null;
            Body = null;
        }

        public bool Upgraded { get; private set; }

        public bool IsUpgradableRequest => !Upgraded && belowLimit;

        public async Task<Stream> UpgradeAsync()
        {
            if (Upgraded)
            {
                throw new InvalidOperationException("the connection is upgraded already");
            }
            Upgraded = true;
            var text = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\n");
            foreach (var (name, values) in Response!.Headers)
            {
                foreach (var value in values)
                {
                    text.Append(name).Append(": ").Append(value).Append("\r\n");
                }
            }
            text.Append("\r\n");
            // The session has its copy of the request (HandshakeInfo): the header maps need not live as long as the WebSocket.
            Request!.Headers = new HeaderDictionary();
            Response.Headers = new HeaderDictionary();
            await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()));
            return new UpgradedTransport(connection.Transport, connection.Abort);
        }
    }

    private sealed class Lifetime(ConnectionContext connection) : IHttpRequestLifetimeFeature
    {
        public CancellationToken RequestAborted
        {
            get => connection.ConnectionClosed;
            set { }
        }

        public void Abort() => connection.Abort();
    }
}
