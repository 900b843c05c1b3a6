using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.Library;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>
/// The engine as Node's <c>io.engine</c> and <c>socket.conn</c> expose it, on a plain app (AddSocketIo / MapSocketIo)
/// over Kestrel, driven by raw HTTP and WebSocket: the async allowRequest hook on both kinds of handshake,
/// connection_error with code, message and context, initial_headers / headers, and a connection's events.
/// </summary>
[TestFixture]
public sealed class EngineHooksTests
{
    private static async Task<(LibraryHost Host, SocketIoServer Io)> StartAsync(Action<EngineIoOptions>? engine = null)
    {
        var host = await LibraryHost.StartAsync(
            builder => builder.Services.AddSocketIo().ConfigureEngineIo(o => engine?.Invoke(o)),
            app => app.MapSocketIo());
        return (host, host.App.Services.GetRequiredService<SocketIoServer>());
    }

    private static async Task<ClientWebSocket> OpenWebSocketAsync(LibraryHost host, string query, string? token = null)
    {
        var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        if (token is not null)
        {
            ws.Options.SetRequestHeader("x-token", token);
        }
        await ws.ConnectAsync(new Uri(host.Url.Replace("http://", "ws://") + "/socket.io/?" + query), CancellationToken.None).Within();
        return ws;
    }

    [Test]
    public async Task AllowRequestIsAwaitedForEveryHandshakeAndRefusesWithItsMessage()
    {
        var asked = new ConcurrentQueue<string>();
        var (host, io) = await StartAsync(o => o.AllowRequest = async context =>
        {
            // Asynchronous, as a lookup in a store would be.
            await Task.Delay(20);
            asked.Enqueue(context.Request.Query["transport"].ToString());
            return context.Request.Headers["x-token"] == "ok" ? AllowRequestResult.Allowed : AllowRequestResult.Refused("no \"token\"");
        });
        await using var _ = host;
        var errors = new ConcurrentQueue<EngineConnectionError>();
        io.Engine.OnConnectionError(errors.Enqueue);
        using var raw = new EngineIoRaw(new Uri(host.Url));

        // Polling handshake without the token: 403 with the hook's message, and a connection_error as Node raises it.
        var (status, body) = await raw.GetTextAsync(raw.Query(4, "polling"));
        Assert.That((status, body), Is.EqualTo((HttpStatusCode.Forbidden, "{\"code\":4,\"message\":\"no \\\"token\\\"\"}")));
        Assert.That(errors.Count, Is.EqualTo(1));
        errors.TryDequeue(out var error);
        Assert.That((error!.Code, error.Message, error.Context["message"]), Is.EqualTo((4, "Forbidden", (object?)"no \"token\"")));
        Assert.That(io.Engine.ClientsCount, Is.Zero);

        // With the token: the session opens, and its next requests are not asked again.
        raw.Http.DefaultRequestHeaders.Add("x-token", "ok");
        var (sid, _) = await raw.HandshakeAsync(4);
        Assert.That(await raw.PostTextAsync(raw.Query(4, "polling", sid), "40"), Is.EqualTo((HttpStatusCode.OK, "ok")));
        Assert.That((await raw.GetTextAsync(raw.Query(4, "polling", sid))).Body, Does.StartWith("40{\"sid\":"));
        Assert.That(asked, Is.EqualTo(new[] { "polling", "polling" }));

        // A WebSocket handshake is asked before its 101: refused, the client sees 403 and no session opens.
        var refused = Assert.ThrowsAsync<WebSocketException>(async () => await OpenWebSocketAsync(host, "EIO=4&transport=websocket"));
        Assert.That(refused!.Message, Does.Contain("403"));
        using var ws = await OpenWebSocketAsync(host, "EIO=4&transport=websocket", token: "ok");
        Assert.That(await ws.ReceiveTextAsync(), Does.StartWith("0{\"sid\":"));
        Assert.That(asked, Is.EqualTo(new[] { "polling", "polling", "websocket", "websocket" }));
        Assert.That(io.Engine.ClientsCount, Is.EqualTo(2));
        Assert.That(host.Logs.Errors, Is.Empty);
    }

