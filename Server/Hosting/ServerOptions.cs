using SocketIoSignal.Signaling;

namespace SocketIoSignal.Hosting;

/// <summary>The program's own options: where to listen, what to serve. Bound from the configuration root.</summary>
public sealed class ServerOptions
{
    /// <summary>TCP port (8080, as the codelab's index.js). 0 picks a free one.</summary>
    public int Port { get; set; } = 8080;

    /// <summary>Address to listen on; empty: every interface, as node's listen(8080).</summary>
    public string Host { get; set; } = "";

    /// <summary>The folder of static files; empty: the repository's public/.</summary>
    public string Root { get; set; } = "";

    /// <summary>Which socket.io-client bundle /socket.io/socket.io.js serves: 1 (1.7.4), 2 (2.5.0) or 4 (4.8.1).</summary>
    public int Client { get; set; } = 1;

    public SignalingMode Mode { get; set; } = SignalingMode.Codelab;

    /// <summary>The protocol test suites' server: short heartbeats, any origin, an Engine.IO echo at /engine.io/.</summary>
    public bool Conformance { get; set; }

    /// <summary>
    /// Takes Engine.IO WebSocket connections (new sessions and upgrades of polling sessions) at Kestrel's connection
    /// level, before its HTTP/1.1 layer: the WebSocket then runs on the connection's own pipes, with no HTTP request
    /// state kept under it (less memory per idle connection, less CPU per message and per upgrade). The engine still
    /// checks every handshake as on the HTTP path, and Kestrel's MaxConcurrentUpgradedConnections still caps them; the
    /// endpoint's middleware is skipped, which this server has none of on /socket.io. On by default (the library's own
    /// default, for applications that may have such middleware, is off).
    /// </summary>
    public bool ConnectionLevelWebSockets { get; set; } = true;

    /// <summary>
    /// Kestrel's connection buffers in 16 KB blocks instead of its own 4 KB ones: a message of a few kilobytes and the
    /// frames it makes then take one receive and one send each way instead of two or three, for about 12 % less CPU
    /// per relayed 3 KB message; but some idle connections keep a block, and connects cost more (bench/profile.md).
    /// Off by default: Kestrel's own memory pool.
    /// </summary>
    public bool LargeTransportBlocks { get; set; }

    /// <summary>host:port of a Redis server to share rooms with other nodes; empty: in-memory rooms.</summary>
    public string Redis { get; set; } = "";
}
