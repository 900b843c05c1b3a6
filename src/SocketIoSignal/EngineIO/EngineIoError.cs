namespace SocketIoSignal.EngineIO;

/// <summary>Engine.IO error codes and their messages, as the reference sends them.</summary>
internal enum EngineIoError
{
    TransportUnknown = 0,
    UnknownSid = 1,
    BadHandshakeMethod = 2,
    BadRequest = 3,
    Forbidden = 4,
    UnsupportedProtocolVersion = 5,
}
