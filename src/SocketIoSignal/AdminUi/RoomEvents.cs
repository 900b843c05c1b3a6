namespace SocketIoSignal.AdminUi;

/// <summary>
/// Where the observed adapters report room changes: a socket of this node joined or left a room, as Node's adapter
/// emits <c>join-room</c> and <c>leave-room</c>. Arguments: namespace, room, socket id.
/// </summary>
internal sealed class RoomEvents
{
    public event Action<string, string, string>? Joined;

    public event Action<string, string, string>? Left;

    internal void OnJoined(string nsp, string room, string id) => Joined?.Invoke(nsp, room, id);

    internal void OnLeft(string nsp, string room, string id) => Left?.Invoke(nsp, room, id);
}
