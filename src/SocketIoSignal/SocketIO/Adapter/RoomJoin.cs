namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>The outcome of an atomic capacity-bounded join.</summary>
/// <param name="CountBefore">Members of the room just before the join (the joiner included if it was one).</param>
/// <param name="Joined">Whether the socket is now a member.</param>
/// <param name="WasMember">Whether it already was.</param>
internal readonly record struct RoomJoin(int CountBefore, bool Joined, bool WasMember);
