using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.NodeSuite.Support;

/// <summary>
/// The base of every fixture of the Node suite: one Node driver (socket.io-client 4.8.1) for the whole fixture,
/// its clients closed after each test; each test starts its own server (<see cref="StartAsync"/>), as the Node
/// tests do (a start takes milliseconds), and it is stopped after the test.
/// </summary>
[NonParallelizable]
public abstract class NodeSuiteFixture
{
    private readonly List<SuiteServer> _servers = [];

    /// <summary>The clients of this fixture.</summary>
    protected NodeClients Clients { get; private set; } = null!;

    [OneTimeSetUp]
    public void StartDriver() => Clients = NodeClients.Start();

    [OneTimeTearDown]
    public async Task StopDriverAsync() => await Clients.DisposeAsync();

    [TearDown]
    public async Task CloseAsync()
    {
        // the servers first: stopped under connected clients, they close every session at once (clients closed
        // first can leave a half-closed transport that holds the stop for seconds)
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
        await Clients.CloseAllAsync();
        Clients.ClearEvents();
        _servers.Clear();
    }

    /// <summary>A server for this test (stopped after it).</summary>
    protected async Task<SuiteServer> StartAsync(Action<SocketIoSignal.SocketIO.SocketIoOptions>? socketIo = null, Action<SocketIoSignal.EngineIO.EngineIoOptions>? engineIo = null, int port = 0)
    {
        var server = await SuiteServer.StartAsync(socketIo, engineIo, port);
        _servers.Add(server);
        return server;
    }

    /// <summary>A client of <paramref name="server"/> on namespace <paramref name="nsp"/> (Node's <c>createClient(io, nsp, opts)</c>).</summary>
    protected Task<NodeClient> ClientAsync(SuiteServer server, string nsp = "/", object? opts = null, IReadOnlyDictionary<string, object?[]>? respond = null) =>
        Clients.ConnectAsync(server.Url + nsp, opts, respond);

    /// <summary>
    /// The first packet created for the client of <paramref name="nsp"/> after <paramref name="emit"/> ran in its
    /// connection handler, once the client got the "woot" event emitted there (the compression cases).
    /// </summary>
    protected async Task<SocketIoSignal.EngineIO.EnginePacket> FirstPacketCreatedAsync(string nsp,
        Action<SocketIoSignal.SocketIO.SocketIoNamespace, SocketIoSignal.SocketIO.SocketIoSocket> emit)
    {
        var server = await StartAsync();
        var space = server.Io.Of(nsp);
        var created = new TaskCompletionSource<SocketIoSignal.EngineIO.EnginePacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        space.OnConnection(s =>
        {
            s.Conn.OnPacketCreate(p => created.TrySetResult(p));
            emit(space, s);
        });
        var client = await ClientAsync(server, nsp);
        var packet = await created.Task.Within();
        await client.WaitForAsync("woot");
        return packet;
    }

    /// <summary>Acknowledgements a client gives: <c>Answers(("echo", [42]))</c>.</summary>
    protected static IReadOnlyDictionary<string, object?[]> Answers(params (string Event, object?[] Args)[] answers) =>
        answers.ToDictionary(a => a.Event, a => a.Args);
}
