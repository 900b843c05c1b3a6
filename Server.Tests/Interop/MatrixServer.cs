using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Protocol;
using SocketIoSignal.Tests.Infrastructure;
using DisconnectReason = SocketIoSignal.SocketIO.DisconnectReason;

namespace SocketIoSignal.Tests.Interop;

/// <summary>
/// The server side of the interop matrix: the test namespaces "/matrix" and "/matrix-ns" that
/// Server.Tests/node/matrix.js, the browser page and the .NET matrix drive, plus a "fence" (an ack that
/// proves everything sent before it arrived) on "/" next to the mode's own signaling handlers.
/// </summary>
public sealed class MatrixServer
{
    /// <summary>
    /// Heartbeats short enough for the idle feature to see several in ~1.5 s (a heartbeat every 300 ms), with a
    /// pingTimeout that a loaded machine (the full suite on two cores) cannot miss: the idle feature counts the
    /// heartbeats themselves, so a generous timeout proves as much as a tight one.
    /// </summary>
    public static readonly string[] ShortHeartbeats = ["--EngineIo:PingInterval=300", "--EngineIo:PingTimeout=2000"];

    private MatrixServer(TestServer server)
    {
        Server = server;
        var io = server.Get<SocketIoServer>();
        io.OnConnection(s => s.On("fence", e => e.Ack()));
        io.Of("/matrix").OnConnection(OnMatrixConnection);
        io.Of("/matrix-ns").OnConnection(s =>
        {
            s.Emit("ns-welcome", Describe(s));
            s.On("echo", e => s.Emit("echo-back", ["/matrix-ns", .. e.Args]));
        });
    }

    public TestServer Server { get; }

    public string Url => Server.Url;

    /// <summary>Every /matrix socket that connected, in order.</summary>
    public ConcurrentQueue<SocketIoSocket> Sockets { get; } = new();

    /// <summary>Why /matrix sockets left, in order.</summary>
    public ConcurrentQueue<DisconnectReason> Disconnects { get; } = new();

    public static async Task<MatrixServer> StartAsync(IEnumerable<string>? args = null) =>
        new(await TestServer.StartAsync([.. ShortHeartbeats, .. args ?? []]));

    /// <summary>Stops this server and starts a new one, same arguments and handlers, on the same port.</summary>
    public static async Task<MatrixServer> RestartAsync(MatrixServer old, IEnumerable<string>? args = null)
    {
        int port = old.Server.Port;
        await old.Server.DisposeAsync();
        // TestServer puts "--port 0" first; later command-line values win
        return await StartAsync([.. args ?? [], "--port", port.ToString(CultureInfo.InvariantCulture)]);
    }

    /// <summary>What a socket is, as the server sees it: sent in "welcome", "ns-welcome" and the "whoami" ack.</summary>
    private static JsonObject Describe(SocketIoSocket s) => new()
    {
        ["id"] = s.Id,
        ["sid"] = s.Client.Session.Id,
        ["protocol"] = s.Protocol,
        ["nsp"] = s.Namespace.Name,
        ["transport"] = s.Client.Session.Transport.ToString(),
    };

    private void OnMatrixConnection(SocketIoSocket s)
    {
        Sockets.Enqueue(s);
        s.OnDisconnect(Disconnects.Enqueue);
        s.Emit("welcome", Describe(s));
        s.On("whoami", e => e.Ack(Describe(s)));
        s.On("fence", e => e.Ack());
        s.On("echo", e => s.Emit("echo-back", [.. e.Args]));
        s.On("push-me", e =>
        {
            int n = e.Arg(0)?.GetValue<int>() ?? 0;
            s.Emit("pushed", [.. Enumerable.Range(0, n).Select(i => (object?)i)]);
        });
        s.On("ack-me", e => e.Ack([.. e.Args]));
        s.On("ask-client", async _ =>
        {
            var answer = await s.EmitWithAckAsync("question", TimeSpan.FromSeconds(5), "why?", 7);
            s.Emit("answer-was", [.. answer]);
        });
        s.On("upload", e =>
        {
            SocketIoBinary.TryGet(e.Arg(0), out var top);
            var nestedNode = (e.Arg(1) as JsonObject)?["nested"];
            SocketIoBinary.TryGet(nestedNode, out var nested);
            string label = (e.Arg(1) as JsonObject)?["label"]?.GetValue<string>() ?? "?";
            e.Ack(top.Length, nested.Length, label);
            var reversed = top.ToArray();
            Array.Reverse(reversed);
            var nestedReversed = nested.ToArray();
            Array.Reverse(nestedReversed);
            s.Emit("download", reversed, new JsonObject { ["nested"] = SocketIoBinary.ToNode(nestedReversed) }, "name");
        });
        s.On("ask-binary", async _ =>
        {
            var answer = await s.EmitWithAckAsync("bin-question", TimeSpan.FromSeconds(5), new byte[] { 1, 2 });
            s.Emit("bin-answer-was", [.. answer]);
        });
        s.On("join", e =>
        {
            string room = e.Arg(0)?.GetValue<string>() ?? "";
            s.Join(room);
            e.Ack("joined", room);
        });
        s.On("to-room", e =>
        {
            string room = e.Arg(0)?.GetValue<string>() ?? "";
            s.To(room).Emit("room-event", e.Arg(1)?.DeepClone(), s.Id);
            s.Namespace.To(room).Emit("room-all", room, e.Arg(1)?.DeepClone());
            e.Ack("sent");
        });
        s.On("kick", _ => s.Disconnect());
    }

    /// <summary>What is wrong on the server side: errors logged, and anything but exactly one server disconnect
    /// (the kick) when <paramref name="kickExpected"/>.</summary>
    public IEnumerable<string> Problems(bool kickExpected)
    {
        int kicks = Disconnects.Count(r => r == DisconnectReason.ServerNamespaceDisconnect);
        if (kickExpected && kicks != 1)
        {
            yield return $"the server disconnected {kicks} /matrix sockets itself (expected 1: the kick)";
        }
        foreach (var error in Server.Logs.Errors)
        {
            yield return "server error: " + error;
        }
    }
}
