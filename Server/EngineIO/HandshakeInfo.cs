using System.Net;
using Microsoft.AspNetCore.Http;

namespace SocketIoSignal.EngineIO;

/// <summary>What the server knew of the client when its session opened; a copy, so it outlives the request.</summary>
public sealed class HandshakeInfo
{
    public required IReadOnlyDictionary<string, string> Headers { get; init; }
    public required IReadOnlyDictionary<string, string> Query { get; init; }
    public required IPAddress? RemoteAddress { get; init; }
    public required DateTimeOffset Time { get; init; }
    public required string Url { get; init; }
    public required bool Secure { get; init; }

    internal static HandshakeInfo From(HttpContext context, TimeProvider time)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in context.Request.Headers)
        {
            headers[key] = value.ToString();
        }
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in context.Request.Query)
        {
            query[key] = value.ToString();
        }
        return new HandshakeInfo
        {
            Headers = headers,
            Query = query,
            RemoteAddress = context.Connection.RemoteIpAddress,
            Time = time.GetUtcNow(),
            Url = context.Request.Path + context.Request.QueryString,
            Secure = context.Request.IsHttps,
        };
    }
}
