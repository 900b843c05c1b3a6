using System.Text.Json.Nodes;

namespace SocketIoSignal.Redis.Classic;

/// <summary>A request whose answer is a list gathered from the nodes, complete or partial.</summary>
internal abstract class PendingRequest<T> : PendingRequest
{
    public TaskCompletionSource<ClusterAnswer<IReadOnlyList<T>>> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// SOCKETS, ALL_ROOMS, REMOTE_FETCH: one answer per node, counted as the Node adapter counts them (this node
/// is the first), complete when <c>PUBSUB NUMSUB</c>'s count of nodes have answered.
/// </summary>
internal sealed class GatherRequest<T>(ClusterRequestType type, int numSub, string field, Func<JsonNode, T?> read, List<T> seed) : PendingRequest<T>
{
    private readonly List<T> _items = seed;
    private int _answered = 1;

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
internal sealed class ServerSideEmitRequest(int expected) : PendingRequest<JsonNode?>
{
    private readonly List<JsonNode?> _responses = [];

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
