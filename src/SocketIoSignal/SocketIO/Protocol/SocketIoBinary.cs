using System.Text.Json.Nodes;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>Binary data inside a Socket.IO payload (a Buffer / ArrayBuffer on the JavaScript side).</summary>
public sealed class SocketIoBinary(ReadOnlyMemory<byte> data)
{
    /// <summary>The bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; } = data;

    /// <summary>A JSON node that carries binary data; the encoder turns it into a placeholder and an attachment.</summary>
    public static JsonNode ToNode(ReadOnlyMemory<byte> data) => JsonValue.Create(new SocketIoBinary(data))!;

    /// <summary>The bytes of <paramref name="node"/> when it is a binary argument.</summary>
    /// <param name="node">An event argument or a part of one.</param>
    /// <param name="data">The bytes, when it is.</param>
    public static bool TryGet(JsonNode? node, out ReadOnlyMemory<byte> data)
    {
        if (node is JsonValue value && value.TryGetValue<SocketIoBinary>(out var binary))
        {
            data = binary.Data;
            return true;
        }
        data = default;
        return false;
    }
}
