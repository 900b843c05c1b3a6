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
    public static JsonNode? Restore(JsonNode? node, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject o when attachments.Count > 0 && IsPlaceholder(o, attachments.Count, out int num):
                return SocketIoBinary.ToNode(attachments[num]);
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (key, value) in o)
                {
                    copy[key] = Restore(value, attachments);
                }
                return copy;
            case JsonArray a:
                var array = new JsonArray();
                foreach (var item in a)
                {
                    array.Add(Restore(item, attachments));
                }
                return array;
            default:
                return SocketIoBinary.TryGet(node, out var data) ? SocketIoBinary.ToNode(data) : node.DeepClone();
        }
    }

    /// <summary>A copy of <paramref name="node"/> with each binary value as a placeholder, its bytes added to <paramref name="attachments"/>.</summary>
    public static JsonNode? Extract(JsonNode? node, List<ReadOnlyMemory<byte>> attachments)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (key, value) in o)
                {
                    copy[key] = Extract(value, attachments);
                }
                return copy;
            case JsonArray a:
                var array = new JsonArray();
                foreach (var item in a)
                {
                    array.Add(Extract(item, attachments));
                }
                return array;
            default:
                if (SocketIoBinary.TryGet(node, out var data))
                {
                    attachments.Add(data);
                    return new JsonObject { ["_placeholder"] = true, ["num"] = attachments.Count - 1 };
                }
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
