using System.Text.Json.Nodes;

namespace SocketIoSignal.SocketIO;

/// <summary>Thrown by a namespace middleware to refuse a connection; the client gets connect_error / ERROR.</summary>
public sealed class ConnectRejectedException(string message, JsonNode? data = null) : Exception(message)
{
    /// <summary>The data sent with the <c>connect_error</c> (Node's <c>err.data</c>).</summary>
    public JsonNode? ErrorData { get; } = data;
}
