using System.Text.Json.Nodes;

namespace SocketIoSignal.Redis.Classic;

/// <summary>
/// An acknowledged broadcast of the server API (<c>io.timeout(t).emitWithAck</c>): each other node's client count
/// and each of its clients' answers go straight to the broadcast's own tracker, which decides when it is done.
/// The entry goes when the tracker is done (every answer in, or its timeout), which only the tracker knows.
/// </summary>
internal sealed class ForwardedAckRequest(Action<int> onClientCount, Action<JsonNode?> onAck) : PendingRequest
{
    public override ClusterRequestType Type => ClusterRequestType.Broadcast;

    public override bool Accept(ClusterMessage response)
    {
        switch ((ClusterRequestType)response.Type)
        {
            case ClusterRequestType.BroadcastClientCount when response.Root["clientCount"] is JsonValue v && v.TryGetValue<int>(out int count) && count >= 0:
                onClientCount(count);
                break;
            case ClusterRequestType.BroadcastAck:
                onAck(ClusterBinary.Restore(response.Root["packet"], response.Attachments));
                break;
        }
        return false;
    }

    protected override void Finish(bool complete)
    {
    }
}
