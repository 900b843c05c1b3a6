namespace SocketIoSignal.Redis.Classic;

/// <summary>
/// What a cluster-wide request gathered: every node's part, or — when some node did not answer within the
/// requests timeout — what arrived until then, with <see cref="Complete"/> false.
/// </summary>
/// <param name="Value">The gathered result (this node's part included).</param>
/// <param name="Complete">Whether every node expected answered.</param>
/// <param name="Answered">How many answers (nodes, or clients for a broadcast) arrived.</param>
/// <param name="Expected">How many were expected (-1 when the count was not known yet).</param>
internal sealed record ClusterAnswer<T>(T Value, bool Complete, int Answered, int Expected);
