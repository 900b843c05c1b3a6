using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>Raw Engine.IO over HTTP and WebSocket: what a client puts on the wire, nothing more.</summary>
public sealed class EngineIoRaw(Uri baseUri, string path = "/socket.io/") : IDisposable
{
    public HttpClient Http { get; } = new(new SocketsHttpHandler { UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
    {
        BaseAddress = baseUri,
        Timeout = TimeSpan.FromSeconds(30),
    };

    public string Path { get; } = path;

    public string Query(int eio, string transport, string? sid = null, string? extra = null) =>
        $"{Path}?EIO={eio}&transport={transport}" + (sid is null ? "" : $"&sid={sid}") + (extra is null ? "" : "&" + extra);

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery) => Http.GetAsync(pathAndQuery).Within(TimeSpan.FromSeconds(30));

    public async Task<(HttpStatusCode Status, string Body)> GetTextAsync(string pathAndQuery)
    {
        using var response = await GetAsync(pathAndQuery);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<(HttpStatusCode Status, string Body)> PostTextAsync(string pathAndQuery, string body, string contentType = "text/plain;charset=UTF-8")
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        using var response = await Http.PostAsync(pathAndQuery, content).Within(TimeSpan.FromSeconds(30));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Opens a polling session; returns its sid and the whole first response body.</summary>
    public async Task<(string Sid, string Body)> HandshakeAsync(int eio, string? extra = null)
    {
        var (status, body) = await GetTextAsync(Query(eio, "polling", extra: extra));
        if (status != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"handshake answered {status}: {body}");
        }
        return (SidOf(body), body);
    }

    /// <summary>The sid inside the first open packet of a payload.</summary>
    public static string SidOf(string body)
    {
        int start = body.IndexOf("0{", StringComparison.Ordinal);
        int end = body.IndexOf('}', start);
        using var doc = JsonDocument.Parse(body[(start + 1)..(end + 1)]);
        return doc.RootElement.GetProperty("sid").GetString()!;
    }

    public async Task<ClientWebSocket> ConnectWebSocketAsync(int eio, string? sid = null, string? extra = null)
    {
        var ws = new ClientWebSocket();
        var uri = new Uri(new Uri(Http.BaseAddress!.ToString().Replace("http://", "ws://")), Query(eio, "websocket", sid, extra));
        await ws.ConnectAsync(uri, CancellationToken.None).Within();
        return ws;
    }

    public void Dispose() => Http.Dispose();
}
