namespace SocketIoSignal.SocketIO;

/// <summary>Why a socket left its namespace; <see cref="DisconnectReasons.ToWire"/> gives socket.io's string.</summary>
public enum DisconnectReason
{
    /// <summary>The connection closed (the client left the page, or the network dropped it).</summary>
    TransportClose,

    /// <summary>The connection failed.</summary>
    TransportError,

    /// <summary>The client missed its heartbeat.</summary>
    PingTimeout,

    /// <summary>The client sent something the protocol does not allow.</summary>
    ParseError,

    /// <summary>The connection was closed by the server (the whole client, every namespace).</summary>
    ForcedClose,

    /// <summary>The server is stopping.</summary>
    ServerShuttingDown,

    /// <summary>The server disconnected this socket (<c>socket.Disconnect()</c>).</summary>
    ServerNamespaceDisconnect,

    /// <summary>The client disconnected this socket (<c>socket.disconnect()</c> on the client).</summary>
    ClientNamespaceDisconnect,
}
