using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>
/// Every class of THREATS.md against the real server, for both protocol generations where it applies. Each test
/// also asserts (<see cref="HostileServer.FinishAsync"/>): a canary pair kept talking without loss, no Error log,
/// no 5xx, no escaped exception.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.None)]
public sealed class HostileInputTests
{
    private static readonly int[] Versions = [3, 4];

    private static int? CodeOf(string body)
    {
        var m = Regex.Match(body, "\"code\":(\\d+)");
        return m.Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    [Test]
    public async Task HandshakeAndQueryAbuse()
    {
        await using var h = await HostileServer.StartAsync("--EngineIo:PingInterval=300", "--EngineIo:PingTimeout=300");
        foreach (int eio in Versions)
        {
            var cases = new (string Query, int Status, int[] Codes)[]
            {
                ($"EIO={eio}&transport=__proto__", 400, [0]),
                ($"EIO={eio}&transport=constructor", 400, [0]),
                ($"EIO={eio}&transport=toString", 400, [0]),
                ($"EIO={eio}&transport=", 400, [0]),
                ($"EIO={eio}&transport=flashsocket", 400, [0]),
                ("transport=polling", 400, [5, 3]),
                ("EIO=abc&transport=polling", 400, [5, 3]),
                ("EIO=5&transport=polling", 400, [5, 3]),
                ("EIO=%204&transport=polling", 400, [5, 3]),
                ($"EIO={eio}&transport=polling&sid=__proto__", 400, [1]),
                ($"EIO={eio}&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA", 400, [1]),
                ($"EIO={eio}&transport=polling&j=abc", 400, [3]),
                ($"EIO={eio}&transport=polling&j=1);alert(1", 400, [3]),
            };
            foreach (var (query, status, codes) in cases)
            {
                var (got, body) = await h.Raw.GetTextAsync("/socket.io/?" + query);
                Assert.That((int)got, Is.EqualTo(status), query);
                Assert.That(codes, Does.Contain(CodeOf(body)), query + " → " + body);
            }
            // The same refusals on a WebSocket upgrade.
            foreach (var transport in new[] { "__proto__", "constructor", "toString", "", "unknown" })
            {
                await using var tcp = await RawTcp.ConnectAsync(h.Port);
                Assert.That(await tcp.UpgradeAsync($"/socket.io/?EIO={eio}&transport={transport}"), Is.EqualTo(400), transport);
            }
            // Duplicate keys: a defined answer, never a crash.
            var (dup, _) = await h.Raw.GetTextAsync($"/socket.io/?EIO={eio}&transport=polling&transport=websocket");
            Assert.That((int)dup, Is.LessThan(500));
            var (dupEio, _) = await h.Raw.GetTextAsync($"/socket.io/?EIO=3&EIO=4&transport=polling");
            Assert.That((int)dupEio, Is.LessThan(500));
            // Session ids: 20 base64url characters (120 bits), all distinct.
            var sids = new HashSet<string>();
            for (int i = 0; i < 100; i++)
            {
                var (sid, _) = await h.Raw.HandshakeAsync(eio);
                Assert.That(sid, Does.Match("^[A-Za-z0-9_-]{20}$"));
                sids.Add(sid);
            }
            Assert.That(sids, Has.Count.EqualTo(100));
        }
        // The flood of never-polled handshakes expires at pingInterval + pingTimeout: only the canary is left.
        await Eventually.UntilAsync(() => h.Engine.SessionCount == 2, TaskTimeouts.Default, "flooded sessions expire");
        await h.FinishAsync();
    }

    [Test]
    public async Task PollingRequestStateAbuse()
    {
        await using var h = await HostileServer.StartAsync();
        foreach (int eio in Versions)
        {
            // A second concurrent GET: 400, and the session closes.
            var (sid, _) = await h.Raw.HandshakeAsync(eio);
            var first = h.Raw.GetTextAsync(h.Raw.Query(eio, "polling", sid));
            await Eventually.UntilAsync(() => h.Engine.TryGetSession(sid, out var s) && s!.HasPendingPoll, TaskTimeouts.Default, "first GET waiting");
            var (second, _) = await h.Raw.GetTextAsync(h.Raw.Query(eio, "polling", sid));
            Assert.That((int)second, Is.EqualTo(400));
            Assert.That((int)(await first).Status, Is.LessThan(500));
            Assert.That(h.Engine.TryGetSession(sid, out _), Is.False, "closed after the overlap");

            // A second concurrent POST while one trickles: 400 and closed.
            (sid, _) = await h.Raw.HandshakeAsync(eio);
            await using (var trickle = await RawTcp.ConnectAsync(h.Port))
            {
                await trickle.SendAsync($"POST {h.Raw.Query(eio, "polling", sid)} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 50\r\n\r\n4");
                await Eventually.UntilAsync(() => h.Engine.TryGetSession(sid, out var s) && s!.IsPostActive, TaskTimeouts.Default, "first POST reading");
                var (post2, _) = await h.Raw.PostTextAsync(h.Raw.Query(eio, "polling", sid), eio == 4 ? "4x" : "2:4x");
                Assert.That((int)post2, Is.EqualTo(400));
                await Eventually.UntilAsync(() => !h.Engine.TryGetSession(sid, out _), TaskTimeouts.Default, "closed after overlapping POSTs");
            }

            // Lying Content-Length and a chunked body past maxHttpBufferSize: 413, nothing buffered past the limit.
            (sid, _) = await h.Raw.HandshakeAsync(eio);
            await using (var liar = await RawTcp.ConnectAsync(h.Port))
            {
                await liar.SendAsync($"POST {h.Raw.Query(eio, "polling", sid)} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000000\r\n\r\n4abc");
                Assert.That((await liar.ReadResponseAsync()).Status, Is.EqualTo(413));
            }
            (sid, _) = await h.Raw.HandshakeAsync(eio);
            await using (var chunked = await RawTcp.ConnectAsync(h.Port))
            {
                await chunked.SendAsync($"POST {h.Raw.Query(eio, "polling", sid)} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
                var chunk = Encoding.ASCII.GetBytes("10000\r\n" + new string('a', 0x10000) + "\r\n");
                int status = 0;
                var reading = chunked.ReadResponseAsync(TimeSpan.FromSeconds(10));
                for (int i = 0; i < 40 && !reading.IsCompleted; i++)
                {
                    try
                    {
                        await chunked.SendAsync(chunk);
                    }
                    catch (System.Net.Sockets.SocketException)
                    {
                        break;
                    }
                }
                status = (await reading).Status;
                Assert.That(status, Is.EqualTo(413));
            }

            // v4 octet-stream POST is answered 400, not left hanging; PUT/DELETE: 4xx, session untouched.
            (sid, _) = await h.Raw.HandshakeAsync(eio);
            foreach (var method in new[] { HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
            {
                using var response = await h.Raw.Http.SendAsync(new HttpRequestMessage(method, h.Raw.Query(eio, "polling", sid))).Within();
                Assert.That((int)response.StatusCode, Is.InRange(400, 499), method.Method);
                Assert.That(h.Engine.TryGetSession(sid, out _), Is.True, method.Method + " leaves the session");
            }
            if (eio == 4)
            {
                var (octet, _) = await h.Raw.PostTextAsync(h.Raw.Query(eio, "polling", sid), "4hi", "application/octet-stream");
                Assert.That((int)octet, Is.EqualTo(400));
            }

            // Bodies: parse error (400, session closed) or a correct decode (200) — never a 5xx or an exception.
            var bodies = new List<byte[]>
            {
                Array.Empty<byte>(), "\u001e"u8.ToArray(), "6:4hello"u8.ToArray(), "1:"u8.ToArray(), "3:99:"u8.ToArray(),
                Encoding.ASCII.GetBytes("99999991:" + new string('4', 100)), new byte[] { 0xff, 0xfe, 0x34 }, new byte[] { 0x34, 0xc3, 0x28 },
                Encoding.ASCII.GetBytes("4a\u001e4b\u001e"), Encoding.ASCII.GetBytes(new string('9', 300) + ":4"),
            };
            foreach (var body in bodies)
            {
                (sid, _) = await h.Raw.HandshakeAsync(eio);
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain");
                using var response = await h.Raw.Http.PostAsync(h.Raw.Query(eio, "polling", sid), content).Within();
                Assert.That((int)response.StatusCode, Is.EqualTo(200).Or.EqualTo(400), Convert.ToHexString(body));
            }
            if (eio == 3)
            {
                // v3 binary framing: 300 length digits, no 0xFF, a length past the end.
                byte[][] binaryBodies = [[0x00, .. Enumerable.Repeat((byte)9, 300), 0xff, 0x34], [0x00, 0x05, 0x34, 0x61], [0x00, 0x09, 0xff, 0x34]];
                foreach (var body in binaryBodies)
                {
                    (sid, _) = await h.Raw.HandshakeAsync(eio);
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
                    using var response = await h.Raw.Http.PostAsync(h.Raw.Query(eio, "polling", sid), content).Within();
                    Assert.That((int)response.StatusCode, Is.EqualTo(400), Convert.ToHexString(body));
                }
            }
        }
        await h.FinishAsync();
    }

    [Test]
    public async Task WebSocketAbuse()
    {
        await using var h = await HostileServer.StartAsync("--EngineIo:MaxQueuedBytes=200000");
        foreach (int eio in Versions)
        {
            // 2 MB in one message: 1009 before it is buffered.
            using (var ws = await h.Raw.ConnectWebSocketAsync(eio))
            {
                await ws.ReceiveMessageAsync();
                try
                {
                    await ws.SendAsync(new byte[2_000_000], WebSocketMessageType.Text, true, CancellationToken.None).Within();
                }
                catch (WebSocketException)
                {
                }
                await DrainUntilCloseAsync(ws);
                Assert.That(ws.CloseStatus, Is.EqualTo(WebSocketCloseStatus.MessageTooBig));
            }
            // 10⁶ tiny fragments would be a flood: closed 1009 at the fragment cap.
            using (var ws = await h.Raw.ConnectWebSocketAsync(eio))
            {
                await ws.ReceiveMessageAsync();
                var reader = DrainUntilCloseAsync(ws);
                for (int i = 0; i < 5000 && !reader.IsCompleted; i++)
                {
                    try
                    {
                        await ws.SendAsync(new byte[] { 0x34 }, WebSocketMessageType.Text, false, CancellationToken.None).Within();
                    }
                    catch (WebSocketException)
                    {
                        break;
                    }
                }
                await reader.Within();
                Assert.That(ws.CloseStatus, Is.EqualTo(WebSocketCloseStatus.MessageTooBig));
            }
            // Invalid UTF-8 in a text frame: protocol close.
            using (var ws = await h.Raw.ConnectWebSocketAsync(eio))
            {
                await ws.ReceiveMessageAsync();
                await ws.SendAsync(new byte[] { 0x34, 0xc3, 0x28, 0xff }, WebSocketMessageType.Text, true, CancellationToken.None).Within();
                await DrainUntilCloseAsync(ws);
            }
            // Junk right after the 101, an unmasked frame, a reserved opcode: the connection ends.
            foreach (var (what, bad) in new (string, Func<RawTcp, Task>)[]
            {
                ("junk after 101", t => t.SendAsync("GET / HTTP/1.1\r\n\r\n\u0000\u0001garbage")),
                ("reserved opcode", t => t.SendFrameAsync(3, "4hi"u8.ToArray())),
                ("oversized ping", t => t.SendFrameAsync(9, new byte[200])),
            })
            {
                await using var tcp = await RawTcp.ConnectAsync(h.Port);
                Assert.That(await tcp.UpgradeAsync($"/socket.io/?EIO={eio}&transport=websocket"), Is.EqualTo(101));
                await bad(tcp);
                Assert.That(await tcp.EndsAsync(), Is.True, what);
            }
            // An unmasked client frame: closed 1002 (RFC 6455 §5.1; every malformed frame is in WebSocketProtocolErrorTests).
            await using (var tcp = await RawTcp.ConnectAsync(h.Port))
            {
                Assert.That(await tcp.UpgradeAsync($"/socket.io/?EIO={eio}&transport=websocket"), Is.EqualTo(101));
                await tcp.SendFrameAsync(1, "4hi"u8.ToArray(), mask: false);
                Assert.That((await tcp.ReadCloseFrameAsync()).Code, Is.EqualTo(1002));
            }
            // Malformed Sec-WebSocket-* headers: 4xx.
            await using (var tcp = await RawTcp.ConnectAsync(h.Port))
            {
                await tcp.SendAsync($"GET /socket.io/?EIO={eio}&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: !!\r\nSec-WebSocket-Version: 99\r\n\r\n");
                Assert.That((await tcp.ReadResponseAsync()).Status, Is.InRange(400, 499));
            }
            // A client that never reads: its bounded queue fills and it alone is dropped.
            await using (var sink = await RawTcp.ConnectAsync(h.Port, receiveBuffer: 4096))
            {
                Assert.That(await sink.UpgradeAsync($"/socket.io/?EIO={eio}&transport=websocket"), Is.EqualTo(101));
                string sinkSid = Regex.Match(await sink.ReadUntilAsync("}"), "\"sid\":\"([^\"]+)\"").Groups[1].Value;
                if (eio == 4)
                {
                    await sink.SendFrameAsync(1, "40"u8.ToArray());
                }
                await sink.SendFrameAsync(1, Encoding.UTF8.GetBytes($"42[\"create or join\",\"sink-{eio}\"]"));
                var nsp = h.Server.Get<SocketIoServer>().Sockets;
                await Eventually.UntilAsync(async () => await nsp.Adapter.RoomSizeAsync($"sink-{eio}") == 1, TaskTimeouts.Default, "the sink joined its room");
                var flooder = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 4, "/");
                await using (flooder)
                {
                    await flooder.SendAsync($"2[\"create or join\",\"sink-{eio}\"]");
                    while (!(await flooder.NextTextAsync()).Contains("\"joined\"", StringComparison.Ordinal))
                    {
                    }
                    var big = new string('x', 20_000);
                    for (int i = 0; i < 2000 && h.Engine.TryGetSession(sinkSid, out _); i++)
                    {
                        await flooder.SendAsync($"2[\"message\",\"{big}\"]");
                        // The flooder reads its own echo (log): only the sink lets its queue grow.
                        await flooder.NextAsync();
                    }
                    Assert.That(h.Engine.TryGetSession(sinkSid, out _), Is.False, "the non-reading client was dropped");
                }
            }
        }
        // Upgrade: h2c, or websocket to a non-Socket.IO path, then a reset: nothing happens to the server.
        foreach (var request in new[]
        {
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
            "GET /index.html HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        })
        {
            var tcp = await RawTcp.ConnectAsync(h.Port);
            await tcp.SendAsync(request);
            tcp.Reset();
        }
        await h.FinishAsync();
    }

    private static async Task DrainUntilCloseAsync(WebSocket ws)
    {
        var buffer = new byte[65536];
        using var cts = new CancellationTokenSource(TaskTimeouts.Default);
        try
        {
            while (ws.State is WebSocketState.Open or WebSocketState.CloseSent)
            {
                var result = await ws.ReceiveAsync(buffer, cts.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                if (result.EndOfMessage && result.Count > 0 && buffer[0] == (byte)'1')
                {
                    return;
                }
            }
        }
        catch (WebSocketException)
        {
            // cut off: closed as well
        }
        Assert.That(cts.IsCancellationRequested, Is.False, "the server did not close the WebSocket");
    }

    [Test]
    public async Task TimeBasedFaults()
    {
        await using var h = await HostileServer.StartAsync(
            "--EngineIo:PingInterval=400", "--EngineIo:PingTimeout=400", "--EngineIo:UpgradeTimeout=300", "--SocketIo:ConnectTimeout=500");
        foreach (int eio in Versions)
        {
            // Silence (no pong in v4, no ping in v3): closed at pingInterval + pingTimeout.
            using (var ws = await h.Raw.ConnectWebSocketAsync(eio))
            {
                var started = DateTime.UtcNow;
                await DrainUntilCloseAsync(ws);
                Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(4)));
            }
            // 2probe then silence: the probe alone closes after upgradeTimeout; polling goes on.
            var (sid, _) = await h.Raw.HandshakeAsync(eio);
            using (var probe = await h.Raw.ConnectWebSocketAsync(eio, sid))
            {
                await probe.SendTextAsync("2probe");
                Assert.That(await probe.ReceiveTextAsync(), Is.EqualTo("3probe"));
                await DrainUntilCloseAsync(probe);
            }
            Assert.That(h.Engine.TryGetSession(sid, out var session) && session!.IsOpen, Is.True, "polling goes on");
            var (status, _) = await h.Raw.PostTextAsync(h.Raw.Query(eio, "polling", sid), eio == 4 ? "3" : "1:2");
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        }
        // Protocol 5 with no CONNECT: closed at connectTimeout.
        var silent = await RawSocketIoClient.OpenAsync(h.Server.BaseUri, 4);
        await using (silent)
        {
            await silent.ExpectClosedAsync(TimeSpan.FromSeconds(5));
        }
        await h.FinishAsync();
    }

    /// <summary>Socket.IO packets that must close the connection, per protocol (4: EIO 3, 5: EIO 4).</summary>
    private static readonly string[] MustClose =
    [
        "2[{\"toString\":\"foo\"}]", "2[null]", "2[]", "2[\"a\"]garbage", "2{\"a\":1}",
        "51-[\"m\",{\"_placeholder\":true,\"num\":\"splice\"}]",
        "550-[\"m\"]", "5511-[\"m\"]", "5" + new string('1', 100_000) + "-[\"m\"]",
        "2" + new string('9', 100) + "[\"m\"]",
        "2" + new string('[', 100_000) + new string(']', 100_000),
        "2[\"error\"]", "2[\"connect\"]", "2[\"disconnect\"]", "2[\"disconnecting\"]", "2[\"newListener\"]",
        "2[\"removeListener\"]", "2[\"connect_error\"]",
        "2/nope,[\"m\"]", "9", "7[\"x\"]",
    ];

    [Test]
    public async Task SocketIoPacketValidation()
    {
        await using var h = await HostileServer.StartAsync();
        foreach (int eio in Versions)
        {
            foreach (var packet in MustClose)
            {
                var client = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, eio, "/");
                await using (client)
                {
                    await client.SendAsync(packet);
                    if (packet.Contains("splice", StringComparison.Ordinal))
                    {
                        await client.SendBinaryAsync([1]);
                    }
                    Assert.That(await ClosesAsync(client), Is.True, $"EIO {eio}: {(packet.Length > 60 ? packet[..60] : packet)} closes");
                }
            }
        }
        // Protocol 5 only: a second CONNECT, an EVENT before CONNECT.
        var twice = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 4, "/");
        await using (twice)
        {
            await twice.SendAsync("0");
            Assert.That(await ClosesAsync(twice), Is.True, "a second CONNECT closes");
        }
        var early = await RawSocketIoClient.OpenAsync(h.Server.BaseUri, 4);
        await using (early)
        {
            await early.SendAsync("2[\"message\",\"x\"]");
            Assert.That(await ClosesAsync(early), Is.True, "an EVENT before CONNECT closes");
        }
        await h.FinishAsync();
    }

    /// <summary>True when the server closes the connection within the default bound.</summary>
    private static async Task<bool> ClosesAsync(RawSocketIoClient client)
    {
        var deadline = DateTime.UtcNow + TaskTimeouts.Default;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await client.NextAsync(deadline - DateTime.UtcNow);
            }
            catch (AssertionException)
            {
                return client.Closed;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
        return false;
    }

    [Test]
    public async Task OrphanedAttachmentsAreFreed()
    {
        await using var h = await HostileServer.StartAsync("--SocketIo:AttachmentTimeout=300");
        var baseline = h.Counters();
        foreach (int eio in Versions)
        {
            // Announced, never sent: closed after the attachment timeout.
            var client = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, eio, "/");
            await using (client)
            {
                await client.SendAsync("52-[\"m\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
                await client.SendBinaryAsync([1, 2, 3]);
                await client.ExpectClosedAsync(TimeSpan.FromSeconds(5));
            }
            // Announced, then the client leaves: freed with the connection (timers back to where they were).
            var leaver = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, eio, "/");
            await leaver.SendAsync("51-[\"m\",{\"_placeholder\":true,\"num\":0}]");
            await leaver.DisposeAsync();
        }
        await Eventually.UntilAsync(() => h.Counters() == baseline, TaskTimeouts.Default, "sessions, sockets, rooms, timers, queues back to the canary's");
        await h.FinishAsync();
    }

    [Test]
    public async Task RoomManagerAbuse()
    {
        await using var h = await HostileServer.StartAsync();
        var nsp = h.Server.Get<SocketIoServer>().Sockets;
        foreach (int eio in Versions)
        {
            // Prototype names and control characters are ordinary rooms.
            foreach (var name in new[] { "constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "a\\u0000b\\n\\u001b[31m" })
            {
                var c = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, eio, "/");
                await using (c)
                {
                    await c.SendAsync($"2[\"create or join\",\"{name}-{eio}\"]");
                    Assert.That(await NextEventAsync(c), Is.EqualTo("created"), name);
                }
            }
            // A room name of 900 kB: bounded (full), the connection and the server unharmed.
            var big = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, eio, "/");
            await using (big)
            {
                await big.SendAsync($"2[\"create or join\",\"{new string('r', 900_000)}\"]");
                Assert.That(await NextEventAsync(big), Is.EqualTo("full"));
            }
            // Ten clients join one room at the same instant: exactly two members, eight full.
            var ten = new List<RawSocketIoClient>();
            for (int i = 0; i < 10; i++)
            {
                ten.Add(await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, i % 2 == 0 ? 3 : 4, "/"));
            }
            string room = "ten-" + eio;
            await Task.WhenAll(ten.Select(c => c.SendAsync($"2[\"create or join\",\"{room}\"]")));
            var answers = await Task.WhenAll(ten.Select(NextEventAsync));
            Assert.That(answers.Count(a => a is "created" or "joined"), Is.EqualTo(2), string.Join(",", answers));
            Assert.That(answers.Count(a => a == "full"), Is.EqualTo(8));
            Assert.That(await nsp.Adapter.RoomSizeAsync(room), Is.EqualTo(2));
            // A member that leaves frees its slot at once.
            var member = ten[Array.FindIndex(answers, a => a == "joined")];
            await member.DisposeAsync();
            await Eventually.UntilAsync(async () => await nsp.Adapter.RoomSizeAsync(room) == 1, TaskTimeouts.Default, "slot freed");
            var late = ten[Array.FindIndex(answers, a => a == "full")];
            await late.SendAsync($"2[\"create or join\",\"{room}\"]");
            Assert.That(await NextEventAsync(late), Is.EqualTo("joined"));
            foreach (var c in ten)
            {
                await c.DisposeAsync();
            }
            // Joins racing disconnects leave no ghost member.
            for (int i = 0; i < 20; i++)
            {
                var racer = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, eio, "/");
                await racer.SendAsync($"2[\"create or join\",\"race-{eio}-{i}\"]");
                await racer.DisposeAsync();
            }
            for (int i = 0; i < 20; i++)
            {
                string r = $"race-{eio}-{i}";
                await Eventually.UntilAsync(async () => await nsp.Adapter.RoomSizeAsync(r) == 0, TaskTimeouts.Default, "no ghost in " + r);
            }
        }
        await Eventually.UntilAsync(() => h.Counters().Rooms == 3, TaskTimeouts.Default, "only the canary's rooms are left");
        await h.FinishAsync();
    }

