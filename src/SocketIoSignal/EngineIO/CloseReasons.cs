namespace SocketIoSignal.EngineIO;

internal static class CloseReasons
{
    public static string ToWire(this CloseReason reason) => reason switch
    {
        CloseReason.TransportClose => "transport close",
        CloseReason.TransportError => "transport error",
        CloseReason.PingTimeout => "ping timeout",
        CloseReason.ParseError => "parse error",
        CloseReason.ForcedClose => "forced close",
        CloseReason.ServerShuttingDown => "server shutting down",
        CloseReason.SendBufferFull => "transport error",
        CloseReason.MessageTooBig => "transport error",
        _ => "transport error",
    };
}
