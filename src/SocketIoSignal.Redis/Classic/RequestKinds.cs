using System.Text.Json.Nodes;

namespace SocketIoSignal.Redis.Classic;

/// <summary>
/// SOCKETS, ALL_ROOMS, REMOTE_FETCH: one answer per node, counted as the Node adapter counts them (this node
/// is the first), complete when <c>PUBSUB NUMSUB</c>'s count of nodes have answered.
/// </summary>
internal sealed class GatherRequest<T>(ClusterRequestType type, int numSub, string field, Func<JsonNode, T?> read, List<T> seed) : PendingRequest
{
    private readonly List<T> _items = seed;
    private int _answered = 1;

    public TaskCompletionSource<ClusterAnswer<IReadOnlyList<T>>> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override ClusterRequestType Type => type;

    public override bool Accept(ClusterMessage response)
    {
        _answered++;
        if (response.Root[field] is JsonArray array)
        {
            foreach (var item in array)
            {
                if (item is not null && read(item) is { } value)
                {
                    _items.Add(value);
                }
            }
        }
        return _answered >= numSub;
    }

    protected override void Finish(bool complete)
    {
        List<T> copy;
        int answered;
        lock (this)
        {
            copy = [.. _items];
            answered = _answered;
        }
        Result.TrySetResult(new ClusterAnswer<IReadOnlyList<T>>(copy, complete, answered, numSub));
    }
}

/// <summary>SERVER_SIDE_EMIT with an acknowledgement: one answer from each other node.</summary>
internal sealed class ServerSideEmitRequest(int expected) : PendingRequest
{
    private readonly List<JsonNode?> _responses = [];

    public TaskCompletionSource<ClusterAnswer<IReadOnlyList<JsonNode?>>> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override ClusterRequestType Type => ClusterRequestType.ServerSideEmit;

    public override bool Accept(ClusterMessage response)
    {
        _responses.Add(response.Root["data"]?.DeepClone());
        return _responses.Count >= expected;
    }

    protected override void Finish(bool complete)
    {
        List<JsonNode?> copy;
        lock (this)
        {
            copy = [.. _responses];
        }
        Result.TrySetResult(new ClusterAnswer<IReadOnlyList<JsonNode?>>(copy, complete, copy.Count, expected));
    }
}

/// <summary>
/// A broadcast with acknowledgements: each node says how many clients it sent to (BROADCAST_CLIENT_COUNT), then
/// each client's answer comes (BROADCAST_ACK). Complete when every node counted and every counted client answered,
/// as socket.io's broadcast operator decides.
/// </summary>
internal sealed class BroadcastAckRequest : PendingRequest
{
    private readonly List<JsonNode?> _responses = [];
    private int _expectedServers = -1;
    private int _servers;
    private int _clients;

    public TaskCompletionSource<ClusterAnswer<IReadOnlyList<JsonNode?>>> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override ClusterRequestType Type => ClusterRequestType.Broadcast;

    /// <summary>Ignores answers once they are all in (a node answering twice must not tip the count).</summary>
    public override bool Accept(ClusterMessage response)
    {
        switch ((ClusterRequestType)response.Type)
        {
            case ClusterRequestType.BroadcastClientCount when response.Root["clientCount"] is JsonValue v && v.TryGetValue<int>(out int count) && count >= 0:
                return ClientCount(count);
            case ClusterRequestType.BroadcastAck:
                return Ack(ClusterBinary.Restore(response.Root["packet"], response.Attachments));
            default:
                return false;
        }
    }

    /// <summary>A node's count of clients (this node's own too); caller holds the lock.</summary>
    public bool ClientCount(int count)
    {
        _servers++;
        _clients += count;
        return IsComplete;
    }

    public bool Ack(JsonNode? answer)
    {
        _responses.Add(answer);
        return IsComplete;
    }

    public bool ExpectServers(int count)
    {
        _expectedServers = count;
        return IsComplete;
    }

    private bool IsComplete => _expectedServers >= 0 && _servers >= _expectedServers && _responses.Count >= _clients;

    protected override void Finish(bool complete)
    {
        List<JsonNode?> copy;
        int expected;
        lock (this)
        {
            copy = [.. _responses];
            expected = _clients;
        }
        Result.TrySetResult(new ClusterAnswer<IReadOnlyList<JsonNode?>>(copy, complete, copy.Count, expected));
    }
}
