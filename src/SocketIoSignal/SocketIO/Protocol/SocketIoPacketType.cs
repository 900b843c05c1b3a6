namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>Socket.IO packet types. Type 4 is ERROR in protocol 4 and CONNECT_ERROR in protocol 5.</summary>
internal enum SocketIoPacketType : byte
{
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}
