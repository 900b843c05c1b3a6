using SocketIoSignal.EngineIO.Protocol;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// One Engine.IO connection, the transport under a Socket.IO client (Node's <c>socket.conn</c>): its id, transport
/// and protocol, its events (<c>upgrading</c>, <c>upgrade</c>, <c>packet</c>, <c>packetCreate</c>, <c>drain</c>,
/// <c>close</c>) and <see cref="Close"/>. Listeners run on the thread that reads or writes the connection; they
/// must be quick and must not block. One that throws is logged; the connection goes on.
/// </summary>
public sealed class EngineConnection
{
    private readonly IEngineIoConnection _connection;
    private readonly EngineIoSession? _session;

    /// <summary>Connections that are not Engine.IO sessions (the app's plain WebSocket), each with its one view.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IEngineIoConnection, EngineConnection> Others = [];
    private readonly Handlers<Action<string>> _upgrading = new();
    private readonly Handlers<Action<string>> _upgrade = new();
    private readonly Handlers<Action<EnginePacket>> _packet = new();
    private readonly Handlers<Action<EnginePacket>> _packetCreate = new();
    private readonly Handlers<Action> _drain = new();
    private readonly Handlers<Action<string>> _close = new();

    internal EngineConnection(IEngineIoConnection connection)
    {
        _connection = connection;
        _session = connection as EngineIoSession;
    }

    /// <summary>The view of a connection: a session's own, or one made once for any other kind.</summary>
    internal static EngineConnection Of(IEngineIoConnection connection) =>
        connection is EngineIoSession session ? session.Connection : Others.GetValue(connection, c => new EngineConnection(c));

    /// <summary>The session id (the <c>sid</c> of the open packet).</summary>
    public string Id => _connection.Id;

    /// <summary>The transport in use: "polling" or "websocket" (Node's <c>conn.transport.name</c>).</summary>
    public string Transport => _connection.Transport == TransportKind.Polling ? "polling" : "websocket";

    /// <summary>The Engine.IO protocol revision: 3 (socket.io-client 1.x/2.x) or 4 (3.x/4.x).</summary>
    public int Protocol => _connection.Protocol;

    /// <summary>"open", "closing" or "closed" (Node's <c>conn.readyState</c>).</summary>
    public string ReadyState => _connection.ReadyState;

    /// <summary>A client began to upgrade: its WebSocket probe was answered (Node's <c>"upgrading"</c>); the transport's name.</summary>
    public EngineConnection OnUpgrading(Action<string> handler)
    {
        _upgrading.Add(handler);
        return this;
    }

    /// <summary>The connection moved to a new transport (Node's <c>"upgrade"</c>); the new transport's name, "websocket".</summary>
    public EngineConnection OnUpgrade(Action<string> handler)
    {
        _upgrade.Add(handler);
        return this;
    }

    /// <summary>A packet arrived from the client: message, ping, pong, close, noop (Node's <c>"packet"</c>).</summary>
    public EngineConnection OnPacket(Action<EnginePacket> handler)
    {
        _packet.Add(handler);
        return this;
    }

    /// <summary>A packet was queued towards the client (Node's <c>"packetCreate"</c>).</summary>
    public EngineConnection OnPacketCreate(Action<EnginePacket> handler)
    {
        _packetCreate.Add(handler);
        return this;
    }

    /// <summary>The queued packets were handed to the transport: a poll's response or the WebSocket's writes (Node's <c>"drain"</c>).</summary>
    public EngineConnection OnDrain(Action handler)
    {
        _drain.Add(handler);
        return this;
    }

    /// <summary>
    /// The connection closed (Node's <c>"close"</c>), with the reason as Node gives it: "transport close",
    /// "transport error", "ping timeout", "parse error", "forced close" or "server shutting down".
    /// </summary>
    public EngineConnection OnClose(Action<string> handler)
    {
        _close.Add(handler);
        return this;
    }

    /// <summary>Closes the connection after what is queued has been sent, ending with a close packet (Node's <c>conn.close()</c>).</summary>
    public void Close() => _connection.Close();

    internal bool ObservesPackets => _packet.Any;

    internal bool ObservesPacketCreate => _packetCreate.Any;

    internal void RaiseUpgrading(string transport) => Raise(_upgrading, h => h(transport), "upgrading");

    internal void RaiseUpgrade(string transport) => Raise(_upgrade, h => h(transport), "upgrade");

    internal void RaisePacket(EngineIoPacket packet)
    {
        if (_packet.Any)
        {
            var visible = new EnginePacket(packet);
            Raise(_packet, h => h(visible), "packet");
        }
    }

    internal void RaisePacketCreate(EngineIoPacket packet, bool compress = true)
    {
        if (_packetCreate.Any)
        {
            var visible = new EnginePacket(packet, compress);
            Raise(_packetCreate, h => h(visible), "packetCreate");
        }
    }

    internal void RaisePacketCreate(IReadOnlyList<EngineIoPacket> packets, bool compress = true)
    {
        if (_packetCreate.Any)
        {
            for (int i = 0; i < packets.Count; i++)
            {
                RaisePacketCreate(packets[i], compress);
            }
        }
    }

    internal void RaiseDrain()
    {
        if (_drain.Any)
        {
            Raise(_drain, h => h(), "drain");
        }
    }

    internal void RaiseClose(string reason) => Raise(_close, h => h(reason), "close");

    private void Raise<T>(Handlers<T> handlers, Action<T> call, string eventName) where T : Delegate
    {
        foreach (var handler in handlers.List)
        {
            try
            {
                call(handler);
            }
            catch (Exception ex)
            {
                _session?.Server.ListenerFailed(ex, eventName);
            }
        }
    }
}
