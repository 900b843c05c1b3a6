using System.Text.Json;
using System.Text.Json.Nodes;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Redis.Classic;

/// <summary>
/// Binary values between a cluster message and this server's JSON: a message read from Redis carries them as
/// placeholders beside its attachments; this server's values carry them as <see cref="SocketIoBinary"/> nodes.
/// </summary>
internal static class ClusterBinary
{
    /// <summary>A copy of <paramref name="node"/> with each placeholder naming an attachment as binary again.</summary>
    public static JsonNode? Restore(JsonNode? node, IReadOnlyList<ReadOnlyMemory<byte>> attachments) => Copy(node, n => n switch
    {
        JsonObject o when attachments.Count > 0 && IsPlaceholder(o, attachments.Count, out int num) => SocketIoBinary.ToNode(attachments[num]),
        JsonValue when SocketIoBinary.TryGet(n, out var data) => SocketIoBinary.ToNode(data),
        _ => null,
    });

    /// <summary>A copy of <paramref name="node"/> with each binary value as a placeholder, its bytes added to <paramref name="attachments"/>.</summary>
    public static JsonNode? Extract(JsonNode? node, List<ReadOnlyMemory<byte>> attachments) => Copy(node, n =>
    {
        if (n is JsonValue && SocketIoBinary.TryGet(n, out var data))
        {
            attachments.Add(data);
            return new JsonObject { ["_placeholder"] = true, ["num"] = attachments.Count - 1 };
        }
        return null;
    });

    /// <summary>A deep copy of <paramref name="node"/> in which <paramref name="substitute"/>, where it gives a node, replaces a node (and what is below it).</summary>
    private static JsonNode? Copy(JsonNode? node, Func<JsonNode, JsonNode?> substitute)
    {
        if (node is null)
        {
            return null;
        }
        if (substitute(node) is { } replaced)
        {
            return replaced;
        }
        switch (node)
        {
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (key, value) in o)
                {
                    copy[key] = Copy(value, substitute);
                }
                return copy;
            case JsonArray a:
                var array = new JsonArray();
                foreach (var item in a)
                {
                    array.Add(Copy(item, substitute));
                }
                return array;
            default:
                return node.DeepClone();
        }
    }

    private static bool IsPlaceholder(JsonObject o, int count, out int num)
    {
        num = -1;
        return o["_placeholder"] is JsonValue p && p.GetValueKind() == JsonValueKind.True
            && o["num"] is JsonValue n && n.TryGetValue<int>(out num) && num >= 0 && num < count;
    }
}
