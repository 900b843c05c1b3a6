using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>
/// Two raw clients (protocol 4 over EIO 4, protocol 4 over EIO 3) in room "canary" that ping-pong numbered
/// <c>message</c> events in the background; every number must come back, in order, without a timeout.
/// </summary>
public sealed class Canary : IAsyncDisposable
{
    private readonly RawSocketIoClient _a;
    private readonly RawSocketIoClient _b;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<int> _completed = [];
    private readonly string _tag = "canary-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4));
    private Task? _loop;
    private string? _failure;

    private Canary(RawSocketIoClient a, RawSocketIoClient b)
    {
        _a = a;
        _b = b;
    }

    public int Completed
    {
        get
        {
            lock (_completed)
            {
                return _completed.Count;
            }
        }
    }

    public static async Task<Canary> StartAsync(TestServer server)
    {
        var a = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4, "/");
        var b = await RawSocketIoClient.ConnectAsync(server.BaseUri, 3, "/");
        var canary = new Canary(a, b);
        await a.SendAsync("2[\"create or join\",\"canary\"]");
        await ExpectEventAsync(a, "created");
        await b.SendAsync("2[\"create or join\",\"canary\"]");
        await ExpectEventAsync(b, "joined");
        canary._loop = Task.Run(canary.LoopAsync);
        return canary;
    }

    /// <summary>Waits (bounded) for the next event of this name, skipping everything else (logs, others' messages).</summary>
    private static async Task ExpectEventAsync(RawSocketIoClient client, string name, string? arg = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"canary: no {name} {arg}");
            }
            var packet = await client.NextAsync(left);
            if (packet.Namespace != "/" || packet.Name != name)
            {
                continue;
            }
            if (arg is not null && !(packet.Args is [JsonValue first, ..] && first.GetValueKind() == JsonValueKind.String && first.GetValue<string>() == arg))
            {
                continue;
            }
            return;
        }
    }

    private async Task LoopAsync()
    {
        var lastPing = DateTime.UtcNow;
        try
        {
            for (int n = 1; !_stop.IsCancellationRequested; n++)
            {
                await _a.SendAsync($"2[\"message\",\"{_tag}:{n}\"]");
                await ExpectEventAsync(_b, "message", $"{_tag}:{n}");
                await _b.SendAsync($"2[\"message\",\"{_tag}-back:{n}\"]");
                await ExpectEventAsync(_a, "message", $"{_tag}-back:{n}");
                lock (_completed)
                {
                    _completed.Add(n);
                }
                if (DateTime.UtcNow - lastPing > TimeSpan.FromMilliseconds(100))
                {
                    // The EIO 3 client pings (the server answers); short heartbeat settings must not drop it.
                    await _b.SendRawAsync("2");
                    lastPing = DateTime.UtcNow;
                }
                // Pacing, not waiting for a condition: keep the canary light on two cores.
                await Task.Delay(10);
            }
        }
        catch (Exception ex) when (!_stop.IsCancellationRequested)
        {
            _failure = ex.GetType().Name + ": " + ex.Message;
        }
        catch (Exception)
        {
            // Stopped mid-round: the round in flight is not counted.
        }
    }

    /// <summary>At least <paramref name="rounds"/> more round trips complete (bounded): the canary still talks now.</summary>
    public async Task AssertAliveAsync(int rounds = 3)
    {
        int target = Completed + rounds;
        await Eventually.UntilAsync(() => Completed >= target || _failure is not null || _loop!.IsCompleted, TimeSpan.FromSeconds(10), "the canary stalled");
        Assert.That(_failure, Is.Null, "the canary failed");
        Assert.That(Completed, Is.GreaterThanOrEqualTo(target), "the canary stopped");
    }

    public async Task StopAsync()
    {
        _stop.Cancel();
        await _loop!.Within();
        Assert.That(_failure, Is.Null, "the canary failed");
        int[] done;
        lock (_completed)
        {
            done = [.. _completed];
        }
        Assert.That(done, Is.EqualTo(Enumerable.Range(1, done.Length)), "canary numbers in order, none lost");
        Assert.That(done, Is.Not.Empty);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        if (_loop is not null)
        {
            await Task.WhenAny(_loop, Task.Delay(5000));
        }
    }
}
