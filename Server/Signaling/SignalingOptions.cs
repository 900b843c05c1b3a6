namespace SocketIoSignal.Signaling;

public enum SignalingMode
{
    /// <summary>The seed's index.js, exactly: message to every other socket, rooms of two.</summary>
    Codelab,
    /// <summary>The codelab's later step: ready carries the room and is broadcast, bye on disconnect.</summary>
    Step6,
    /// <summary>For real apps: message only within the sender's rooms, bye to the peer, capacity configurable.</summary>
    Rooms,
}

/// <summary>The signaling app's options; bound from the "Signaling" section and --mode.</summary>
public sealed class SignalingOptions
{
    public const string Section = "Signaling";

    public SignalingMode Mode { get; set; } = SignalingMode.Codelab;

    /// <summary>Members per room in rooms mode (the codelab modes use 2).</summary>
    public int RoomCapacity { get; set; } = 2;

    /// <summary>Whether <c>ipaddr</c> answers with the server's addresses; null: on in the codelab modes, off in rooms mode.</summary>
    public bool? IpAddr { get; set; }

    /// <summary>Room names longer than this (after String conversion) are refused with <c>full</c>.</summary>
    public int MaxRoomNameLength { get; set; } = 1024;

    /// <summary>
    /// Path of the plain WebSocket endpoint (each text frame one JSON array <c>["event", args…]</c>, the same events
    /// as the Socket.IO ones); empty turns it off. The page that uses it is served under <c>/plain/</c>.
    /// </summary>
    public string PlainWebSocketPath { get; set; } = "/ws";

    internal int Capacity => Mode == SignalingMode.Rooms ? RoomCapacity : 2;

    internal bool IpAddrEnabled => IpAddr ?? Mode != SignalingMode.Rooms;
}
