using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO;

/// <summary>An event a client emitted: its name, its arguments as JSON (binary as <see cref="SocketIoBinary"/>), and its ack.</summary>
public sealed class SocketIoEvent
{
    private readonly Action<IReadOnlyList<object?>>? _ack;
    private readonly ReadOnlyMemory<byte> _raw;
    private readonly JsonSlice[]? _slices;
    private readonly int _maxDepth;
    private IReadOnlyList<JsonNode?>? _args;
    private int _acked;

    internal SocketIoEvent(SocketIoSocket socket, string name, IReadOnlyList<JsonNode?> args, Action<IReadOnlyList<object?>>? ack)
    {
        Socket = socket;
        Name = name;
        _args = args;
        _ack = ack;
    }

    /// <summary>An event whose arguments are still the client's JSON text: trees are made only if asked for.</summary>
    internal SocketIoEvent(SocketIoSocket socket, string name, ReadOnlyMemory<byte> raw, JsonSlice[] slices, int maxDepth, Action<IReadOnlyList<object?>>? ack)
    {
        Socket = socket;
        Name = name;
        _raw = raw;
        _slices = slices;
        _maxDepth = maxDepth;
        _ack = ack;
    }

    /// <summary>The socket that sent the event.</summary>
    public SocketIoSocket Socket { get; }

    /// <summary>The event's name; a packet middleware (<see cref="SocketIoSocket.Use(Func{SocketIoEvent, Task})"/>) may change it.</summary>
    public string Name { get; set; }

    /// <summary>
    /// The arguments as JSON trees (binary as <see cref="SocketIoBinary"/>), made on first use; a packet middleware
    /// may replace them.
    /// </summary>
    public IReadOnlyList<JsonNode?> Args
    {
        get => _args ??= ParseArgs();
        set => _args = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Whether the client asked for an acknowledgement.</summary>
    public bool HasAck => _ack is not null;

    /// <summary>How many arguments the client sent.</summary>
    public int ArgCount => _args?.Count ?? _slices!.Length - 1;

    /// <summary>The argument at <paramref name="index"/>, or null when the client sent fewer.</summary>
    public JsonNode? Arg(int index) => index < ArgCount ? Args[index] : null;

    /// <summary>
    /// The argument at <paramref name="index"/> to pass on in an emit: the client's JSON text as it is
    /// (<see cref="RawJson"/>) when the event carried no binary, else its tree; null when the client sent fewer.
    /// </summary>
    public object? ArgForEmit(int index)
    {
        if (index >= ArgCount)
        {
            return null;
        }
        if (_slices is null || _args is not null)
        {
            return Args[index];
        }
        var slice = _slices[index + 1];
        return new RawJson(_raw.Slice(slice.Start, slice.Length), slice.Canonical, _maxDepth);
    }

    private JsonNode?[] ParseArgs()
    {
        var args = new JsonNode?[_slices!.Length - 1];
        var options = new JsonDocumentOptions { MaxDepth = _maxDepth };
        for (int i = 1; i < _slices.Length; i++)
        {
            args[i - 1] = JsonNode.Parse(_raw.Span.Slice(_slices[i].Start, _slices[i].Length), documentOptions: options);
        }
        return args;
    }

    /// <summary>Answers the client's acknowledgement (once; later calls do nothing).</summary>
    public void Ack(params object?[] args)
    {
        if (_ack is not null && Interlocked.Exchange(ref _acked, 1) == 0)
        {
            _ack(args);
        }
    }
}
