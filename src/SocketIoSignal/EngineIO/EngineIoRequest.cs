using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// An Engine.IO request's query parsed once into a value: protocol version, transport, sid, b64 and JSONP index.
/// A query key given more than once makes its value invalid (the reference reads it as an array).
/// </summary>
internal readonly record struct EngineIoRequest(
    int Protocol,
    TransportKind Transport,
    string? Sid,
    bool Base64,
    string? JsonpIndex,
    bool JsonpInvalid,
    bool IsWebSocketRequest)
{
    public bool IsJsonp => JsonpIndex is not null;

    public static EngineIoRequest Parse(HttpContext context) => Parse(context, out _);

    /// <summary>
    /// Parses the query string itself rather than through <c>Request.Query</c>, whose parsed copy the request would
    /// keep for as long as it lives (for a WebSocket, the whole connection); <paramref name="query"/> is the result.
    /// </summary>
    internal static EngineIoRequest Parse(HttpContext context, out Dictionary<string, StringValues>? query)
    {
        query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseNullableQuery(context.Request.QueryString.Value);
        return Parse(context, query);
    }

    private static EngineIoRequest Parse(HttpContext context, Dictionary<string, StringValues>? parsed)
    {
        var query = new Query(parsed);
        int protocol = Single(query["EIO"]) switch
        {
            "3" => 3,
            "4" => 4,
            _ => 0,
        };
        var transport = Single(query["transport"]) switch
        {
            "polling" => TransportKind.Polling,
            "websocket" => TransportKind.WebSocket,
            _ => TransportKind.Unknown,
        };
        var sidValues = query["sid"];
        string? sid = sidValues.Count switch
        {
            0 => null,
            1 => sidValues[0],
            _ => "",
        };
        var b64 = Single(query["b64"]);
        bool base64 = b64 is not null && b64 != "0" && b64 != "false";
        string? j = null;
        bool jInvalid = false;
        var jValues = query["j"];
        if (jValues.Count > 0)
        {
            j = Single(jValues);
            jInvalid = j is null || j.Length == 0 || j.Length > 9 || !j.All(char.IsAsciiDigit);
        }
        return new EngineIoRequest(protocol, transport, sid, base64, j, jInvalid, context.WebSockets.IsWebSocketRequest);
    }

    private static string? Single(StringValues values) => values.Count == 1 ? values[0] : null;

    /// <summary>Lookups in a parsed query that may be null (no query string): a missing key is no value.</summary>
    private readonly struct Query(Dictionary<string, StringValues>? parsed)
    {
        public StringValues this[string key] => parsed is not null && parsed.TryGetValue(key, out var v) ? v : StringValues.Empty;
    }
}
