using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using NUnit.Framework;
using SocketIOClient;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Interop;

/// <summary>
/// The interop matrix for the .NET client SocketIOClient 3.0.6: Engine.IO 3 (Socket.IO protocol 4) and 4
/// (protocol 5) over polling only, WebSocket only and polling with AutoUpgrade, the features of
/// Server.Tests/node/matrix.js against <see cref="MatrixServer"/>'s handlers (codelab mode). Each cell gets its own
/// server, restarted on the same port for the restart feature; two cells run at a time.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class MatrixDotNetTests
{
    private static readonly string[] Transports = ["polling", "websocket", "upgrade"];

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private const int IdleMs = 1500;

    [TestCase(3)]
    [TestCase(4)]
    public async Task MatrixDotNetClient(int eio)
    {
        var cells = await InteropMatrix.RunAsync(Transports.Select(transport => (Func<Task<CellResult>>)(() =>
            RunCellAsync(new CellResult(InteropMatrix.Groups[4], $"EIO {eio} (protocol {(eio == 3 ? 4 : 5)}) · {transport}"), eio, transport))));
        InteropMatrix.AssertAllOk(cells);
    }

    private sealed class FeatureFailed(string message) : Exception(message);

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FeatureFailed(message);
        }
    }

    /// <summary>Fails unless the event's (or ack's) arguments are this JSON array.</summary>
    private static void Same(SocketIOResponse r, string expected, string what)
    {
        var actual = "[" + string.Join(",", Enumerable.Range(0, r.Count).Select(i => r.GetValue(i).GetRawText())) + "]";
        Check(JsonNode.DeepEquals(JsonNode.Parse(actual), JsonNode.Parse(expected)), $"{what}: {actual}, expected {expected}");
    }

    private static void SameBytes(byte[]? actual, byte[] expected, string what) =>
        Check(actual is not null && actual.AsSpan().SequenceEqual(expected), $"{what}: [{string.Join(",", actual ?? [])}], expected [{string.Join(",", expected)}]");

    private sealed record Nested([property: JsonPropertyName("nested")] byte[] Bytes);

    /// <summary>What the server says a socket is ("welcome", "whoami").</summary>
    private sealed record Who(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("sid")] string Sid,
        [property: JsonPropertyName("protocol")] int Protocol,
        [property: JsonPropertyName("nsp")] string Nsp,
        [property: JsonPropertyName("transport")] string Transport);

    /// <summary>One SocketIOClient instance (one namespace, one Engine.IO connection) and what it received.</summary>
    private sealed class Peer(SocketIOClient.SocketIO io) : IAsyncDisposable
    {
        private readonly object _gate = new();
        private readonly List<(string Name, SocketIOResponse Response)> _events = [];
        private readonly List<(string Name, int After, TaskCompletionSource<SocketIOResponse> Tcs)> _waiters = [];
        private int _connects;
        private int _pings;
        private int _pongs;

        public SocketIOClient.SocketIO Io { get; } = io;

        public ConcurrentQueue<string> Disconnects { get; } = new();

        public int Connects => Volatile.Read(ref _connects);

        /// <summary>Heartbeats seen: pings (the client's, Engine.IO 3) or pongs, whichever this version reports more of.</summary>
        public int Heartbeats => Math.Max(Volatile.Read(ref _pings), Volatile.Read(ref _pongs));

        public Peer Watch()
        {
            Io.OnAny(Record);
            Io.OnConnected += (_, _) => Interlocked.Increment(ref _connects);
            Io.OnDisconnected += (_, reason) => Disconnects.Enqueue(reason);
            Io.OnPing += (_, _) => Interlocked.Increment(ref _pings);
            Io.OnPong += (_, _) => Interlocked.Increment(ref _pongs);
            return this;
        }

        /// <summary>
        /// Records these events through On() as well: this client's OnAny does not see events with binary
        /// attachments (recorded once either way).
        /// </summary>
        public Peer Listen(params string[] names)
        {
            foreach (var name in names)
            {
                Io.On(name, r => Record(name, r));
            }
            return this;
        }

        private void Record(string name, SocketIOResponse response)
        {
            lock (_gate)
            {
                if (_events.Any(e => ReferenceEquals(e.Response, response)))
                {
                    return;
                }
                _events.Add((name, response));
                int count = _events.Count(e => e.Name == name);
                foreach (var w in _waiters.Where(w => w.Name == name && count > w.After).ToArray())
                {
                    w.Tcs.TrySetResult(_events.Where(e => e.Name == name).ElementAt(w.After).Response);
                    _waiters.Remove(w);
                }
            }
        }

        public int Count(string name)
        {
            lock (_gate)
            {
                return _events.Count(e => e.Name == name);
            }
        }

        /// <summary>The next <paramref name="name"/> event, counted from now.</summary>
        public Task<SocketIOResponse> Expect(string name)
        {
            var tcs = DotNetClientKit.Tcs<SocketIOResponse>();
            lock (_gate)
            {
                _waiters.Add((name, _events.Count(e => e.Name == name), tcs));
            }
            return Bounded(tcs.Task, $"'{name}'");
        }

        public async Task ConnectAsync()
        {
            try
            {
                await Io.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(10));
                await Eventually.UntilAsync(() => Io.Connected, TimeSpan.FromSeconds(10), "connected");
            }
            catch (TimeoutException)
            {
                throw new FeatureFailed("timeout after 10 s waiting for connect");
            }
        }

        public Task EmitAsync(string name, params object[] args) => Io.EmitAsync(name, args);

        public async Task<SocketIOResponse> AckAsync(string name, params object[] args)
        {
            var tcs = DotNetClientKit.Tcs<SocketIOResponse>();
            await Io.EmitAsync(name, r => tcs.TrySetResult(r), args);
            return await Bounded(tcs.Task, $"the ack of '{name}'");
        }

        public async Task<Who> WhoAmIAsync() => (await AckAsync("whoami")).GetValue<Who>(0);

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (Io.Connected)
                {
                    await Io.DisconnectAsync().WaitAsync(TimeSpan.FromSeconds(2));
                }
            }
            catch (Exception e) when (e is TimeoutException or ObjectDisposedException or InvalidOperationException)
            {
                // it is disposed below anyway
            }
            Io.Dispose();
        }
    }

    private static async Task<T> Bounded<T>(Task<T> task, string what, TimeSpan? timeout = null)
    {
        try
        {
            return await task.WaitAsync(timeout ?? Timeout);
        }
        catch (TimeoutException)
        {
            throw new FeatureFailed($"timeout after {(timeout ?? Timeout).TotalSeconds:0.#} s waiting for {what}");
        }
    }

    private static async Task RunAsync(CellResult cell, string feature, Func<Task<string>> body, bool noteworthy = false)
    {
        try
        {
            cell.Set(feature, true, await body(), noteworthy);
        }
        catch (Exception e)
        {
            cell.Set(feature, false, e is FeatureFailed ? e.Message : e.ToString());
        }
    }

    private static async Task<CellResult> RunCellAsync(CellResult cell, int eio, string transport)
    {
        string[] serverArgs = ["--mode", "codelab"];
        var server = await MatrixServer.StartAsync(serverArgs);
        bool restarted = false;
        var peers = new List<Peer>();
        Peer Open(string nsp, bool reconnect = false)
        {
            var peer = new Peer(DotNetClientKit.Client(server.Url + nsp, eio, transport, reconnect)).Watch();
            peers.Add(peer);
            return peer;
        }
        int protocol = eio == 3 ? 4 : 5;
        string expectedTransport = transport == "polling" ? "Polling" : "WebSocket";
        try
        {
            var A = Open("/matrix").Listen("download", "bin-answer-was");
            Who? first = null;
            await RunAsync(cell, "connect", async () =>
            {
                var welcome = A.Expect("welcome");
                await A.ConnectAsync();
                var w = (await welcome).GetValue<Who>(0);
                first = await A.WhoAmIAsync();
                Check(w.Sid == first.Sid && w.Id == first.Id, $"welcome from {w.Id} on {w.Sid}, whoami says {first.Id} on {first.Sid}");
                Check(first.Protocol == protocol, $"protocol {first.Protocol}, expected {protocol}");
                Check(first.Nsp == "/matrix", "namespace " + first.Nsp);
                Check(!string.IsNullOrEmpty(A.Io.Id), "the client has no socket id");
                return $"protocol {first.Protocol}, server transport {first.Transport}";
            });
            var who = first ?? throw new FeatureFailed("connect failed: the other features were not run");

            await RunAsync(cell, "events", async () =>
            {
                var text = A.Expect("echo-back");
                await A.EmitAsync("echo", "héllo wörld ✓ 🎉", new Dictionary<string, string> { ["ключ"] = "значение" });
                Same(await text, """["héllo wörld ✓ 🎉",{"ключ":"значение"}]""", "non-ASCII echo-back");
                var pushed = A.Expect("pushed");
                await A.EmitAsync("push-me", 3);
                Same(await pushed, "[0,1,2]", "server-initiated pushes");
                return "client→server and server→client; strings, numbers, objects; non-ASCII text";
            });

            await RunAsync(cell, "acks", async () =>
            {
                Same(await A.AckAsync("ack-me", "x", 7, new { k = "v" }), """["x",7,{"k":"v"}]""", "ack from the server");
                A.Io.On("question", r => r.CallbackAsync("because", r.GetValue<string>(0) + r.GetValue<int>(1)).GetAwaiter().GetResult());
                var answer = A.Expect("answer-was");
                await A.EmitAsync("ask-client");
                Same(await answer, """["because","why?7"]""", "ack from the client, as the server saw it");
                return "client→server ack and server→client ack";
            });

            await RunAsync(cell, "binary", async () =>
            {
                var down = A.Expect("download");
                var r = await A.AckAsync("upload", new byte[] { 1, 2, 3, 255 }, new { nested = new byte[] { 0, 128, 255 }, label = "n" });
                Same(r, """[4,3,"n"]""", "ack of upload (lengths the server received)");
                var d = await down;
                SameBytes(d.GetValue<byte[]>(0), [255, 3, 2, 1], "download[0]");
                SameBytes(d.GetValue<Nested>(1)?.Bytes, [255, 128, 0], "download[1].nested");
                Check(d.GetValue<string>(2) == "name", "download[2]: " + d.GetValue(2).GetRawText());
                A.Io.On("bin-question", q =>
                {
                    var got = q.GetValue<byte[]>(0);
                    q.CallbackAsync(new byte[] { 9, 8 }, got is null ? "not binary" : string.Join(",", got)).GetAwaiter().GetResult();
                });
                var answer = A.Expect("bin-answer-was");
                await A.EmitAsync("ask-binary");
                var a = await answer;
                SameBytes(a.GetValue<byte[]>(0), [9, 8], "binary in the client's ack");
                Check(a.GetValue<string>(1) == "1,2", "binary in the server's question: " + a.GetValue(1).GetRawText());
                return "top-level and nested, events and acks, both ways";
            });

            await RunAsync(cell, "namespace", async () =>
            {
                var N = Open("/matrix-ns");
                var w = N.Expect("ns-welcome");
                await N.ConnectAsync();
                var nw = (await w).GetValue<Who>(0);
                Check(nw.Nsp == "/matrix-ns", "namespace the server saw: " + nw.Nsp);
                int before = A.Count("echo-back");
                var back = N.Expect("echo-back");
                await N.EmitAsync("echo", "n1");
                Same(await back, """["/matrix-ns","n1"]""", "echo in /matrix-ns");
                await A.AckAsync("fence");
                Check(A.Count("echo-back") == before, "/matrix got an event of /matrix-ns");
                await N.Io.DisconnectAsync();
                Same(await A.AckAsync("ack-me", "still"), """["still"]""", "/matrix after /matrix-ns left");
                Check(nw.Sid != who.Sid, "/matrix-ns shares the session of /matrix");
                return "/matrix-ns: events, isolated from /matrix; on its own Engine.IO session (this client opens one connection per namespace, no multiplexing)";
            }, noteworthy: true);

            await RunAsync(cell, "rooms", async () =>
            {
                string room = "room-" + Guid.NewGuid().ToString("N")[..8];
                var B = Open("/matrix");
                var C = Open("/matrix");
                await Task.WhenAll(B.ConnectAsync(), C.ConnectAsync());
                var a = await A.WhoAmIAsync();
                Same(await A.AckAsync("join", room), $"""["joined","{room}"]""", "A join");
                Same(await B.AckAsync("join", room), $"""["joined","{room}"]""", "B join");
                var toB = B.Expect("room-event");
                var allA = A.Expect("room-all");
                var allB = B.Expect("room-all");
                Same(await A.AckAsync("to-room", room, new { x = 1 }), """["sent"]""", "to-room ack");
                Same(await toB, $$"""[{"x":1},"{{a.Id}}"]""", "room-event on B (from A, sender excluded)");
                Same(await allA, $$"""["{{room}}",{"x":1}]""", "room-all on A");
                Same(await allB, $$"""["{{room}}",{"x":1}]""", "room-all on B");
                await Task.WhenAll(A.AckAsync("fence"), B.AckAsync("fence"), C.AckAsync("fence"));
                Check(A.Count("room-event") == 0 && A.Count("room-all") == 1, $"A: room-event {A.Count("room-event")}, room-all {A.Count("room-all")}");
                Check(B.Count("room-event") == 1 && B.Count("room-all") == 1, $"B: room-event {B.Count("room-event")}, room-all {B.Count("room-all")}");
                Check(C.Count("room-event") == 0 && C.Count("room-all") == 0, $"C (not in the room): room-event {C.Count("room-event")}, room-all {C.Count("room-all")}");
                await Task.WhenAll(B.Io.DisconnectAsync(), C.Io.DisconnectAsync());
                return "socket.to(room) and io.to(room) reach members only";
            });

            await RunAsync(cell, "signaling", async () =>
            {
                // codelab: 'message' is relayed to every other socket of "/"
                string room = "sig-" + Guid.NewGuid().ToString("N")[..8];
                var P = Open("");
                var Q = Open("");
                var R = Open("");
                await Task.WhenAll(P.ConnectAsync(), Q.ConnectAsync(), R.ConnectAsync());
                var created = P.Expect("created");
                await P.EmitAsync("create or join", room);
                Check((await created).GetValue<string>(0) == room, "created");
                var joined = Q.Expect("joined");
                var readyQ = Q.Expect("ready");
                var readyP = P.Expect("ready");
                await Q.EmitAsync("create or join", room);
                Check((await joined).GetValue<string>(0) == room, "joined");
                await Task.WhenAll(readyQ, readyP);
                var msg = Q.Expect("message");
                await P.EmitAsync("message", new { type = "offer", sdp = "v=0\r\n" });
                Same(await msg, """[{"type":"offer","sdp":"v=0\r\n"}]""", "message on the peer");
                await R.AckAsync("fence");
                Check(R.Count("message") == 1, $"message on a socket outside the room: {R.Count("message")} (codelab relays to every other socket)");
                Check(P.Count("message") == 0, "message echoed to the sender");
                await Task.WhenAll(P.Io.DisconnectAsync(), Q.Io.DisconnectAsync(), R.Io.DisconnectAsync());
                return "codelab mode: create or join, ready, message (to every other socket)";
            });

            await RunAsync(cell, "transport", async () =>
            {
                var now = await A.WhoAmIAsync();
                Check(now.Transport == expectedTransport, $"server transport {now.Transport}, expected {expectedTransport}");
                Check(now.Sid == who.Sid, $"session changed: {now.Sid} (was {who.Sid})");
                if (transport == "upgrade")
                {
                    // what the server saw: a polling session, then A's WebSocket session opened afresh, never upgraded
                    var log = server.Server.Logs.Lines.ToArray();
                    Check(log.Any(l => l.Contains($"opened (EIO {eio}, Polling)", StringComparison.Ordinal)), "no polling handshake; the server logged: " + string.Join(" | ", log.Where(l => l.Contains("SocketIoSignal.EngineIO", StringComparison.Ordinal)).TakeLast(12)));
                    Check(log.Any(l => l.Contains($"session {now.Sid} opened (EIO {eio}, WebSocket)", StringComparison.Ordinal)), $"session {now.Sid} did not start on WebSocket");
                    Check(!log.Any(l => l.Contains("upgraded to websocket", StringComparison.Ordinal)), "a session was upgraded");
                }
                return transport switch
                {
                    "upgrade" => "polling handshake, then WebSocket: AutoUpgrade opens a fresh WebSocket session (no sid, no probe) rather than upgrading the polling one",
                    _ => "only " + expectedTransport,
                };
            }, noteworthy: transport == "upgrade");

            // server-disconnect: checked now, and once more after the idle period (reconnection is on: after
            // "io server disconnect" the client must not come back), then reported
            Peer? kicked = null;
            Exception? kickFailure = null;
            try
            {
                var K = Open("/matrix", reconnect: true);
                await K.ConnectAsync();
                // a round trip first: the kick is the next thing the server's /matrix socket for K handles
                Check((await K.WhoAmIAsync()).Nsp == "/matrix", "K is not on /matrix");
                await K.EmitAsync("kick");
                await Eventually.UntilAsync(() => !K.Disconnects.IsEmpty, Timeout, "K disconnect");
                Check(K.Disconnects.SequenceEqual(["io server disconnect"]), "disconnect reasons: " + string.Join(", ", K.Disconnects));
                Check(!K.Io.Connected, "K still connected");
                kicked = K;
            }
            catch (Exception e)
            {
                kickFailure = e;
            }

            await RunAsync(cell, "idle", async () =>
            {
                var before = await A.WhoAmIAsync();
                int beats = A.Heartbeats;
                int disconnects = A.Disconnects.Count;
                await Task.Delay(IdleMs);  // deliberate: nothing happens but heartbeats
                beats = A.Heartbeats - beats;
                Check(A.Disconnects.Count == disconnects && A.Io.Connected, "A disconnected while idle: " + string.Join(", ", A.Disconnects));
                Check(beats >= 3, $"{beats} heartbeats in {IdleMs} ms with pingInterval 300 (expected at least 3)");
                var after = await A.WhoAmIAsync();
                Check(after.Sid == before.Sid && after.Id == before.Id, $"the server has another session: {after.Sid} (was {before.Sid})");
                Same(await A.AckAsync("ack-me", "awake"), """["awake"]""", "ack after idle");
                return $"{beats} heartbeats in {IdleMs} ms (pingInterval 300 ms), same session";
            });

            await RunAsync(cell, "server-disconnect", () =>
            {
                if (kickFailure is not null)
                {
                    throw kickFailure;
                }
                Check(kicked!.Connects == 1, $"K reconnected after a server disconnect ({kicked.Connects} connects)");
                return Task.FromResult("reason \"io server disconnect\"; no reconnection during the idle period");
            });

            await RunAsync(cell, "restart", async () =>
            {
                var R = Open("/matrix", reconnect: true);
                var firstWelcome = R.Expect("welcome");
                await R.ConnectAsync();
                var w1 = (await firstWelcome).GetValue<Who>(0);
                await A.Io.DisconnectAsync();
                int connects = R.Connects;
                var secondWelcome = R.Expect("welcome");
                foreach (var problem in server.Problems(kickExpected: true))
                {
                    cell.Problems.Enqueue("before the restart: " + problem);
                }
                server = await MatrixServer.RestartAsync(server, serverArgs);
                restarted = true;
                await Eventually.UntilAsync(() => !R.Disconnects.IsEmpty, TimeSpan.FromSeconds(15), "R to notice the restart");
                await Eventually.UntilAsync(() => R.Connects > connects && R.Io.Connected, TimeSpan.FromSeconds(15), "R to reconnect");
                var w2 = (await Bounded(secondWelcome, "welcome from the new server", TimeSpan.FromSeconds(15))).GetValue<Who>(0);
                Check(w2.Id != w1.Id, "same socket id after the restart");
                Same(await R.AckAsync("ack-me", "back"), """["back"]""", "ack after the restart");
                var back = R.Expect("echo-back");
                await R.EmitAsync("echo", "again");
                Same(await back, """["again"]""", "echo after the restart");
                Check(R.Disconnects.Count == 1 && R.Connects - connects == 1,
                    $"expected one drop and one reconnect: disconnects {string.Join(", ", R.Disconnects)}; {R.Connects - connects} connects");
                return $"dropped ({R.Disconnects.First()}), reconnected on its own to the new server";
            });
        }
        catch (Exception e)
        {
            cell.Problems.Enqueue("the cell stopped: " + e);
        }
        finally
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }
            if (!restarted)
            {
                cell.Problems.Enqueue("the cell never restarted the server");
            }
            foreach (var problem in server.Problems(kickExpected: !restarted))
            {
                cell.Problems.Enqueue(problem);
            }
            await server.Server.DisposeAsync();
        }
        return cell.Finish();
    }
}
