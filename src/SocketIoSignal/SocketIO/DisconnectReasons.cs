using SocketIoSignal.EngineIO;

namespace SocketIoSignal.SocketIO;

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
