using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO.Recovery;

/// <summary>The CONNECT side of connection state recovery: reading <c>pid</c>/<c>offset</c>, answering with the pid.</summary>
internal static class Restoring
{
    /// <summary>
    /// The session a protocol 5 CONNECT asks for (<c>{"pid":…,"offset":…}</c> in its auth, both strings, as Node
    /// requires), when the store can recover it; null for a fresh session.
    /// </summary>
    public static ValueTask<RestoredSession?> TakeAsync(SessionStore store, JsonObject? auth)
    {
        if (auth is null || !TryString(auth, "pid", out var pid) || !TryString(auth, "offset", out var offset))
        {
            return ValueTask.FromResult<RestoredSession?>(null);
        }
        return store.TryRestoreAsync(pid, offset);
    }

    private static bool TryString(JsonObject auth, string key, out string value)
    {
        value = "";
        if (auth.TryGetPropertyValue(key, out var node) && node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            value = v.GetValue<string>();
            return true;
        }
        return false;
    }

    /// <summary>
    /// Connects a socket of a namespace with recovery on: the CONNECT carries <c>{"sid":…,"pid":…}</c>; a recovered
    /// socket gets back its rooms and the events it missed first, as Node sends them.
    /// </summary>
    public static void Connect(SocketIoClient client, SocketIoNamespace nsp, SocketIoSocket socket, RestoredSession? restored)
    {
        var connect = EncodeConnect(nsp.Name, socket.Id, socket.Pid!);
        client.Server.Metrics.SocketConnected();
        if (restored is null)
        {
            client.Send(connect);
            nsp.AddSocket(socket);
            return;
        }
        nsp.Recovery!.Resume(socket, restored, () => nsp.Register(socket, [.. restored.Session.Rooms]), connect);
        nsp.Announce(socket);
    }

    /// <summary>Node's CONNECT with recovery on: <c>40{"sid":"…","pid":"…"}</c> (both ids are base64url, nothing to escape).</summary>
    private static EncodedPacket EncodeConnect(string nsp, string sid, string pid) =>
        new(SocketIoEncoder.Header(SocketIoPacketType.Connect, nsp, null, 0) + $"{{\"sid\":\"{sid}\",\"pid\":\"{pid}\"}}", []);
}
