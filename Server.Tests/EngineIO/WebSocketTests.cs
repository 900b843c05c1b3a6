using System.Net.WebSockets;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>Items 2, 3 and 6 over WebSocket: frames of both versions, size and fragment limits, a client that never reads.</summary>
[TestFixture]
public sealed class WebSocketTests
{
    private static async Task<(ClientWebSocket Ws, string Sid)> OpenAsync(EngineHarness h, int eio)
    {
        var ws = await h.Raw.ConnectWebSocketAsync(eio);
        var open = await ws.ReceiveTextAsync();
        return (ws, EngineIoRaw.SidOf(open));
    }

    private static async Task<WebSocketCloseStatus?> ReceiveCloseAsync(ClientWebSocket ws)
    {
        while (true)
        {
            var (type, _) = await ws.ReceiveMessageAsync();
            if (type == WebSocketMessageType.Close)
            {
                return ws.CloseStatus;
            }
        }
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task TextFramesCarryOnePacketEach(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (ws, _) = await OpenAsync(h, eio);
        using (ws)
        {
            foreach (var text in new[] { "hello", "€", "😀", "" })
            {
                await ws.SendTextAsync("4" + text);
                Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:" + text));
                Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4" + text));
            }
        }
        h.Host.AssertNoErrors();
    }

    [Test]
    public async Task V4BinaryFramesAreRaw()
    {
        await using var h = await EngineHarness.StartAsync();
        var (ws, _) = await OpenAsync(h, 4);
        using (ws)
        {
            await ws.SendBinaryAsync([1, 2, 3]);
            Assert.That(await h.Handler.NextAsync(), Is.EqualTo("binary:010203"));
            var (type, data) = await ws.ReceiveMessageAsync();
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Binary));
            Assert.That(data, Is.EqualTo(new byte[] { 1, 2, 3 }));
        }
    }

    [Test]
    public async Task V3BinaryFramesStartWithTheMessageTypeByte()
    {
        await using var h = await EngineHarness.StartAsync();
        var (ws, _) = await OpenAsync(h, 3);
        using (ws)
        {
            await ws.SendBinaryAsync([4, 1, 2, 3]);
            Assert.That(await h.Handler.NextAsync(), Is.EqualTo("binary:010203"));
            var (type, data) = await ws.ReceiveMessageAsync();
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Binary));
            Assert.That(data, Is.EqualTo(new byte[] { 4, 1, 2, 3 }));
        }
    }

    [Test]
    public async Task V3BinaryFrameWithoutTheTypeByteIsAParseError()
    {
        await using var h = await EngineHarness.StartAsync();
        var (ws, _) = await OpenAsync(h, 3);
        using (ws)
        {
            await ws.SendBinaryAsync([1, 2, 3]);
            Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ParseError));
            Assert.That(await h.Handler.NextAsync(), Is.EqualTo("close:ParseError"), "nothing was dispatched");
        }
    }

    [TestCase(3, "9")]
    [TestCase(4, "9")]
    [TestCase(4, "")]
    [TestCase(3, "0{}")]
    [TestCase(4, "5")]
    public async Task APacketTheClientMayNotSendIsAParseError(int eio, string frame)
    {
        await using var h = await EngineHarness.StartAsync();
        var (ws, _) = await OpenAsync(h, eio);
        using (ws)
        {
            await ws.SendTextAsync(frame);
            Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ParseError));
        }
        h.Host.AssertNoErrors();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task InvalidUtf8TextIsAProtocolClose(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (ws, _) = await OpenAsync(h, eio);
        using (ws)
        {
            await ws.SendAsync(new byte[] { 0x34, 0xC3, 0x28 }, WebSocketMessageType.Text, true, CancellationToken.None).Within();
            Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ParseError));
        }
        h.Host.AssertNoErrors();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AMessageOverMaxHttpBufferSizeIsClosedWith1009(int eio)
    {
        await using var h = await EngineHarness.StartAsync(o => o.MaxHttpBufferSize = 1000);
        var (ws, _) = await OpenAsync(h, eio);
        using (ws)
        {
            await ws.SendTextAsync("4" + new string('a', 999));
            Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:" + new string('a', 999)), "exactly the limit is fine");
            Assert.That(await ws.ReceiveTextAsync(), Has.Length.EqualTo(1000));
            await ws.SendTextAsync("4" + new string('a', 2000));
            Assert.That(await ReceiveCloseAsync(ws), Is.EqualTo(WebSocketCloseStatus.MessageTooBig));
            Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.MessageTooBig));
        }
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AFragmentedMessageOverTheLimitIsClosedBeforeItEnds(int eio)
    {
        await using var h = await EngineHarness.StartAsync(o => o.MaxHttpBufferSize = 1000);
        var (ws, _) = await OpenAsync(h, eio);
        using (ws)
        {
            await ws.SendAsync(Encoding.UTF8.GetBytes("4" + new string('a', 1500)), WebSocketMessageType.Text, false, CancellationToken.None).Within();
            Assert.That(await ReceiveCloseAsync(ws), Is.EqualTo(WebSocketCloseStatus.MessageTooBig));
            Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.MessageTooBig));
        }
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AFloodOfTinyFragmentsIsClosed(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (ws, _) = await OpenAsync(h, eio);
        using (ws)
        {
            await ws.SendAsync("4"u8.ToArray(), WebSocketMessageType.Text, false, CancellationToken.None).Within();
            try
            {
                for (int i = 0; i < EngineIoSession.MaxFragmentsPerMessage + 10; i++)
                {
                    await ws.SendAsync("a"u8.ToArray(), WebSocketMessageType.Text, false, CancellationToken.None).Within();
                }
            }
            catch (WebSocketException)
            {
                // The server may have closed before the last fragments.
            }
            Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.MessageTooBig));
            Assert.That(await ReceiveCloseAsync(ws), Is.EqualTo(WebSocketCloseStatus.MessageTooBig));
        }
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AClientThatNeverReadsIsDropped(int eio)
    {
        await using var h = await EngineHarness.StartAsync(o =>
        {
            o.MaxQueuedBytes = 200000;
            o.MaxHttpBufferSize = 100000;
        });
        var (ws, sid) = await OpenAsync(h, eio);
        var session = h.Session(sid);
        using (ws)
        {
            var message = Encoding.UTF8.GetBytes("4" + new string('q', 60_000));
            long maxQueued = 0;
            int sent = 0;
            try
            {
                // The server echoes everything; this client never reads, so the echoes pile up on the server.
                while (!h.Handler.FirstClose.IsCompleted && sent < 20_000)
                {
                    await ws.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None).Within();
                    sent++;
                    maxQueued = Math.Max(maxQueued, session.QueuedBytes);
                }
            }
            catch (WebSocketException)
            {
                // Dropped while sending.
            }
            Assert.That(await h.Handler.FirstClose.Within(TimeSpan.FromSeconds(20)), Is.EqualTo(CloseReason.SendBufferFull));
            Assert.That(maxQueued, Is.LessThanOrEqualTo(200_000));
            Assert.That(session.QueuedBytes, Is.Zero);
            Assert.That(h.Engine.SessionCount, Is.Zero);
        }
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AClosePacketFromTheClientEndsTheSession(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (ws, sid) = await OpenAsync(h, eio);
        using (ws)
        {
            await ws.SendTextAsync("1");
            Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.TransportClose));
            Assert.That(h.Engine.TryGetSession(sid, out _), Is.False);
        }
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task AServerCloseSendsWhatIsQueuedThenACloseThenTheCloseFrame(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (ws, sid) = await OpenAsync(h, eio);
        using (ws)
        {
            h.Session(sid).Send("bye");
            h.Session(sid).Close();
            Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4bye"));
            Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("1"));
            Assert.That(await ReceiveCloseAsync(ws), Is.EqualTo(WebSocketCloseStatus.NormalClosure));
            Assert.That(await h.Handler.FirstClose.Within(), Is.EqualTo(CloseReason.ForcedClose));
        }
    }
}
