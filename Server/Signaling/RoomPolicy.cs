namespace SocketIoSignal.Signaling;

public enum RoomDecision
{
    Created,
    Joined,
    Full,
}

/// <summary>The codelab's rule: the first member creates the room, later ones join while there is space.</summary>
public static class RoomPolicy
{
    public static RoomDecision Decide(int membersBefore, int capacity) => membersBefore switch
    {
        0 when capacity > 0 => RoomDecision.Created,
        _ when membersBefore < capacity => RoomDecision.Joined,
        _ => RoomDecision.Full,
    };
}