    /// <summary>The name of the next event other than <c>log</c> (and others' <c>message</c>).</summary>
    private static async Task<string> NextEventAsync(RawSocketIoClient client)
    {
        while (true)
        {
            var packet = await client.NextAsync();
            if (packet is { Type: 2, Namespace: "/", Name: { } name } && name is not ("log" or "message"))
            {
                return name;
            }
        }
    }

    [Test]
    public async Task CrossOriginIsRefusedAndNeverReflectedWithCredentials()
    {
        await using var h = await HostileServer.StartAsync();
        foreach (int eio in Versions)
        {
            foreach (var origin in new[] { "http://evil.example", "null", "http://127.0.0.1.evil.example" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, h.Raw.Query(eio, "polling"));
                request.Headers.Add("Origin", origin);
                using var response = await h.Raw.Http.SendAsync(request).Within();
                Assert.That((int)response.StatusCode, Is.EqualTo(403), origin);
                Assert.That(response.Headers.Contains("Access-Control-Allow-Credentials") && response.Headers.Contains("Access-Control-Allow-Origin")
                    && response.Headers.GetValues("Access-Control-Allow-Origin").Contains(origin), Is.False, origin);
                await using var tcp = await RawTcp.ConnectAsync(h.Port);
                Assert.That(await tcp.UpgradeAsync($"/socket.io/?EIO={eio}&transport=websocket", $"Origin: {origin}\r\n"), Is.EqualTo(403), origin);
            }
        }
        await h.FinishAsync();
    }

