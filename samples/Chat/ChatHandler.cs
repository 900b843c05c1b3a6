using System.Text.Json.Nodes;
using SocketIoSignal.AspNetCore;
using SocketIoSignal.SocketIO;

namespace SocketIoSignal.Samples.Chat;

/// <summary>
/// One connection of the chat, made for each socket (see <c>AddConnectionHandler</c> in Program.cs), so its fields
/// are that socket's state. The events are those of the socket.io chat demo, plus rooms and a user list:
/// <list type="bullet">
/// <item>client → server: <c>add user</c> (nickname, room?), <c>new message</c> (text), <c>typing</c>,
/// <c>stop typing</c>, <c>join room</c> (room);</item>
/// <item>server → client: <c>login</c> {room, numUsers, users}, <c>new message</c> {username, message},
/// <c>user joined</c> / <c>user left</c> {username, numUsers}, <c>typing</c> / <c>stop typing</c> {username},
/// <c>user list</c> {room, numUsers, users}, <c>room list</c> [{name, numUsers}].</item>
/// </list>
/// </summary>
public sealed class ChatHandler(ChatRooms rooms) : ISocketIoConnectionHandler
{
    public const string DefaultRoom = "general";
    public const int MaxNameLength = 32;
    public const int MaxMessageLength = 1000;

    private SocketIoSocket _socket = null!;
    private string? _username;
    private string? _room;

    public Task OnConnectedAsync(SocketIoSocket socket)
    {
        _socket = socket;
        socket.On("add user", e =>
        {
            var name = Nickname(e.Arg(0));
            if (_username is not null || name is null)
            {
                return;
            }
            _username = name;
            Enter(RoomName(e.Arg(1)) ?? DefaultRoom);
        });
        socket.On("join room", e =>
        {
            if (_username is not null && RoomName(e.Arg(0)) is { } room && room != _room)
            {
                LeaveRoom();
                Enter(room);
            }
        });
        socket.On("new message", e =>
        {
            if (_room is not null && Text(e.Arg(0)) is { } text && text.Trim().Length > 0)
            {
                var message = text.Length > MaxMessageLength ? text[..MaxMessageLength] : text;
                socket.To(_room).Emit("new message", new { username = _username, message });
            }
        });
        socket.On("typing", _ =>
        {
            if (_room is not null)
            {
                socket.To(_room).Emit("typing", new { username = _username });
            }
        });
        socket.On("stop typing", _ =>
        {
            if (_room is not null)
            {
                socket.To(_room).Emit("stop typing", new { username = _username });
            }
        });
        socket.OnDisconnect(_ => LeaveRoom());
        // The login form shows the rooms there are.
        socket.Emit("room list", rooms.List());
        return Task.CompletedTask;
    }

    private void Enter(string room)
    {
        _room = room;
        _socket.Join(room);
        var state = rooms.Enter(room, _socket.Id, _username!);
        _socket.Emit("login", state);
        _socket.To(room).Emit("user joined", new { username = _username, numUsers = state.NumUsers });
        _socket.Namespace.To(room).Emit("user list", state);
        _socket.Namespace.Emit("room list", rooms.List());
    }

    private void LeaveRoom()
    {
        if (_room is not { } room)
        {
            return;
        }
        _room = null;
        _socket.Leave(room);
        var state = rooms.Leave(room, _socket.Id);
        // Whoever was typing when they left is not typing any more.
        _socket.To(room).Emit("stop typing", new { username = _username });
        _socket.To(room).Emit("user left", new { username = _username, numUsers = state.NumUsers });
        _socket.To(room).Emit("user list", state);
        _socket.Namespace.Emit("room list", rooms.List());
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>A nickname: trimmed, no control characters, at most <see cref="MaxNameLength"/> characters.</summary>
    private static string? Nickname(JsonNode? node)
    {
        var name = new string((Text(node) ?? "").Where(c => !char.IsControl(c)).ToArray()).Trim();
        return name.Length == 0 ? null : name.Length > MaxNameLength ? name[..MaxNameLength].Trim() : name;
    }

    /// <summary>A room name: lower case letters, digits, '-' and '_' (what fits in a URL's #fragment as it is).</summary>
    private static string? RoomName(JsonNode? node)
    {
        var room = new string((Text(node) ?? "").Trim().ToLowerInvariant().Where(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_').ToArray());
        return room.Length == 0 ? null : room.Length > MaxNameLength ? room[..MaxNameLength] : room;
    }
}
