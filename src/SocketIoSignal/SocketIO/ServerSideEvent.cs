using System.Text.Json.Nodes;

namespace SocketIoSignal.SocketIO;

/// <summary>An event another server sent with <c>ServerSideEmit</c> (Node's <c>io.on(event, …)</c> for server-side events).</summary>
public sealed class ServerSideEvent
{
    private readonly Action<JsonNode?>? _ack;
    private int _acked;

    internal ServerSideEvent(string name, IReadOnlyList<JsonNode?> args, Action<JsonNode?>? ack)
    {
        Name = name;
        Args = args;
        _ack = ack;
    }

    /// <summary>The event's name.</summary>
    public string Name { get; }

    /// <summary>Its arguments, as JSON.</summary>
    public IReadOnlyList<JsonNode?> Args { get; }

    /// <summary>Whether the sender waits for an answer (<c>ServerSideEmitWithAckAsync</c>).</summary>
    public bool HasAck => _ack is not null;

    /// <summary>Answers the sender (once; later calls do nothing).</summary>
    /// <param name="response">The answer: a JSON value.</param>
    public void Ack(JsonNode? response)
    {
        if (_ack is not null && Interlocked.Exchange(ref _acked, 1) == 0)
        {
            _ack(response);
        }
    }
}
