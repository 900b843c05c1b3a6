using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Recovery;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests.Recovery;

/// <summary>
/// A server with connection state recovery on and the namespace <c>/rec</c> (away from the app's own handlers on
/// "/"), its sockets as they connect, and raw protocol 5 clients that drop and come back.
/// </summary>
internal sealed class RecoveryHost : IAsyncDisposable
{
    public const string Nsp = "/rec";

    private readonly Channel<SocketIoSocket> _next = Channel.CreateUnbounded<SocketIoSocket>();

    private RecoveryHost(TestServer server)
    {
        Server = server;
        Io = server.Get<SocketIoServer>();
        Namespace = Io.Of(Nsp);
        Namespace.OnConnection(s =>
        {
            All.Enqueue(s);
            _next.Writer.TryWrite(s);
        });
    }

    public TestServer Server { get; }

    public SocketIoServer Io { get; }

    public SocketIoNamespace Namespace { get; }

    public SessionStore Store => Namespace.Recovery ?? throw new InvalidOperationException("recovery is off");

    public ConcurrentQueue<SocketIoSocket> All { get; } = new();

    /// <summary>Starts a server; <paramref name="recovery"/> is the <c>SocketIo:ConnectionStateRecovery</c> settings (null: recovery off).</summary>
    public static async Task<RecoveryHost> StartAsync(IReadOnlyDictionary<string, string>? recovery, params string[] args)
    {
        var all = new List<string>(args);
        foreach (var (key, value) in recovery ?? new Dictionary<string, string>())
        {
            all.Add($"--SocketIo:ConnectionStateRecovery:{key}={value}");
        }
        return new RecoveryHost(await TestServer.StartAsync(all));
    }

    public static Task<RecoveryHost> StartAsync(int windowMs = 10_000) =>
        StartAsync(new Dictionary<string, string> { ["MaxDisconnectionDuration"] = windowMs.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public Task<SocketIoSocket> NextSocketAsync() => _next.Reader.ReadAsync().AsTask().Within();

    /// <summary>A protocol 5 client in /rec; its server socket; its pid from the CONNECT answer.</summary>
    public async Task<(RawSocketIoClient Client, SocketIoSocket Socket, string Pid)> ConnectAsync(string? auth = null)
    {
        var client = await RawSocketIoClient.ConnectAsync(Server.BaseUri, 4, Nsp, auth);
        var socket = await NextSocketAsync();
        Assert.That(client.ConnectAnswer, Does.StartWith("0" + Nsp + ","), "connected to " + Nsp);
        var answer = JsonNode.Parse(client.ConnectAnswer[(Nsp.Length + 2)..])!.AsObject();
        return (client, socket, answer["pid"]?.GetValue<string>() ?? "");
    }

    /// <summary>Drops a client's connection without a close handshake, and waits until the server has kept its session.</summary>
    public async Task DropAsync(RawSocketIoClient client, int keptAfter = 1)
    {
        await client.DisposeAsync();
        await Eventually.UntilAsync(() => Store.KeptSessions >= keptAfter, TaskTimeouts.Default, "the server kept the dropped socket's session");
    }

    /// <summary>A new connection that asks, in its CONNECT to /rec, for the session <paramref name="pid"/> from <paramref name="offset"/>.</summary>
    public async Task<RawSocketIoClient> ReconnectAsync(string pid, string offset)
    {
        var client = await RawSocketIoClient.OpenAsync(Server.BaseUri, 4);
        await client.SendAsync("0" + Nsp + "," + new JsonObject { ["pid"] = pid, ["offset"] = offset }.ToJsonString());
        return client;
    }

    /// <summary>The offset of an event: its last argument.</summary>
    public static string OffsetOf(RawSocketIoPacket packet) => packet.Args[^1]!.GetValue<string>();

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
