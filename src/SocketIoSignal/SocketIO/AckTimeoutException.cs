using System.Text.Json.Nodes;

namespace SocketIoSignal.SocketIO;

/// <summary>
/// An acknowledgement was not answered in time (Node's <c>Error("operation has timed out")</c>). For a broadcast,
/// <see cref="Responses"/> holds the answers received before the timeout (Node's <c>err.responses</c>).
/// </summary>
public sealed class AckTimeoutException(IReadOnlyList<JsonNode?> responses) : TimeoutException("operation has timed out")
{
    /// <summary>The answers received before the timeout: one per client that answered (its first argument).</summary>
    public IReadOnlyList<JsonNode?> Responses { get; } = responses;
}
