using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.SocketIOTests;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>
/// Floods and storms, one class per row (THREATS.md, "Learned since"): each runs against a server in rooms mode
/// while the canary pair keeps talking, and must leave sessions, sockets, rooms, timers and queued bytes where they
/// were, the managed heap within <see cref="HeapBound"/> and the process's resident memory within
/// <see cref="RssBound"/> of where they started — besides the guarantees of every hostile test (the canary lost
/// nothing, no 5xx, no error logged).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.None)]
internal sealed partial class FloodTests
{
    private const long HeapBound = 16_000_000;
    private const long RssBound = 96_000_000;

    public delegate Task Attack(HostileServer h);

    public static IEnumerable<TestCaseData> Floods()
    {
        yield return Row("namespaces: 2000 CONNECTs to namespaces that do not exist", NamespaceFloodAsync);
        yield return Row("namespaces: CONNECT to a joined namespace again, 200 clients", RepeatedConnectAsync);
        yield return Row("acknowledgement ids: 1500 events with ack ids, 1500 unsolicited ACKs, oversized ids", AckIdFloodAsync);
        yield return Row("rooms per socket: one socket creates 1500 rooms, then leaves", RoomsPerSocketAsync);
        yield return Row("polling sessions: 1000 handshakes never polled, 200 long-polls abandoned", PollingSessionFloodAsync);
        yield return Row("non-reading clients: 4 sinks that never read while a room is flooded", NonReadingClientsAsync);
        yield return Row("racing joins with disconnects: 10 rounds of 12 joins, half leaving at once", RacingJoinsAsync);
        yield return Row("WebSocket protocol errors: 300 connections, each a malformed frame", ProtocolErrorStormAsync);
        yield return Row("announced huge frames: 200 connections each announcing 2^40 bytes, then silence", HugeFrameHeadersAsync);
        yield return Row("upgrade races: 60 upgrades with a GET racing the '5'", UpgradeRacesAsync);
        yield return Row("non-canonical JSON: 400 events of numbers and duplicate keys to rewrite", NonCanonicalJsonFloodAsync);
        yield return Row("WebSocket versions: 300 handshakes with Sec-WebSocket-Version 8", WrongVersionFloodAsync);
    }

    private static TestCaseData Row(string name, Attack attack) => new TestCaseData(attack).SetName("Flood bounded: " + name);

    [TestCaseSource(nameof(Floods))]
    public async Task FloodStaysBounded(Attack attack)
    {
        await using var h = await HostileServer.StartAsync("--EngineIo:PingInterval=600", "--EngineIo:PingTimeout=600");
        var baseline = h.Counters();
        var (heap, rss) = Memory();
        await attack(h);
        await Eventually.UntilAsync(() => h.Counters() == baseline, TimeSpan.FromSeconds(20),
            $"sessions, sockets, rooms, timers and queued bytes back to {baseline} (now {h.Counters()})");
        var (heapAfter, rssAfter) = Memory();
        TestContext.Out.WriteLine($"managed heap {heap / 1024} KB -> {heapAfter / 1024} KB, RSS {rss / 1024} KB -> {rssAfter / 1024} KB");
        Assert.That(heapAfter - heap, Is.LessThan(HeapBound), "managed heap back within bound");
        Assert.That(rssAfter - rss, Is.LessThan(RssBound), "resident memory within bound");
        await h.FinishAsync();
    }

    private static (long Heap, long Rss) Memory()
    {
        long heap = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        return (heap, process.WorkingSet64);
    }

