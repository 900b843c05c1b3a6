namespace SocketIoSignal.EngineIO;

/// <summary>
/// Engine.IO options. Defaults are the reference server's (socket.io 2.5 for protocol 3, 4.8 for protocol 4);
/// bound from the "EngineIo" configuration section (appsettings, environment, command line).
/// </summary>
public sealed class EngineIoOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string Section = "EngineIo";

    /// <summary>How often a heartbeat is expected (<c>pingInterval</c>, 25 s).</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>How long past the interval a heartbeat may be late before the session closes (<c>pingTimeout</c>, 20 s).</summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a WebSocket probe may take to complete the upgrade before it alone is closed (<c>upgradeTimeout</c>, 10 s).</summary>
    public TimeSpan UpgradeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest polling body or WebSocket message accepted, in bytes.</summary>
    public int MaxHttpBufferSize { get; set; } = 1_000_000;

    /// <summary>The most packets one polling payload may carry; real clients' batching stays far below.</summary>
    public int MaxPacketsPerPayload { get; set; } = 16384;

    /// <summary>The most bytes queued towards one session; a client that does not read past it is dropped.</summary>
    public int MaxQueuedBytes { get; set; } = 4_000_000;

    /// <summary>The most open sessions; further handshakes are refused with 403 code 4.</summary>
    public int MaxSessions { get; set; } = 100_000;

    /// <summary>
    /// Handshakes one client address may make per minute (a token bucket: this many at once, refilled evenly over
    /// the minute); past it handshakes are refused with 403 code 4. 0 turns the limit off.
    /// </summary>
    public int HandshakesPerIpPerMinute { get; set; } = 600;

    /// <summary>
    /// Whether loopback clients are exempt from <see cref="HandshakesPerIpPerMinute"/>: a reverse proxy on the same
    /// host presents every client as 127.0.0.1, and one budget for all of them would lock everyone out.
    /// </summary>
    public bool HandshakeRateExemptLoopback { get; set; } = true;

    /// <summary>Transports offered: "polling", "websocket".</summary>
    public string[] Transports { get; set; } = ["polling", "websocket"];

    /// <summary>Whether a polling session may upgrade to WebSocket.</summary>
    public bool AllowUpgrades { get; set; } = true;

    /// <summary>Send the <c>io</c> cookie on protocol 3 handshakes (socket.io 2.x does).</summary>
    public bool CookieV3 { get; set; } = true;

    /// <summary>Send the <c>io</c> cookie on protocol 4 handshakes (socket.io 4.x does not by default).</summary>
    public bool CookieV4 { get; set; }

    /// <summary>
    /// Origins allowed to make cross-origin requests, e.g. "https://app.example". Empty: same-origin only.
    /// "*" allows any origin without credentials.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>
    /// The request headers a cross-origin preflight allows (Node's <c>cors.allowedHeaders</c>), sent as
    /// <c>Access-Control-Allow-Headers</c>, e.g. "content-type". Empty (default): the headers the preflight asks for
    /// (<c>Access-Control-Request-Headers</c>) are allowed, as Node's cors does without the option.
    /// </summary>
    public string[] AllowedHeaders { get; set; } = [];

    /// <summary>
    /// Whether Engine.IO protocol 3 clients (socket.io-client 1.x and 2.x) may connect (Node's <c>allowEIO3</c>).
    /// Off by default, as in Node: their handshake is refused with 400 code 5 ("Unsupported protocol version").
    /// </summary>
    public bool AllowEIO3 { get; set; }

    /// <summary>
    /// How long the first frame of a WebSocket-only session waits after the 101 response. Zero (default): one trip
    /// through the thread pool, enough for the 101 to leave first. Clients that attach their message listener only
    /// once "open" has fired (the published protocol suites do) need the two in separate reads, which only a pause
    /// guarantees; the conformance host sets one.
    /// </summary>
    public TimeSpan FirstFrameDelay { get; set; }

    /// <summary>How long a WebSocket close handshake may take, and how long shutdown waits for sessions to close (2 s).</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Compression of polling responses (engine.io's <c>httpCompression</c>): on, from 1024 bytes, gzip or deflate as
    /// the request accepts. <c>EngineIo:HttpCompression:Enabled=false</c> turns it off.
    /// </summary>
    public HttpCompressionOptions HttpCompression { get; set; } = new();

    /// <summary>
    /// Decides, for every handshake (a first polling GET or a WebSocket upgrade without a session), whether it may
    /// go on (Node's <c>allowRequest(req, callback)</c>): <see cref="AllowRequestResult.Allowed"/>, or
    /// <see cref="AllowRequestResult.Refused"/> for 403 <c>{"code":4,"message":…}</c> and a connection_error.
    /// Awaited before the response starts (for a WebSocket, before the 101); a hook that throws refuses. Requests of an
    /// open session are not asked again. Null (default): every handshake may go on.
    /// </summary>
    public Func<Microsoft.AspNetCore.Http.HttpContext, ValueTask<AllowRequestResult>>? AllowRequest { get; set; }

    /// <summary>
    /// Whether WebSocket messages may be compressed (permessage-deflate, RFC 7692) with clients that offer it. Off by
    /// default, as in socket.io 2 and later: it costs CPU per message, and memory per connection with context takeover.
    /// </summary>
    public bool PerMessageDeflate { get; set; }

    /// <summary>With <see cref="PerMessageDeflate"/>: messages smaller than this many bytes are sent uncompressed (1024).</summary>
    public int PerMessageDeflateThreshold { get; set; } = 1024;

    /// <summary>
    /// With <see cref="PerMessageDeflate"/>: the server compresses each message on its own
    /// (<c>server_no_context_takeover</c>), so a connection holds no compressor between messages. On by default;
    /// off compresses better and costs a compressor (about 300 KB of native memory) per connection.
    /// </summary>
    public bool PerMessageDeflateServerNoContextTakeover { get; set; } = true;

    /// <summary>
    /// With <see cref="PerMessageDeflate"/>: asks clients to compress each message on its own
    /// (<c>client_no_context_takeover</c>), so a connection holds no decompressor between messages. On by default;
    /// off costs a decompressor (a window of 2^<see cref="PerMessageDeflateClientMaxWindowBits"/> bytes and about 7 KB) per connection.
    /// </summary>
    public bool PerMessageDeflateClientNoContextTakeover { get; set; } = true;

    /// <summary>With <see cref="PerMessageDeflate"/>: the largest window the server compresses with, in bits (9–15, 15).</summary>
    public int PerMessageDeflateServerMaxWindowBits { get; set; } = 15;

    /// <summary>
    /// With <see cref="PerMessageDeflate"/>: the largest window asked of clients that let the server choose
    /// (<c>client_max_window_bits</c>), in bits (9–15, 15).
    /// </summary>
    public int PerMessageDeflateClientMaxWindowBits { get; set; } = 15;
}
