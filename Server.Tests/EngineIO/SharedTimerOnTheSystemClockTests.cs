using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>The shared timer on the system clock: it fires about once per due time, and does not spin before one.</summary>
[TestFixture]
public sealed class SharedTimerOnTheSystemClockTests
{
    [Test]
    public async Task TheSharedTimerFiresAboutOncePerDueTime()
    {
        await using var host = await EngineIoTestHost.StartAsync(services => services.GetRequiredService<SocketIoServer>(), o => o.WithPing(150, 5000));
        var engine = host.Engine;
        var raw = new EngineIoRaw(host.BaseUri);
        var sockets = new List<ClientWebSocket>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                var ws = await raw.ConnectWebSocketAsync(4);
                sockets.Add(ws);
                await ws.ReceiveTextAsync();
            }
            long before = engine.Timers.Firings;
            const int Pings = 3;
            await Task.WhenAll(sockets.Select(async ws =>
            {
                for (int p = 0; p < Pings; p++)
                {
                    Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("2"));
                    await ws.SendTextAsync("3");
                }
            })).Within();
            TestContext.Out.WriteLine($"firings: {engine.Timers.Firings - before}");
            // Each ping and each pong sets a due time (the pong deadline, then the next ping); stale ones may fire
            // the timer once more. A timer re-armed under a millisecond would fire hundreds of times per due time.
            Assert.That(engine.Timers.Firings - before, Is.LessThanOrEqualTo((long)sockets.Count * Pings * 3 + 20));
        }
        finally
        {
            foreach (var ws in sockets)
            {
                ws.Dispose();
            }
            raw.Dispose();
        }
    }
}
