namespace SocketIoSignal.EngineIO.Protocol;

/// <summary>Why a packet or payload could not be decoded. The offender's session is closed with "parse error".</summary>
internal enum DecodeError
{
    None = 0,
    Empty,
    UnknownType,
    BadLength,
    BadBase64,
    BadUtf8,
    TooManyPackets,
    Truncated,
}
