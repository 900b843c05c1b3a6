using System.Net;
using System.Net.WebSockets;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>
/// ShutdownAsync (run on ApplicationStopping, while Kestrel still accepts): no new session starts on a server that
/// is going away, and a session caught between "3probe" and "5" still gets its close packet.
/// </summary>
[TestFixture]
public sealed class ShutdownTests
{
    [TestCase(3)]
    [TestCase(4)]
    public async Task AnUpgradeAnsweredBeforeTheShutdownCompletesAndDeliversTheCloseOnTheWebSocket(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (sid, _) = await h.Raw.HandshakeAsync(eio);
        var pending = h.Raw.GetTextAsync(h.Poll(eio, sid));
        using var ws = await h.Raw.ConnectWebSocketAsync(eio, sid);
        await ws.SendTextAsync("2probe");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("3probe"));
        await pending.Within();
        // The client has paused polling: it sends no GET that could fetch the close packet.
        var shutdown = h.Engine.ShutdownAsync(TimeSpan.FromSeconds(10));
        Assert.ThrowsAsync<HttpRequestException>(() => h.Raw.GetTextAsync(h.Raw.Query(eio, "polling")),
            "a handshake during the shutdown gets its connection dropped, as by a server no longer listening: the client retries and reaches the next server");
        await ws.SendTextAsync("5");
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("1"), "the close packet, on the WebSocket");
        var (type, _) = await ws.ReceiveMessageAsync();
        Assert.That(type, Is.EqualTo(WebSocketMessageType.Close));
        await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await shutdown.Within(TimeSpan.FromSeconds(5));
        Assert.That(h.Handler.Closed[sid], Is.EqualTo(CloseReason.ServerShuttingDown));
        Assert.That(h.Engine.SessionCount, Is.Zero);
        h.Host.AssertNoErrors();
    }
}
