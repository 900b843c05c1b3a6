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
using SocketIoSignal.Tests.SocketIOTests.Recovery;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>
/// A real server under attack: the test's hostile clients, plus a <see cref="Canary"/> pair that must keep talking
/// throughout. <see cref="FinishAsync"/> asserts the guarantees every hostile test shares: the canary lost nothing,
/// the server logged no error, answered no 5xx and let no exception escape.
/// </summary>
internal sealed class HostileServer : IAsyncDisposable
{
    private HostileServer(TestServer server, ServerErrorWatch watch, Canary canary)
    {
        Server = server;
        Watch = watch;
        Canary = canary;
        Raw = new EngineIoRaw(server.BaseUri);
    }

    public TestServer Server { get; }

    public ServerErrorWatch Watch { get; }

    public Canary Canary { get; }

    public EngineIoRaw Raw { get; }

    public EngineIoServer Engine => Server.Get<EngineIoServer>();

    public int Port => Server.Port;

    public static async Task<HostileServer> StartAsync(params string[] args)
    {
        var watch = new ServerErrorWatch();
        // Rooms mode: the canary's messages stay in its room (codelab mode would copy them to every hostile client).
        var all = new List<string> { "--EngineIo:CloseTimeout=500", "--mode", "rooms", RecoveryArgs.Off };
        all.AddRange(args);
        var server = await TestServer.StartAsync(all, b => b.Services.AddSingleton<IStartupFilter>(watch));
        var canary = await Canary.StartAsync(server);
        return new HostileServer(server, watch, canary);
    }

    /// <summary>The shared guarantees; call at the end of the test (after the attack).</summary>
    public async Task FinishAsync()
    {
        await Canary.AssertAliveAsync();
        await Canary.StopAsync();
        Assert.That(Watch.Failures, Is.Empty, "5xx or unhandled exceptions");
        Server.AssertNoErrors();
    }

    /// <summary>Sessions, sockets, rooms, timers and queued bytes of the server, as its own counters say.</summary>
    public (long Sessions, long Sockets, long Rooms, long Timers, long Queued) Counters()
    {
        var io = Server.Get<SocketIoServer>();
        long rooms = io.Namespaces.Sum(n => (long)n.Adapter.LocalRoomCount);
        long timers = Engine.Metrics.Timers.Live + io.Metrics.Timers.Live;
        long queued = Engine.Sessions.Sum(s => s.QueuedBytes);
        return (Math.Max(Engine.SessionCount, Engine.Metrics.ActiveSessions), io.Metrics.ConnectedSockets, rooms, timers, queued);
    }

    public async ValueTask DisposeAsync()
    {
        await Canary.DisposeAsync();
        Raw.Dispose();
        await Server.DisposeAsync();
    }
}