    [Test]
    public async Task StaticFilesNeverEscapeTheRoot()
    {
        await using var h = await HostileServer.StartAsync();
        foreach (var path in new[]
        {
            "/../Server/Program.cs", "/%2e%2e/Server/Program.cs", "/..%2fServer%2fProgram.cs", "/..%5cServer%5cProgram.cs",
            "/index.html%00.js", "/%00", "/.git/config", "/js/.hidden", "/../public2/x", "/..%2f..%2fetc%2fpasswd",
            "/js/", "//evil.example/", "/index.unknownext", "/js/main.js%20", "/%c0%ae%c0%ae/etc/passwd",
        })
        {
            await using var tcp = await RawTcp.ConnectAsync(h.Port);
            await tcp.SendAsync($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            var (status, head, _) = await tcp.ReadResponseAsync();
            Assert.That(status, Is.InRange(400, 499), path);
            Assert.That(head, Does.Not.Contain("Location: //"), path);
        }
        using var ok = await h.Raw.GetAsync("/index.html");
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ok.Headers.GetValues("X-Content-Type-Options"), Does.Contain("nosniff"));
        await h.FinishAsync();
    }

    [Test]
    public async Task UpgradeRaces()
    {
        await using var h = await HostileServer.StartAsync();
        foreach (int eio in Versions)
        {
            // Two probes at once: the second is closed, the session untouched.
            var (sid, _) = await h.Raw.HandshakeAsync(eio);
            using (var probe1 = await h.Raw.ConnectWebSocketAsync(eio, sid))
            using (var probe2 = await h.Raw.ConnectWebSocketAsync(eio, sid))
            {
                await probe1.SendTextAsync("2probe");
                await probe2.SendTextAsync("2probe");
                var answers = await Task.WhenAll(FirstOrClose(probe1), FirstOrClose(probe2));
                Assert.That(answers.Count(a => a == "3probe"), Is.EqualTo(1), string.Join(",", answers));
            }
            // Upgrade then a GET on the upgraded session: refused; a probe after the upgrade: refused.
            (sid, _) = await h.Raw.HandshakeAsync(eio);
            using (var ws = await h.Raw.ConnectWebSocketAsync(eio, sid))
            {
                await ws.SendTextAsync("2probe");
                Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3probe"));
                await ws.SendTextAsync("5");
                await Eventually.UntilAsync(() => h.Engine.TryGetSession(sid, out var s) && s!.Transport == SocketIoSignal.EngineIO.TransportKind.WebSocket, TaskTimeouts.Default, "upgraded");
                var (get, _) = await h.Raw.GetTextAsync(h.Raw.Query(eio, "polling", sid));
                Assert.That((int)get, Is.EqualTo(400));
                using var late = await h.Raw.ConnectWebSocketAsync(eio, sid);
                await DrainUntilCloseAsync(late);
            }
            // A probe whose TCP connection is reset mid-upgrade: the polling session goes on.
            (sid, _) = await h.Raw.HandshakeAsync(eio);
            var tcp = await RawTcp.ConnectAsync(h.Port);
            Assert.That(await tcp.UpgradeAsync(h.Raw.Query(eio, "websocket", sid)), Is.EqualTo(101));
            await tcp.SendFrameAsync(1, "2probe"u8.ToArray());
            Assert.That(await tcp.ReadUntilAsync("3probe"), Does.Contain("3probe"));
            tcp.Reset();
            await Eventually.UntilAsync(() => h.Engine.TryGetSession(sid, out var s) && !s!.HasProbe, TaskTimeouts.Default, "probe gone");
            var (status, body) = await h.Raw.PostTextAsync(h.Raw.Query(eio, "polling", sid), eio == 4 ? "6" : "1:6");
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body);
        }
        await h.FinishAsync();
    }

    private static async Task<string> FirstOrClose(ClientWebSocket ws)
    {
        try
        {
            var (type, data) = await ws.ReceiveMessageAsync();
            return type == WebSocketMessageType.Close ? "close" : Encoding.UTF8.GetString(data);
        }
        catch (WebSocketException)
        {
            return "close";
        }
    }
}
