using SocketIoSignal.EngineIO.Protocol;

namespace SocketIoSignal.EngineIO;

/// <summary>An Engine.IO packet as the per-connection events show it (Node's <c>{ type, data }</c>).</summary>
public sealed class EnginePacket
{
    private readonly EngineIoPacket _packet;
    private readonly bool _compress;

    internal EnginePacket(EngineIoPacket packet, bool compress = true)
    {
        _packet = packet;
        _compress = compress && packet.Compress;
    }

    /// <summary>"open", "close", "ping", "pong", "message", "upgrade" or "noop".</summary>
    public string Type => _packet.Type switch
    {
        EngineIoPacketType.Open => "open",
        EngineIoPacketType.Close => "close",
        EngineIoPacketType.Ping => "ping",
        EngineIoPacketType.Pong => "pong",
        EngineIoPacketType.Message => "message",
        EngineIoPacketType.Upgrade => "upgrade",
        _ => "noop",
    };

    /// <summary>Whether the data is binary (<see cref="Binary"/>) rather than text (<see cref="Text"/>).</summary>
    public bool IsBinary => _packet.IsBinary;

    /// <summary>The text data (without the type digit), empty when there is none; null for binary data.</summary>
    public string? Text => _packet.Text;

    /// <summary>The binary data; empty for text packets.</summary>
    public ReadOnlyMemory<byte> Binary => _packet.Binary;

    /// <summary>
    /// Whether the packet may be compressed (Node's <c>packet.options.compress</c>): true unless it was emitted with
    /// <c>Compress(false)</c>.
    /// </summary>
    public bool Compress => _compress;

    /// <inheritdoc/>
    public override string ToString() => _packet.ToString();
}
