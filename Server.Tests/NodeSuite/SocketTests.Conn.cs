using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>socket.ts, the cases that go through the Engine.IO connection (<c>socket.Conn</c>).</summary>
public sealed partial class SocketTests : NodeSuiteFixture
{
    [Test(Description = "should have access to the connection")]
    public async Task ShouldHaveAccessToTheConnection()
    {
        var server = await StartAsync();
        var connections = server.Connections();
        var client = await ClientAsync(server);
        var clientId = await client.ConnectedAsync();
        var socket = await connections.NextAsync();
        // Node checks that the object is there; here it is the connection the client opened
        Assert.That(socket.Conn, Is.Not.Null);
        Assert.That(socket.Conn.ReadyState, Is.EqualTo("open"));
        Assert.That(socket.Conn.Protocol, Is.EqualTo(4));
        Assert.That(socket.Id, Is.EqualTo(clientId));
    }

    [Test(Description = "should enable compression by default")]
    public async Task ShouldEnableCompressionByDefault()
    {
        var packet = await FirstPacketCreatedAsync("/", (_, s) => s.Emit("woot", "hi"));
        Assert.That(packet.Text, Is.EqualTo("2[\"woot\",\"hi\"]"));
        Assert.That(packet.Compress, Is.True);
    }

    [Test(Description = "should disable compression")]
    public async Task ShouldDisableCompression()
    {
        var packet = await FirstPacketCreatedAsync("/", (_, s) => s.Compress(false).Emit("woot", "hi"));
        Assert.That(packet.Text, Is.EqualTo("2[\"woot\",\"hi\"]"));
        Assert.That(packet.Compress, Is.False);
    }

    /// <summary>
    /// The raw-frame cases: once the client has upgraded, it writes <paramref name="frame"/> below Socket.IO. Returns
    /// the errors the socket's error handlers got and how the client's connection ended.
    /// </summary>
    private async Task<(List<Exception> Errors, string Disconnect)> SendRawAfterUpgradeAsync(SuiteServer server, string frame)
    {
        var errors = new List<Exception>();
        var upgraded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Io.OnConnection(s =>
        {
            s.OnError(e =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            });
            s.Conn.OnUpgrade(_ => upgraded.TrySetResult());
        });
        var client = await ClientAsync(server, "/", new { reconnection = false });
        await upgraded.Task.Within();
        await client.EngineSendAsync(frame);
        var reason = await client.DisconnectedAsync();
        lock (errors)
        {
            return ([.. errors], reason);
        }
    }

    /// <summary>The server goes on: a new client connects and gets an answer.</summary>
    private async Task AssertServerStillServesAsync(SuiteServer server)
    {
        var other = await ClientAsync(server, "/", new { forceNew = true });
        await other.ConnectedAsync();
    }

    [Test(Description = "should error with raw binary and warn")]
    public async Task ShouldErrorWithRawBinaryAndWarn()
    {
        var server = await StartAsync();
        var (_, reason) = await SendRawAfterUpgradeAsync(server, "5woooot");
        // Node logs a warning and closes that connection; here it is counted as a protocol error, and closed
        Assert.That(reason, Is.EqualTo("transport close"));
        await AssertServerStillServesAsync(server);
    }

    [Test(Description = "should not crash when receiving an error packet without handler")]
    public async Task ShouldNotCrashWhenReceivingAnErrorPacketWithoutHandler()
    {
        var server = await StartAsync();
        // Node ignores a CONNECT_ERROR from a client; here no client may send one, so its connection alone is
        // closed (a protocol error): no crash, no error handler needed
        var (errors, reason) = await SendRawAfterUpgradeAsync(server, "44[\"handle me please\"]");
        Assert.That(reason, Is.EqualTo("transport close"));
        Assert.That(errors.Select(e => e.Message), Is.EqualTo(new[] { "Invalid payload" }));
        await AssertServerStillServesAsync(server);
    }

    [Test(Description = "should not crash with raw binary")]
    public async Task ShouldNotCrashWithRawBinary()
    {
        var server = await StartAsync();
        var (errors, _) = await SendRawAfterUpgradeAsync(server, "5woooot");
        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Is.InstanceOf<InvalidDataException>());
        Assert.That(errors[0].Message, Does.Match("Illegal attachments"));
        await AssertServerStillServesAsync(server);
    }

    [Test(Description = "should handle empty binary packet")]
    public async Task ShouldHandleEmptyBinaryPacket()
    {
        var server = await StartAsync();
        var (errors, _) = await SendRawAfterUpgradeAsync(server, "5");
        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0].Message, Does.Match("Illegal attachments"));
        await AssertServerStillServesAsync(server);
    }
}
