using System.Text;
using System.Text.Json.Nodes;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.NodeSuite.Support;

/// <summary>
/// The Node suite's eioHandshake / eioPush / eioPoll (test/support/util.ts): Engine.IO 4 long-polling by hand, for the
/// cases that send what no client would.
/// </summary>
public sealed class RawPolling(SuiteServer server) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TaskTimeouts.Default };

    private string Url(string? sid) => $"{server.Url}/socket.io/?EIO=4&transport=polling" + (sid is null ? "" : "&sid=" + sid);

    /// <summary>An Engine.IO handshake: the session id.</summary>
    public async Task<string> HandshakeAsync()
    {
        var body = await _http.GetStringAsync(Url(null)).Within();
        if (!body.StartsWith('0'))
        {
            throw new InvalidOperationException("not an open packet: " + body);
        }
        return JsonNode.Parse(body[1..])!["sid"]!.GetValue<string>();
    }

    /// <summary>POSTs a payload (packets separated by \x1e).</summary>
    public async Task PushAsync(string sid, string body)
    {
        using var response = await _http.PostAsync(Url(sid), new StringContent(body, Encoding.UTF8, "text/plain")).Within();
        response.EnsureSuccessStatusCode();
    }

    /// <summary>One long-poll GET: the payload it brings.</summary>
    public Task<string> PollAsync(string sid) => _http.GetStringAsync(Url(sid)).Within();

    /// <summary>One long-poll GET: its status code alone (a poll of a session that is gone gets 400).</summary>
    public async Task<int> PollStatusAsync(string sid)
    {
        using var response = await _http.GetAsync(Url(sid)).Within();
        return (int)response.StatusCode;
    }

    public void Dispose() => _http.Dispose();
}