    [Test]
    public async Task AnAllowRequestThatThrowsRefusesThatHandshakeAloneAndIsLogged()
    {
        var (host, io) = await StartAsync(o => o.AllowRequest = context =>
            context.Request.Headers.ContainsKey("x-boom") ? throw new InvalidOperationException("boom") : ValueTask.FromResult(AllowRequestResult.Allowed));
        await using var _ = host;
        using var raw = new EngineIoRaw(new Uri(host.Url));
        using (var request = new HttpRequestMessage(HttpMethod.Get, raw.Query(4, "polling")))
        {
            request.Headers.Add("x-boom", "1");
            using var response = await raw.Http.SendAsync(request).Within();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("{\"code\":4,\"message\":\"Forbidden\"}"));
        }
        Assert.That(host.Logs.Errors.Single(), Does.Contain("allowRequest"));
        var (sid, _) = await raw.HandshakeAsync(4);
        Assert.That(sid, Has.Length.EqualTo(20));
    }

    [Test]
    public async Task ConnectionErrorGivesCodeMessageAndContextForEachRefusal()
    {
        var (host, io) = await StartAsync();
        await using var _ = host;
        var errors = new ConcurrentQueue<EngineConnectionError>();
        var queries = new ConcurrentQueue<string>();
        io.Engine.OnConnectionError(e =>
        {
            // The request is the refused one, readable while the listener runs.
            queries.Enqueue(e.Request.Query["sid"].ToString());
            errors.Enqueue(e);
        });
        using var raw = new EngineIoRaw(new Uri(host.Url));

        async Task<EngineConnectionError> Refused(Func<Task<(HttpStatusCode, string)>> request, HttpStatusCode expected)
        {
            var (status, _) = await request();
            Assert.That(status, Is.EqualTo(expected));
            Assert.That(errors.TryDequeue(out var e), "connection_error raised");
            return e!;
        }

        var transport = await Refused(() => raw.GetTextAsync("/socket.io/?EIO=4&transport=carrier-pigeon"), HttpStatusCode.BadRequest);
        Assert.That((transport.Code, transport.Message, transport.Context["transport"]), Is.EqualTo((0, "Transport unknown", (object?)"carrier-pigeon")));

        var sid = await Refused(() => raw.GetTextAsync(raw.Query(4, "polling", "AAAAAAAAAAAAAAAAAAAA")), HttpStatusCode.BadRequest);
        Assert.That((sid.Code, sid.Message, sid.Context["sid"]), Is.EqualTo((1, "Session ID unknown", (object?)"AAAAAAAAAAAAAAAAAAAA")));
        Assert.That(queries.ToArray()[^1], Is.EqualTo("AAAAAAAAAAAAAAAAAAAA"));

        var method = await Refused(() => raw.PostTextAsync(raw.Query(4, "polling"), "40"), HttpStatusCode.BadRequest);
        Assert.That((method.Code, method.Message, method.Context["method"]), Is.EqualTo((2, "Bad handshake method", (object?)"POST")));

        var protocol = await Refused(() => raw.GetTextAsync("/socket.io/?EIO=5&transport=polling"), HttpStatusCode.BadRequest);
        Assert.That((protocol.Code, protocol.Message, protocol.Context["protocol"]), Is.EqualTo((5, "Unsupported protocol version", (object?)"5")));

        var origin = await Refused(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, raw.Query(4, "polling"));
            request.Headers.Add("Origin", "https://elsewhere.example");
            using var response = await raw.Http.SendAsync(request).Within();
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }, HttpStatusCode.Forbidden);
        Assert.That((origin.Code, origin.Message, origin.Context["name"], origin.Context["origin"]),
            Is.EqualTo((4, "Forbidden", (object?)"ORIGIN_NOT_ALLOWED", (object?)"https://elsewhere.example")));

        // A handshake that succeeds raises nothing.
        await raw.HandshakeAsync(4);
        Assert.That(errors, Is.Empty);
    }

    [Test]
    public async Task InitialHeadersGoOnTheHandshakeResponseAndHeadersOnEveryResponse()
    {
        var (host, io) = await StartAsync();
        await using var _ = host;
        io.Engine.OnInitialHeaders((headers, request) => headers["X-Initial"] = request.Query["transport"].ToString());
        io.Engine.OnHeaders((headers, _) => headers["X-Every"] = "1");
        using var raw = new EngineIoRaw(new Uri(host.Url));

        using (var open = await raw.GetAsync(raw.Query(4, "polling")))
        {
            Assert.That(Header(open, "X-Initial"), Is.EqualTo("polling"));
            Assert.That(Header(open, "X-Every"), Is.EqualTo("1"));
            string sid = EngineIoRaw.SidOf(await open.Content.ReadAsStringAsync());
            using var content = new StringContent("40", Encoding.UTF8);
            using var post = await raw.Http.PostAsync(raw.Query(4, "polling", sid), content).Within();
            Assert.That((Header(post, "X-Initial"), Header(post, "X-Every")), Is.EqualTo(((string?)null, "1")));
            using var poll = await raw.GetAsync(raw.Query(4, "polling", sid));
            Assert.That((Header(poll, "X-Initial"), Header(poll, "X-Every")), Is.EqualTo(((string?)null, "1")));

            // The upgrade's 101 is a response of the session: headers, not initial_headers.
            using var probe = await OpenWebSocketAsync(host, $"EIO=4&transport=websocket&sid={sid}");
            Assert.That(probe.HttpResponseHeaders!.ContainsKey("X-Initial"), Is.False);
            Assert.That(probe.HttpResponseHeaders!["X-Every"], Is.EqualTo(new[] { "1" }));
        }
        // A WebSocket handshake's 101 gets both.
        using var ws = await OpenWebSocketAsync(host, "EIO=4&transport=websocket");
        Assert.That(ws.HttpResponseHeaders!["X-Initial"], Is.EqualTo(new[] { "websocket" }));
        Assert.That(ws.HttpResponseHeaders!["X-Every"], Is.EqualTo(new[] { "1" }));
        Assert.That(host.Logs.Errors, Is.Empty);
    }

    [Test]
    public async Task AConnectionShowsItsTransportAndEventsThroughAnUpgradeAndItsClose()
    {
        var (host, io) = await StartAsync();
        await using var _ = host;
        var events = new ConcurrentQueue<string>();
        var closed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        EngineConnection? conn = null;
        io.Engine.OnConnection(c =>
        {
            conn = c;
            c.OnPacket(p => events.Enqueue($"packet {p.Type} {p.Text}"))
             .OnPacketCreate(p => events.Enqueue($"packetCreate {p.Type} {(p.Text is { Length: > 20 } t ? t[..20] : p.Text)}"))
             .OnDrain(() => events.Enqueue("drain"))
             .OnUpgrading(t => events.Enqueue("upgrading " + t))
             .OnUpgrade(t => events.Enqueue("upgrade " + t))
             .OnClose(reason => closed.TrySetResult(reason));
        });
        var socket = new TaskCompletionSource<SocketIoSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
        io.OnConnection(socket.SetResult);
        using var raw = new EngineIoRaw(new Uri(host.Url));

        var (sid, _) = await raw.HandshakeAsync(4);
        Assert.That(conn, Is.Not.Null, "the engine's connection event came with the handshake");
        Assert.That((conn!.Id, conn.Transport, conn.Protocol, conn.ReadyState), Is.EqualTo((sid, "polling", 4, "open")));
        Assert.That(await raw.PostTextAsync(raw.Query(4, "polling", sid), "40"), Is.EqualTo((HttpStatusCode.OK, "ok")));
        var s = await socket.Task.Within();
        Assert.That(s.Conn, Is.SameAs(conn), "socket.conn is the engine's connection");
        Assert.That((await raw.GetTextAsync(raw.Query(4, "polling", sid))).Body, Does.StartWith("40{\"sid\":"));

        using var ws = await OpenWebSocketAsync(host, $"EIO=4&transport=websocket&sid={sid}");
        await ws.SendTextAsync("2probe");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3probe"));
        await ws.SendTextAsync("5");
        await Eventually.UntilAsync(() => conn.Transport == "websocket", TaskTimeouts.Default, "the upgrade completes");
        Assert.That(s.Conn.Transport, Is.EqualTo("websocket"));

        s.Emit("hi");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("42[\"hi\"]"));
        await Eventually.UntilAsync(() => events.Contains("packetCreate message 2[\"hi\"]") && events.Count(e => e == "drain") >= 2,
            TaskTimeouts.Default, "the emit was created and drained");

        s.Conn.Close();
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("1"));
        Assert.That(await closed.Task.Within(), Is.EqualTo("forced close"));
        await Eventually.UntilAsync(() => conn.ReadyState == "closed", TaskTimeouts.Default, "the close handshake ends");
        // Node's order: the open packet's poll drains; the client's CONNECT arrives, its answer is created and drains
        // with the next poll; the probe, the switch; the emit over WebSocket; the close packet, written last.
        Assert.That(events.ToArray(), Is.EqualTo(new[]
        {
            "drain",
            "packet message 0",
            "packetCreate message " + ("0{\"sid\":\"" + s.Id)[..20],
            "drain",
            "upgrading websocket",
            "upgrade websocket",
            "packetCreate message 2[\"hi\"]",
            "drain",
            "packetCreate close ",
            "drain",
        }));
        Assert.That(host.Logs.Errors, Is.Empty);
    }

    /// <summary>
    /// Node's "close" comes once the connection has closed, its readyState "closed": not when the close begins (a
    /// polling client still has to fetch the close packet, and the connection is "closing" until it does).
    /// </summary>
    [TestCase("polling")]
    [TestCase("websocket")]
    public async Task TheCloseEventComesOnceTheConnectionIsClosed(string transport)
    {
        var (host, io) = await StartAsync();
        await using var _ = host;
        var seen = new TaskCompletionSource<(string Reason, string State)>(TaskCreationOptions.RunContinuationsAsynchronously);
        io.Engine.OnConnection(c => c.OnClose(reason => seen.TrySetResult((reason, c.ReadyState))));
        var socket = new TaskCompletionSource<SocketIoSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
        io.OnConnection(socket.SetResult);
        if (transport == "polling")
        {
            using var raw = new EngineIoRaw(new Uri(host.Url));
            var (sid, _) = await raw.HandshakeAsync(4);
            Assert.That(await raw.PostTextAsync(raw.Query(4, "polling", sid), "40"), Is.EqualTo((HttpStatusCode.OK, "ok")));
            Assert.That((await raw.GetTextAsync(raw.Query(4, "polling", sid))).Body, Does.StartWith("40{\"sid\":"));
            var s = await socket.Task.Within();
            s.Conn.Close();
            Assert.That(s.Conn.ReadyState, Is.EqualTo("closing"));
            Assert.That(seen.Task.IsCompleted, Is.False, "no close event while the close packet waits for a poll");
            Assert.That((await raw.GetTextAsync(raw.Query(4, "polling", sid))).Body, Is.EqualTo("6\u001e1"));
        }
        else
        {
            using var ws = await OpenWebSocketAsync(host, "EIO=4&transport=websocket");
            Assert.That(await ws.ReceiveTextAsync(), Does.StartWith("0{"));
            await ws.SendTextAsync("40");
            Assert.That(await ws.ReceiveTextAsync(), Does.StartWith("40{\"sid\":"));
            var s = await socket.Task.Within();
            s.Conn.Close();
            Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("1"));
        }
        Assert.That(await seen.Task.Within(), Is.EqualTo(("forced close", "closed")));
        Assert.That(host.Logs.Errors, Is.Empty);
    }

    [Test]
    public async Task AListenerThatThrowsIsLoggedAndTheConnectionGoesOn()
    {
        var (host, io) = await StartAsync();
        await using var _ = host;
        io.Engine.OnConnection(c => c.OnPacket(_ => throw new InvalidOperationException("listener bug")));
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        io.OnConnection(s => s.On("ping me", e => received.TrySetResult(e.Arg(0)!.GetValue<string>())));
        await using var client = await RawSocketIoClient.ConnectAsync(new Uri(host.Url), 4);
        await client.EmitAsync("ping me", "still here");
        Assert.That(await received.Task.Within(), Is.EqualTo("still here"));
        Assert.That(host.Logs.Errors, Has.Some.Contains("packet"));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
