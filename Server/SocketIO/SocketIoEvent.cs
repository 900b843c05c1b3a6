using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO;

/// <summary>An event a client emitted: its name, its arguments as JSON (binary as <see cref="SocketIoBinary"/>), and its ack.</summary>
public sealed class SocketIoEvent
{
    private readonly Action<IReadOnlyList<object?>>? _ack;
    private int _acked;

    internal SocketIoEvent(SocketIoSocket socket, string name, IReadOnlyList<JsonNode?> args, Action<IReadOnlyList<object?>>? ack)
    {
        Socket = socket;
        Name = name;
        Args = args;
        _ack = ack;
    }

    public SocketIoSocket Socket { get; }

    public string Name { get; }

    public IReadOnlyList<JsonNode?> Args { get; }

    /// <summary>Whether the client asked for an acknowledgement.</summary>
    public bool HasAck => _ack is not null;

    /// <summary>The argument at <paramref name="index"/>, or null when the client sent fewer.</summary>
    public JsonNode? Arg(int index) => index < Args.Count ? Args[index] : null;

    /// <summary>Answers the client's acknowledgement (once; later calls do nothing).</summary>
    public void Ack(params object?[] args)
    {
        if (_ack is not null && Interlocked.Exchange(ref _acked, 1) == 0)
        {
            _ack(args);
        }
    }
}

/// <summary>Thrown by a namespace middleware to refuse a connection; the client gets connect_error / ERROR.</summary>
public sealed class ConnectRejectedException(string message, JsonNode? data = null) : Exception(message)
{
    public JsonNode? ErrorData { get; } = data;
}
