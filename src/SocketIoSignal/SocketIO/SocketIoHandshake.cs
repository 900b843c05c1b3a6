using System.Text.Json.Nodes;
using SocketIoSignal.EngineIO;

namespace SocketIoSignal.SocketIO;

/// <summary>What the server knew of a socket's client when it connected to its namespace.</summary>
public sealed class SocketIoHandshake
{
    internal SocketIoHandshake()
    {
    }

    internal HandshakeInfo Engine { get; init; } = null!;

    /// <summary>The connection's query, merged with a protocol 4 namespace query.</summary>
    public IReadOnlyDictionary<string, string> Query { get; internal init; } = null!;

    /// <summary>
    /// The CONNECT's payload, as Node gives it: protocol 5's object ({} when it carried none); for protocol 4 clients
    /// (socket.io-client 1.x/2.x), the namespace's query as an object (<c>{"test":"123"}</c> for
    /// <c>/nsp?test=123</c>; {} without one).
    /// </summary>
    public JsonObject? Auth
    {
        // {} is made when first asked for: most connections carry none, and every socket keeps its handshake.
        get => LazyInitializer.EnsureInitialized(ref _auth, static () => []);
        internal init => _auth = value;
    }

    private JsonObject? _auth;

    /// <summary>The request headers of the Engine.IO handshake (names case-insensitive).</summary>
    public IReadOnlyDictionary<string, string> Headers => Engine.Headers;

    /// <summary>The client's address as Kestrel saw it (behind a proxy: use forwarded headers middleware).</summary>
    public System.Net.IPAddress? Address => Engine.RemoteAddress;

    /// <summary>When the Engine.IO session opened (Node's <c>time</c>).</summary>
    public DateTimeOffset Time => Engine.Time;

    /// <summary>Path and query of the handshake request.</summary>
    public string Url => Engine.Url;

    /// <summary>When the Engine.IO session opened, in milliseconds since the Unix epoch (Node's <c>issued</c>).</summary>
    public long Issued => Engine.Time.ToUnixTimeMilliseconds();

    /// <summary>Whether the handshake request was cross-origin: it carried an <c>Origin</c> header (Node's <c>xdomain</c>).</summary>
    public bool Xdomain => Engine.Headers.ContainsKey("origin");

    /// <summary>Whether the handshake came over HTTPS.</summary>
    public bool Secure => Engine.Secure;

    /// <summary>
    /// <c>HttpContext.User</c> of the handshake request: who ASP.NET authentication says the client is (an
    /// anonymous principal when no authentication ran). A namespace middleware can refuse on it.
    /// </summary>
    public System.Security.Claims.ClaimsPrincipal User => Engine.User;
}
