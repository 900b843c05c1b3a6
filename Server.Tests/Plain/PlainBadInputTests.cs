using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Plain;
using SocketIoSignal.Tests.Hostile;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Plain;

/// <summary>
/// Bad plain frames: the offender alone is closed, with the code that names its fault (1007 not one JSON array,
/// 1003 an unknown event or a binary frame, 1009 too large) and a reason; the canary pair (Socket.IO) and a plain
/// peer talking to a Socket.IO one lose nothing, and the server logs no error.
/// </summary>
[TestFixture]
internal sealed class PlainBadInputTests
{
    private const int MaxMessage = 10_000;

    private static IEnumerable<TestCaseData> Offences()
    {
        static TestCaseData Text(string name, string frame, WebSocketCloseStatus status, string reason) =>
            new TestCaseData(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, status, reason).SetName("PlainOffence_" + name);

        yield return Text("NotJson", "hello", WebSocketCloseStatus.InvalidPayloadData, "a frame is one JSON array");
        yield return Text("AnObject", "{\"event\":\"message\"}", WebSocketCloseStatus.InvalidPayloadData, "a frame is one JSON array");
        yield return Text("EmptyArray", "[]", WebSocketCloseStatus.InvalidPayloadData, "the array starts with the event name");
        yield return Text("NumberAsName", "[1,\"foo\"]", WebSocketCloseStatus.InvalidPayloadData, "the array starts with the event name");
        yield return Text("TrailingGarbage", "[\"message\",1] [2]", WebSocketCloseStatus.InvalidPayloadData, "not valid JSON");
        yield return Text("TooDeep", "[\"message\"," + new string('[', 100) + new string(']', 100) + "]", WebSocketCloseStatus.InvalidPayloadData, "nested too deep");
        yield return Text("UnknownEvent", "[\"shutdown\",\"now\"]", WebSocketCloseStatus.InvalidMessageType, "unknown event \"shutdown\"");
        yield return Text("ReservedEvent", "[\"disconnect\"]", WebSocketCloseStatus.InvalidMessageType, "unknown event \"disconnect\"");
        yield return Text("TooLarge", "[\"message\",\"" + new string('x', MaxMessage) + "\"]", WebSocketCloseStatus.MessageTooBig, "");
        yield return new TestCaseData(new byte[] { 0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d }, WebSocketMessageType.Text, WebSocketCloseStatus.InvalidPayloadData, "")
            .SetName("PlainOffence_InvalidUtf8");
        yield return new TestCaseData(Encoding.UTF8.GetBytes("[\"message\",\"hi\"]"), WebSocketMessageType.Binary, WebSocketCloseStatus.InvalidMessageType, "binary frames are not part of this protocol")
            .SetName("PlainOffence_Binary");
    }

    [TestCaseSource(nameof(Offences))]
    public async Task TheOffenderAloneIsClosedWithACodeAndAReason(byte[] frame, WebSocketMessageType type, WebSocketCloseStatus expected, string reasonPart)
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms", "--EngineIo:MaxHttpBufferSize", MaxMessage.ToString()]);
        await using var canary = await Canary.StartAsync(server);
        await using var plainPeer = await PlainClient.ConnectAsync(server.BaseUri);
        await using var sioPeer = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        await plainPeer.EmitAsync("create or join", "bystanders");
        await plainPeer.WaitForAsync("created");
        await sioPeer.EmitAsync("create or join", "bystanders");
        await sioPeer.WaitForAsync("joined");

        await using var offender = await PlainClient.ConnectAsync(server.BaseUri);
        await offender.EmitAsync("create or join", "bystanders");
        await offender.WaitForAsync("full");
        await offender.SendAsync(frame, type);
        var (status, reason) = await offender.ExpectClosedAsync();
        TestContext.Out.WriteLine($"closed: {(int?)status} {reason}");
        Assert.That(status, Is.EqualTo(expected));
        Assert.That(reason, Is.Not.Empty, "the close says why");
        Assert.That(reason, Does.Contain(reasonPart));
        Assert.That(Encoding.UTF8.GetByteCount(reason!), Is.LessThanOrEqualTo(123));

        // Nothing else affected: the canary goes on, the plain peer and its Socket.IO peer still signal each other.
        await canary.AssertAliveAsync();
        await plainPeer.EmitAsync("message", "still here");
        // (Rooms mode keeps events for connection state recovery: the Socket.IO peer's carry an offset after the message.)
        Assert.That((await sioPeer.WaitForAsync("message")).Args[0]!.ToJsonString(), Is.EqualTo("\"still here\""));
        await sioPeer.EmitAsync("message", new JsonObject { ["ok"] = true });
        Assert.That((await plainPeer.WaitForAsync("message")).ToJsonString(), Is.EqualTo("[\"message\",{\"ok\":true}]"));
        await canary.StopAsync();
        Assert.That(server.Get<PlainWebSocketEndpoint>().ProtocolErrors, Is.EqualTo(1));
        await Eventually.UntilAsync(() => server.Get<PlainWebSocketEndpoint>().Count == 1, TimeSpan.FromSeconds(10), "the offender's connection is gone");
        server.AssertNoErrors();
    }

    [Test]
    public async Task AClientThatDoesNotReadIsDroppedAtMaxQueuedBytes()
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms", "--EngineIo:MaxQueuedBytes", "300000"]);
        await using var canary = await Canary.StartAsync(server);
        // A raw TCP client that completes the handshake and never reads: the server's queue towards it grows.
        using var tcp = new System.Net.Sockets.TcpClient();
        tcp.ReceiveBufferSize = 1024;
        await tcp.ConnectAsync("127.0.0.1", server.Port).Within();
        var stream = tcp.GetStream();
        var request = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request)).AsTask().Within();
        // It joins room "silent" (one masked text frame; a zero mask key leaves the payload as it is).
        var join = Encoding.UTF8.GetBytes("[\"create or join\",\"silent\"]");
        await stream.WriteAsync((byte[])[0x81, (byte)(0x80 | join.Length), 0, 0, 0, 0, .. join]).AsTask().Within();
        await Eventually.UntilAsync(() => server.Get<PlainWebSocketEndpoint>().Count == 1, TimeSpan.FromSeconds(10), "the silent client is connected");
        await using var sender = await PlainClient.ConnectAsync(server.BaseUri);
        await sender.EmitAsync("create or join", "silent");
        // Created or joined, whichever came first: the two are in the room once "ready" comes.
        await sender.WaitForAsync("ready");
        // Loopback TCP buffers take megabytes before the server's queue grows at all.
        var big = new string('m', 60_000);
        for (int i = 0; i < 1000 && server.Get<PlainWebSocketEndpoint>().Count > 1; i++)
        {
            await sender.EmitAsync("message", big);
            // The sender reads its own echo (the log of what it said) before the next: only the silent one lags.
            await sender.WaitForAsync("log");
        }
        await Eventually.UntilAsync(() => server.Get<PlainWebSocketEndpoint>().Count == 1, TimeSpan.FromSeconds(10), "the client that does not read is dropped");
        await canary.AssertAliveAsync();
        await canary.StopAsync();
        server.AssertNoErrors();
    }
}
