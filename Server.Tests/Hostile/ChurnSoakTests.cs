using System.Net;
using System.Net.WebSockets;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>
/// Churn: 2,000 clients (EIO 3 and 4, raw WebSocket and raw polling) connect, join, message and leave at random,
/// 100 at a time; afterwards the server's own counters are back where they started and so is the managed heap.
/// <c>SOAK_MINUTES=60 dotnet test Server.Tests --filter Soak</c> repeats the rounds for an hour.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.None)]
public sealed class ChurnSoakTests
{
    private const int Clients = 2000;
    private const int Concurrency = 100;

    [Test]
    public async Task ChurnSoakReturnsEveryCounterToZero()
    {
        await using var h = await HostileServer.StartAsync("--EngineIo:PingInterval=1000", "--EngineIo:PingTimeout=1000", "--SocketIo:ConnectTimeout=2000");
        var soak = TimeSpan.FromMinutes(double.TryParse(Environment.GetEnvironmentVariable("SOAK_MINUTES"), out var m) ? m : 0);
        var baseline = h.Counters();
        // One warm-up round so JIT, pools and caches exist before the heap is measured.
        await RoundAsync(h, 200, seed: 1);
        await Eventually.UntilAsync(() => Same(h.Counters(), baseline), TaskTimeouts.Default, "back to the baseline after the warm-up");
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var started = DateTime.UtcNow;
        int rounds = 0;
        do
        {
            await RoundAsync(h, Clients, seed: 100 + rounds);
            rounds++;
        }
        while (DateTime.UtcNow - started < soak);
        var elapsed = DateTime.UtcNow - started;
        await Eventually.UntilAsync(() => Same(h.Counters(), baseline), TimeSpan.FromSeconds(20), "sessions, sockets, rooms, timers, queues back to zero");
        long after = GC.GetTotalMemory(forceFullCollection: true);
        TestContext.Progress.WriteLine($"churn: {rounds} round(s) of {Clients} clients in {elapsed.TotalSeconds:F1} s; managed heap {before / 1e6:F1} MB → {after / 1e6:F1} MB; counters {h.Counters()}");
        Assert.That(after - before, Is.LessThan(10_000_000), "managed memory back within 10 MB");
        await h.FinishAsync();
    }

    /// <summary>Queued bytes may be in flight for the canary; everything else must match exactly.</summary>
    private static bool Same((long Sessions, long Sockets, long Rooms, long Timers, long Queued) now, (long Sessions, long Sockets, long Rooms, long Timers, long Queued) baseline) =>
        now.Sessions == baseline.Sessions && now.Sockets == baseline.Sockets && now.Rooms == baseline.Rooms && now.Timers == baseline.Timers && now.Queued < 65536;

    private static async Task RoundAsync(HostileServer h, int clients, int seed)
    {
        using var gate = new SemaphoreSlim(Concurrency);
        var tasks = new List<Task>(clients);
        for (int i = 0; i < clients; i++)
        {
            await gate.WaitAsync().Within(TimeSpan.FromSeconds(30));
            var rng = new Random(seed * 100_000 + i);
            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    if (rng.Next(3) == 0)
                    {
                        await PollingClientAsync(h, rng);
                    }
                    else
                    {
                        await WebSocketClientAsync(h, rng);
                    }
                }
                finally
                {
                    gate.Release();
                }
            }));
        }
        await Task.WhenAll(tasks).Within(TimeSpan.FromSeconds(120));
    }

    private static async Task WebSocketClientAsync(HostileServer h, Random rng)
    {
        int eio = rng.Next(2) == 0 ? 3 : 4;
        var client = await RawSocketIoClient.ConnectAsync(h.Server.BaseUri, eio, "/");
        try
        {
            string room = "churn-" + rng.Next(300);
            if (rng.Next(4) != 0)
            {
                await client.SendAsync($"2[\"create or join\",\"{room}\"]");
            }
            for (int i = rng.Next(4); i > 0; i--)
            {
                await client.SendAsync($"2[\"message\",\"m{i}\"]");
            }
            switch (rng.Next(3))
            {
                case 0:
                    await client.SendRawAsync("1");   // Engine.IO close
                    break;
                case 1:
                    await client.SendAsync("1");      // Socket.IO disconnect, then the connection goes
                    break;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or AssertionException or ObjectDisposedException)
        {
            // The server may close first (e.g. a room's "bye" racing a close): churn, not a failure.
        }
        finally
        {
            await client.DisposeAsync();              // abort: the connection simply drops
        }
    }

    private static async Task PollingClientAsync(HostileServer h, Random rng)
    {
        int eio = rng.Next(2) == 0 ? 3 : 4;
        var raw = h.Raw;
        var (sid, _) = await raw.HandshakeAsync(eio);
        string Frame(string packet) => eio == 4 ? packet : $"{packet.Length}:{packet}";
        var packets = new List<string>();
        if (eio == 4)
        {
            packets.Add("40");
        }
        packets.Add($"42[\"create or join\",\"churn-{rng.Next(300)}\"]");
        packets.Add("42[\"message\",\"p\"]");
        string body = eio == 4 ? string.Join('\u001e', packets) : string.Concat(packets.Select(Frame));
        var (status, _) = await raw.PostTextAsync(raw.Query(eio, "polling", sid), body);
        Assert.That((int)status, Is.LessThan(500));
        var (getStatus, _) = await raw.GetTextAsync(raw.Query(eio, "polling", sid));
        Assert.That((int)getStatus, Is.LessThan(500));
        if (rng.Next(2) == 0)
        {
            var (closeStatus, _) = await raw.PostTextAsync(raw.Query(eio, "polling", sid), Frame("1"));
            Assert.That((int)closeStatus, Is.LessThan(500));
        }
        // else: abandoned; the heartbeat (1 s + 1 s here) ends it.
    }
}
