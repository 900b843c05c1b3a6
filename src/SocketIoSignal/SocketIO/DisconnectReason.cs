using SocketIoSignal.EngineIO;

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

/// <summary>socket.io's strings for <see cref="DisconnectReason"/>.</summary>
public static class DisconnectReasons
{
    /// <summary>The reason as socket.io writes it, e.g. <c>"transport close"</c>.</summary>
    /// <param name="reason">The reason.</param>
    public static string ToWire(this DisconnectReason reason) => reason switch
    {
        DisconnectReason.TransportClose => CloseReason.TransportClose.ToWire(),
        DisconnectReason.TransportError => CloseReason.TransportError.ToWire(),
        DisconnectReason.PingTimeout => CloseReason.PingTimeout.ToWire(),
        DisconnectReason.ParseError => CloseReason.ParseError.ToWire(),
        DisconnectReason.ForcedClose => CloseReason.ForcedClose.ToWire(),
        DisconnectReason.ServerShuttingDown => CloseReason.ServerShuttingDown.ToWire(),
        DisconnectReason.ServerNamespaceDisconnect => "server namespace disconnect",
        _ => "client namespace disconnect",
    };

    internal static DisconnectReason FromEngine(CloseReason reason) => reason switch
    {
        CloseReason.TransportClose => DisconnectReason.TransportClose,
        CloseReason.PingTimeout => DisconnectReason.PingTimeout,
        CloseReason.ParseError => DisconnectReason.ParseError,
        CloseReason.ForcedClose => DisconnectReason.ForcedClose,
        CloseReason.ServerShuttingDown => DisconnectReason.ServerShuttingDown,
        _ => DisconnectReason.TransportError,
    };
}
