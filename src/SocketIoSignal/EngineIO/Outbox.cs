using SocketIoSignal.EngineIO.Protocol;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// A session's outgoing packets, in order, and the bytes they take on the wire. Not thread-safe: its session
/// calls it under the session's lock; only <see cref="Bytes"/> may be read from anywhere.
/// </summary>
internal sealed class Outbox
{
    private readonly Queue<EngineIoPacket> _packets = new();
    private long _bytes;

    public int Count => _packets.Count;

    /// <summary>Bytes queued, as the packets' <see cref="EngineIoPacket.WireSize"/> add up.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public void Enqueue(EngineIoPacket packet)
    {
        _packets.Enqueue(packet);
        Interlocked.Add(ref _bytes, packet.WireSize);
    }

    /// <summary>Takes everything queued, in a new list (a poll's response).</summary>
    public List<EngineIoPacket> Drain() => Drain(new List<EngineIoPacket>(_packets.Count));

    /// <summary>Moves everything queued into <paramref name="into"/> (the writer's batch).</summary>
    public List<EngineIoPacket> Drain(List<EngineIoPacket> into)
    {
        while (_packets.TryDequeue(out var p))
        {
            into.Add(p);
        }
        Interlocked.Exchange(ref _bytes, 0);
        return into;
    }

    /// <summary>Drops everything queued (the session ended without delivering it).</summary>
    public void Clear()
    {
        _packets.Clear();
        Interlocked.Exchange(ref _bytes, 0);
    }
}
