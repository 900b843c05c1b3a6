using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SocketIOClient;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.Tests.Infrastructure;
using DisconnectReason = SocketIoSignal.SocketIO.DisconnectReason;
using static SocketIoSignal.Tests.Interop.DotNetClientKit;

namespace SocketIoSignal.Tests.Interop;

/// <summary>
/// The .NET client SocketIOClient 3.0.6 against the real server: Engine.IO 3 (Socket.IO protocol 4) and 4
/// (protocol 5), over polling that upgrades and over WebSocket only.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class DotNetClientTests
{
    public static IEnumerable<TestCaseData> Matrix()
    {
        foreach (int eio in new[] { 3, 4 })
        {
            yield return new TestCaseData(eio, false).SetArgDisplayNames($"EIO{eio}", "polling+upgrade");
            yield return new TestCaseData(eio, true).SetArgDisplayNames($"EIO{eio}", "websocket");
        }
    }

    private static SocketIOClient.SocketIO Client(string url, int eio, bool websocketOnly, bool reconnect = false) =>
        DotNetClientKit.Client(url, eio, websocketOnly ? "websocket" : "upgrade", reconnect);

    /// <summary>The /test namespace: echo, acks both ways, binary, and a kick.</summary>
    private static ConcurrentQueue<SocketIoSocket> Setup(TestServer server) => Setup(server.Get<SocketIoServer>());

    private static ConcurrentQueue<SocketIoSocket> Setup(SocketIoServer io)
    {
        var sockets = new ConcurrentQueue<SocketIoSocket>();
        io.Of("/test").OnConnection(s =>
        {
            sockets.Enqueue(s);
            s.On("echo", e => s.Emit("echo-back", [.. e.Args]));
            s.On("ack-me", e => e.Ack([.. e.Args]));
            s.On("upload", e =>
            {
                SocketIoBinary.TryGet(e.Arg(0), out var data);
                var reversed = data.ToArray();
                Array.Reverse(reversed);
                e.Ack(data.Length);
                s.Emit("download", reversed, "name");
            });
            s.On("ask-client", async e =>
            {
                var answer = await s.EmitWithAckAsync("question", TimeSpan.FromSeconds(5), "why?", new byte[] { 1, 2 });
                s.Emit("answer-was", [.. answer]);
            });
            s.On("kick", _ => s.Disconnect());
            s.On("join", e =>
            {
                s.Join("room");
                e.Ack("joined");
            });
        });
        return sockets;
    }

    [TestCaseSource(nameof(Matrix))]
    public async Task ConnectEventsAcksAndBinaryBothWays(int eio, bool websocketOnly)
    {
        await using var server = await TestServer.StartAsync();
        var sockets = Setup(server);
        using var client = Client(server.Url + "/test", eio, websocketOnly);
        var echo = Tcs<SocketIOResponse>();
        var download = Tcs<SocketIOResponse>();
        var question = Tcs<SocketIOResponse>();
        var answerWas = Tcs<SocketIOResponse>();
        client.On("echo-back", r => echo.TrySetResult(r));
        client.On("download", r => download.TrySetResult(r));
        client.On("question", r =>
        {
            question.TrySetResult(r);
            r.CallbackAsync("because", new byte[] { 9 }).GetAwaiter().GetResult();
        });
        client.On("answer-was", r => answerWas.TrySetResult(r));

        await client.ConnectAsync().Within(TimeSpan.FromSeconds(15));
        // (on EIO=3 "polling+upgrade" the client switches to a second session right after connecting)
        await Eventually.UntilAsync(() => client.Connected, TaskTimeouts.Default, "the client connected");
        SocketIoSocket? socket = null;
        await Eventually.UntilAsync(() => sockets.TryPeek(out socket), TaskTimeouts.Default, "the server socket");
        Assert.That(socket!.Protocol, Is.EqualTo(eio == 3 ? 4 : 5));
        Assert.That(socket.Handshake.Query["token"], Is.EqualTo("abc"));
        if (eio == 3)
        {
            Assert.That(socket.Id, Does.StartWith("/test#"));
        }
        Assert.That(client.Id, Is.Not.Null.And.Not.Empty);

        // client → server event, server → client event
        await client.EmitAsync("echo", "hi", 42, new { a = new[] { true } });
        var back = await Wait(echo);
        Assert.That(back.GetValue<string>(0), Is.EqualTo("hi"));
        Assert.That(back.GetValue<int>(1), Is.EqualTo(42));
        Assert.That(back.GetValue(2).GetRawText(), Is.EqualTo("{\"a\":[true]}"));

        // the client asks for an ack
        var acked = Tcs<SocketIOResponse>();
        await client.EmitAsync("ack-me", r => acked.TrySetResult(r), "x", 7);
        var ack = await Wait(acked);
        Assert.That(ack.GetValue<string>(0), Is.EqualTo("x"));
        Assert.That(ack.GetValue<int>(1), Is.EqualTo(7));

        // binary up (with ack) and down
        var uploadAck = Tcs<SocketIOResponse>();
        await client.EmitAsync("upload", r => uploadAck.TrySetResult(r), new byte[] { 1, 2, 3, 255 });
        Assert.That((await Wait(uploadAck)).GetValue<int>(0), Is.EqualTo(4));
        var down = await Wait(download);
        Assert.That(down.GetValue<byte[]>(0), Is.EqualTo(new byte[] { 255, 3, 2, 1 }));
        Assert.That(down.GetValue<string>(1), Is.EqualTo("name"));

        // the server asks for an ack (with binary in the question and in the answer)
        await client.EmitAsync("ask-client");
        var q = await Wait(question);
        Assert.That(q.GetValue<string>(0), Is.EqualTo("why?"));
        Assert.That(q.GetValue<byte[]>(1), Is.EqualTo(new byte[] { 1, 2 }));
        var answer = await Wait(answerWas);
        Assert.That(answer.GetValue<string>(0), Is.EqualTo("because"));
        Assert.That(answer.GetValue<byte[]>(1), Is.EqualTo(new byte[] { 9 }));

        // rooms through the server API
        var joined = Tcs<SocketIOResponse>();
        await client.EmitAsync("join", r => joined.TrySetResult(r));
        await Wait(joined);
        var roomEvent = Tcs<SocketIOResponse>();
        client.On("to-room", r => roomEvent.TrySetResult(r));
        server.Get<SocketIoServer>().Of("/test").To("room").Emit("to-room", 1);
        Assert.That((await Wait(roomEvent)).GetValue<int>(0), Is.EqualTo(1));

        await client.DisconnectAsync();
        await Eventually.UntilAsync(() => !socket.Connected, TaskTimeouts.Default, "the server socket disconnected");
        server.AssertNoErrors();
    }

    [TestCaseSource(nameof(Matrix))]
    public async Task MainNamespace(int eio, bool websocketOnly)
    {
        await using var server = await TestServer.StartAsync();
        var connected = Tcs<SocketIoSocket>();
        server.Get<SocketIoServer>().OnConnection(s =>
        {
            connected.TrySetResult(s);
            s.On("ping-me", e => e.Ack("pong"));
        });
        using var client = Client(server.Url, eio, websocketOnly);
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(15));
        var socket = await Wait(connected);
        if (eio == 3)
        {
            // protocol 4: the id in "/" is the Engine.IO sid (a duplicate CONNECT for "/" from the client is ignored)
            Assert.That(socket.Id, Does.Not.Contain("#"));
        }
        var pong = Tcs<SocketIOResponse>();
        await client.EmitAsync("ping-me", r => pong.TrySetResult(r));
        Assert.That((await Wait(pong)).GetValue<string>(0), Is.EqualTo("pong"));
        TestContext.Out.WriteLine(string.Join("\n", server.Logs.Lines.Where(l => l.Contains("session", StringComparison.Ordinal))));
        // SocketIOClient 3.0.6 "upgrades" an EIO=3 polling session by opening a second, fresh WebSocket session
        // (no sid): the server connected "/" on the abandoned polling session too, which lingers until its
        // heartbeat times out. The client's own socket is the one that answered.
        Assert.That(server.Get<SocketIoServer>().Sockets.Sockets, Has.Count.EqualTo(eio == 3 && !websocketOnly ? 2 : 1));
        await client.DisconnectAsync();
        server.AssertNoErrors();
    }

    [TestCaseSource(nameof(Matrix))]
    public async Task ServerSideDisconnect(int eio, bool websocketOnly)
    {
        await using var server = await TestServer.StartAsync();
        var sockets = Setup(server);
        using var client = Client(server.Url + "/test", eio, websocketOnly, reconnect: true);
        var disconnected = Tcs<string>();
        client.OnDisconnected += (_, reason) => disconnected.TrySetResult(reason);
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(15));
        SocketIoSocket? socket = null;
        await Eventually.UntilAsync(() => sockets.TryPeek(out socket), TaskTimeouts.Default, "the server socket");
        var reasons = new ConcurrentQueue<DisconnectReason>();
        socket!.OnDisconnect(reasons.Enqueue);
        await client.EmitAsync("kick");
        Assert.That(await Wait(disconnected), Is.EqualTo("io server disconnect"));
        await Eventually.UntilAsync(() => reasons.Count == 1, TaskTimeouts.Default, "the disconnect reason");
        Assert.That(reasons, Is.EqualTo(new[] { DisconnectReason.ServerNamespaceDisconnect }));
        // a server disconnect is final: the client does not come back
        await Task.Delay(400);
        Assert.That(sockets, Has.Count.EqualTo(1));
        Assert.That(client.Connected, Is.False);
    }

    [TestCaseSource(nameof(Matrix))]
    public async Task ReconnectsAfterAServerRestart(int eio, bool websocketOnly)
    {
        var first = await TestServer.StartAsync();
        int port = first.Port;
        Setup(first);
        using var client = Client(first.Url + "/test", eio, websocketOnly, reconnect: true);
        var reconnected = Tcs<int>();
        client.OnReconnected += (_, attempt) => reconnected.TrySetResult(attempt);
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(15));
        string firstId = client.Id;

        await first.DisposeAsync();
        // The same port (StartAsync puts "--port 0" first, and later command-line values win), with the
        // namespace's handlers in place before it listens: the client retries every 100 ms and may be first in.
        ConcurrentQueue<SocketIoSocket>? registered = null;
        await using var second = await TestServer.StartAsync(
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            b => b.Services.AddHostedService(sp => new BeforeListening(() => registered = Setup(sp.GetRequiredService<SocketIoServer>()))));
        Assert.That(second.Port, Is.EqualTo(port));
        var sockets = registered!;

        await Wait(reconnected);
        await Eventually.UntilAsync(() => !sockets.IsEmpty, TaskTimeouts.Default, "a server socket");
        var echo = Tcs<SocketIOResponse>();
        client.On("echo-back", r => echo.TrySetResult(r));
        await client.EmitAsync("echo", "again");
        Assert.That((await Wait(echo)).GetValue<string>(0), Is.EqualTo("again"));
        Assert.That(client.Id, Is.Not.EqualTo(firstId));
        await client.DisconnectAsync();
    }

    /// <summary>Runs before Kestrel listens: hosted services registered by the app start before the server.</summary>
    private sealed class BeforeListening(Action action) : Microsoft.Extensions.Hosting.IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            action();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
