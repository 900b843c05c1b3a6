using SocketIoSignal.EngineIO;

namespace SocketIoSignal.SocketIO;

/// <summary>Why a socket left its namespace; <see cref="DisconnectReasons.ToWire"/> gives socket.io's string.</summary>
public enum DisconnectReason
{
    TransportClose,
    TransportError,
    PingTimeout,
    ParseError,
    ForcedClose,
    ServerShuttingDown,
    ServerNamespaceDisconnect,
    ClientNamespaceDisconnect,
}

public static class DisconnectReasons
{
    public static string ToWire(this DisconnectReason reason) => reason switch
    {
        DisconnectReason.TransportClose => "transport close",
        DisconnectReason.TransportError => "transport error",
        DisconnectReason.PingTimeout => "ping timeout",
        DisconnectReason.ParseError => "parse error",
        DisconnectReason.ForcedClose => "forced close",
        DisconnectReason.ServerShuttingDown => "server shutting down",
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
