using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;

namespace SocketIoSignal.AdminUi;

/// <summary>What the UI gets for a socket (<c>SerializedSocket</c> of <c>@socket.io/admin-ui</c>), and its timestamps.</summary>
internal static class AdminSerializer
{
    /// <summary>Headers whose values are credentials of the user, not something to show an operator.</summary>
    private static readonly HashSet<string> HiddenHeaders = new(StringComparer.OrdinalIgnoreCase) { "cookie", "authorization", "proxy-authorization" };

    internal const string Hidden = "(hidden)";

    /// <summary>A moment as JavaScript's JSON.stringify(new Date()) writes it: 2024-05-01T10:00:00.000Z.</summary>
    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string TransportName(SocketIoSocket socket) => TransportName(socket.Client.Session.Transport);

    public static string TransportName(TransportKind transport) => transport == TransportKind.WebSocket ? "websocket" : "polling";

    /// <summary>
    /// id, clientId (the first 12 characters of the Engine.IO session id), transport, nsp, data, handshake (address,
    /// headers, query, issued, secure, time, url, xdomain) and rooms, as Node's <c>serialize(socket)</c>.
    /// </summary>
    public static JsonObject Socket(SocketIoSocket socket)
    {
        var engine = socket.Handshake.Engine;
        var headers = new JsonObject();
        foreach (var (name, value) in engine.Headers)
        {
            // Node's headers are lower case.
            headers[name.ToLowerInvariant()] = HiddenHeaders.Contains(name) ? Hidden : value;
        }
        var query = new JsonObject();
        foreach (var (name, value) in socket.Handshake.Query)
        {
            query[name] = value;
        }
        var rooms = new JsonArray();
        foreach (var room in socket.Rooms)
        {
            rooms.Add(room);
        }
        string sessionId = socket.Client.Session.Id;
        return new JsonObject
        {
            ["id"] = socket.Id,
            ["clientId"] = sessionId.Length > 12 ? sessionId[..12] : sessionId,
            ["transport"] = TransportName(socket),
            ["nsp"] = socket.Namespace.Name,
            ["data"] = Data(socket.Data),
            ["handshake"] = new JsonObject
            {
                ["address"] = Address(engine),
                ["headers"] = headers,
                ["query"] = query,
                ["issued"] = engine.Time.ToUnixTimeMilliseconds(),
                ["secure"] = engine.Secure,
                ["time"] = DateString(engine.Time),
                ["url"] = engine.Url,
                ["xdomain"] = engine.Headers.ContainsKey("origin"),
            },
            ["rooms"] = rooms,
        };
    }

    /// <summary>As Node: the first of cf-connecting-ip, x-forwarded-for, then the peer's address.</summary>
    private static string? Address(HandshakeInfo engine)
    {
        if (engine.Headers.TryGetValue("cf-connecting-ip", out var cf) && cf.Length > 0)
        {
            return cf;
        }
        if (engine.Headers.TryGetValue("x-forwarded-for", out var forwarded) && forwarded.Length > 0)
        {
            return forwarded;
        }
        return engine.RemoteAddress?.ToString();
    }

    /// <summary>The application's <see cref="SocketIoSocket.Data"/> as JSON; {} when it has none or it does not serialize.</summary>
    private static JsonNode Data(object? data)
    {
        try
        {
            return data switch
            {
                null => new JsonObject(),
                JsonNode node => node.DeepClone(),
                _ => JsonSerializer.SerializeToNode(data, data.GetType()) ?? new JsonObject(),
            };
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or JsonException or ArgumentException)
        {
            return new JsonObject();
        }
    }

    /// <summary>A moment as JavaScript's Date.prototype.toString() writes it in UTC.</summary>
    private static string DateString(DateTimeOffset time) =>
        time.UtcDateTime.ToString("ddd MMM dd yyyy HH:mm:ss", CultureInfo.InvariantCulture) + " GMT+0000 (Coordinated Universal Time)";
}