    private static async Task NamespaceFloodAsync(HostileServer h)
    {
        var client = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 4, "/");
        await using (client)
        {
            for (int i = 0; i < 2000; i++)
            {
                await client.SendAsync($"0/nsp-{i},");
            }
            // Each is refused (connect_error), nothing is kept; the client reads its answers until the last.
            while (!client.Closed)
            {
                var frame = await client.NextAsync();
                if (frame.Text?.StartsWith("4/nsp-1999,", StringComparison.Ordinal) == true)
                {
                    break;
                }
            }
        }
    }

    private static async Task RepeatedConnectAsync(HostileServer h)
    {
        for (int i = 0; i < 200; i++)
        {
            var client = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 4, "/");
            await using (client)
            {
                await client.SendAsync("0");
                await client.ExpectClosedAsync();
            }
        }
    }

    private static async Task AckIdFloodAsync(HostileServer h)
    {
        var client = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 4, "/");
        await using (client)
        {
            for (int i = 0; i < 1500; i++)
            {
                await client.SendAsync($"2{1_000_000_000L + i}[\"bye\",\"r\"]");
                await client.SendAsync($"3{i}[\"unsolicited\"]");
            }
            await client.SendAsync("2" + new string('9', 40) + "[\"bye\"]");
            await client.ExpectClosedAsync();
        }
    }

    private static async Task RoomsPerSocketAsync(HostileServer h)
    {
        var client = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 4, "/");
        await using (client)
        {
            for (int i = 0; i < 1500; i++)
            {
                await client.SendAsync($"2[\"create or join\",\"flood-room-{i}\"]");
            }
            var nsp = h.Server.Get<SocketIoServer>().Sockets;
            await Eventually.UntilAsync(() => nsp.Adapter.LocalRoomCount >= 1500, TaskTimeouts.Default, "1500 rooms created");
        }
    }

    private static async Task PollingSessionFloodAsync(HostileServer h)
    {
        for (int i = 0; i < 1000; i++)
        {
            await h.Raw.HandshakeAsync(i % 2 == 0 ? 3 : 4);
        }
        for (int i = 0; i < 200; i++)
        {
            int eio = i % 2 == 0 ? 3 : 4;
            var (sid, _) = await h.Raw.HandshakeAsync(eio);
            await using var tcp = await RawTcp.ConnectAsync(h.Port);
            await tcp.SendAsync($"GET /socket.io/?EIO={eio}&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\r\n");
            await Eventually.UntilAsync(() => h.Engine.TryGetSession(sid, out var s) && s!.HasPendingPoll, TaskTimeouts.Default, "the long-poll waits");
            tcp.Reset();
        }
    }

    private static async Task NonReadingClientsAsync(HostileServer h)
    {
        var sinks = new List<RawTcp>();
        var sids = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            var sink = await RawTcp.ConnectAsync(h.Port, receiveBuffer: 4096);
            sinks.Add(sink);
            Assert.That(await sink.UpgradeAsync("/socket.io/?EIO=4&transport=websocket"), Is.EqualTo(101));
            sids.Add(SidRegex().Match(await sink.ReadUntilAsync("}")).Groups[1].Value);
            await sink.SendFrameAsync(1, "40"u8.ToArray());
            await sink.SendFrameAsync(1, Encoding.UTF8.GetBytes($"42[\"create or join\",\"sinks-{i}\"]"));
        }
        var nsp = h.Server.Get<SocketIoServer>().Sockets;
        await Eventually.UntilAsync(() => Enumerable.Range(0, 4).All(i => nsp.Adapter.RoomSizeAsync($"sinks-{i}").Result == 1), TaskTimeouts.Default, "the sinks created their rooms");
        var flooder = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 4, "/");
        await using (flooder)
        {
            // In rooms mode a message goes to the sender's rooms: the flooder joins the room of every sink.
            for (int i = 0; i < 4; i++)
            {
                await flooder.SendAsync($"2[\"create or join\",\"sinks-{i}\"]");
            }
            await Eventually.UntilAsync(() => Enumerable.Range(0, 4).All(i => nsp.Adapter.RoomSizeAsync($"sinks-{i}").Result == 2), TaskTimeouts.Default, "the flooder joined");
            var big = new string('x', 20_000);
            for (int i = 0; i < 1500 && sids.Any(s => h.Engine.TryGetSession(s, out _)); i++)
            {
                await flooder.SendAsync($"2[\"message\",\"{big}\"]");
                // The flooder reads what comes back to it: only the sinks let their queues grow.
                await flooder.NextAsync();
            }
            await Eventually.UntilAsync(() => sids.All(s => !h.Engine.TryGetSession(s, out _)), TaskTimeouts.Default, "every sink dropped");
        }
        foreach (var sink in sinks)
        {
            await sink.DisposeAsync();
        }
    }

    private static async Task RacingJoinsAsync(HostileServer h)
    {
        var nsp = h.Server.Get<SocketIoServer>().Sockets;
        for (int round = 0; round < 10; round++)
        {
            var clients = new List<RawSocketIoClient>();
            for (int i = 0; i < 12; i++)
            {
                clients.Add(await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, i % 2 == 0 ? 4 : 3, "/"));
            }
            string room = $"race-{round}";
            await Task.WhenAll(clients.Select(async (c, i) =>
            {
                await c.SendAsync($"2[\"create or join\",\"{room}\"]");
                if (i % 2 == 0)
                {
                    await c.DisposeAsync();
                }
            }));
            await Eventually.UntilAsync(() => nsp.Adapter.RoomSizeAsync(room).Result <= 2, TaskTimeouts.Default, "never more than two members");
            var stayed = clients.Where((_, i) => i % 2 == 1).ToList();
            foreach (var c in stayed)
            {
                await c.DisposeAsync();
            }
            await Eventually.UntilAsync(() => nsp.Adapter.RoomSizeAsync(room).Result == 0, TaskTimeouts.Default, "no ghost member once all left");
        }
    }

    private static readonly byte[][] Malformed =
    [
        [0xa1, 0x80, 0, 0, 0, 0],
        [0x81, 0x02, 0x34, 0x34],
        [0x83, 0x80, 1, 2, 3, 4],
        [0x09, 0x80, 1, 2, 3, 4],
        [0x80, 0x80, 1, 2, 3, 4],
        [0x81, 0x82, 0, 0, 0, 0, 0x34, 0xff],
        [0x88, 0x81, 0, 0, 0, 0, 3],
    ];

    private static async Task ProtocolErrorStormAsync(HostileServer h)
    {
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async lane =>
        {
            for (int i = lane; i < 300; i += 4)
            {
                await using var tcp = await RawTcp.ConnectAsync(h.Port);
                Assert.That(await tcp.UpgradeAsync($"/socket.io/?EIO={(i % 2 == 0 ? 4 : 3)}&transport=websocket"), Is.EqualTo(101));
                await tcp.SendAsync(Malformed[i % Malformed.Length]);
                var (code, _) = await tcp.ReadCloseFrameAsync();
                Assert.That(code, Is.AnyOf(1002, 1007));
                Assert.That(await tcp.EndsWithFinAsync(), Is.True, "a FIN, not a reset");
            }
        }));
    }

    private static async Task HugeFrameHeadersAsync(HostileServer h)
    {
        var connections = new List<RawTcp>();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                var tcp = await RawTcp.ConnectAsync(h.Port);
                connections.Add(tcp);
                Assert.That(await tcp.UpgradeAsync("/socket.io/?EIO=4&transport=websocket"), Is.EqualTo(101));
                await tcp.SendAsync([0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
            }
            foreach (var tcp in connections)
            {
                Assert.That((await tcp.ReadCloseFrameAsync()).Code, Is.EqualTo(1009));
            }
        }
        finally
        {
            foreach (var tcp in connections)
            {
                await tcp.DisposeAsync();
            }
        }
    }

    private static async Task UpgradeRacesAsync(HostileServer h)
    {
        for (int i = 0; i < 60; i++)
        {
            int eio = i % 2 == 0 ? 3 : 4;
            var (sid, _) = await h.Raw.HandshakeAsync(eio);
            using var ws = await h.Raw.ConnectWebSocketAsync(eio, sid);
            await ws.SendTextAsync("2probe");
            Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3probe"));
            var get = h.Raw.GetTextAsync(h.Raw.Query(eio, "polling", sid));
            await ws.SendTextAsync("5");
            Assert.That((await get).Status, Is.EqualTo(System.Net.HttpStatusCode.BadRequest));
            await ws.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).Within();
        }
    }

    private static async Task NonCanonicalJsonFloodAsync(HostileServer h)
    {
        var a = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 4, "/");
        var b = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, 3, "/");
        await using (a)
        await using (b)
        {
            await a.SendAsync("2[\"create or join\",\"json-flood\"]");
            await b.SendAsync("2[\"create or join\",\"json-flood\"]");
            var nsp = h.Server.Get<SocketIoServer>().Sockets;
            await Eventually.UntilAsync(() => nsp.Adapter.RoomSizeAsync("json-flood").Result == 2, TaskTimeouts.Default, "both joined");
            var keys = string.Join(",", Enumerable.Range(0, 500).Select(i => $"\"{i % 50}\":1E{i % 30},\"k\":-0"));
            for (int i = 0; i < 400; i++)
            {
                await a.SendAsync($"2[\"message\",[{{{keys}}},1e400,{i}.0]]");
            }
            int relayed = 0;
            while (relayed < 400)
            {
                var text = (await b.NextAsync()).Text ?? "";
                if (text.StartsWith("2[\"message\"", StringComparison.Ordinal))
                {
                    Assert.That(text, Does.EndWith($",\"k\":0}},null,{relayed}]]"));
                    relayed++;
                }
            }
        }
    }

    private static async Task WrongVersionFloodAsync(HostileServer h)
    {
        for (int i = 0; i < 300; i++)
        {
            await using var tcp = await RawTcp.ConnectAsync(h.Port);
            await tcp.SendAsync("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
            Assert.That((await tcp.ReadResponseAsync()).Status, Is.EqualTo(426));
        }
    }

    [GeneratedRegex("\"sid\":\"([^\"]+)\"")]
    private static partial Regex SidRegex();
}
