namespace SocketIoSignal.EngineIO.Protocol;

/// <summary>Engine.IO packet types; the wire form is the digit of the value.</summary>
internal enum EngineIoPacketType : byte
{
    Open = 0,
    Close = 1,
    Ping = 2,
    Pong = 3,
    Message = 4,
    Upgrade = 5,
    Noop = 6,
}
