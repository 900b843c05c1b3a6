using System.Text.Json;
using System.Text.Json.Nodes;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>
/// A decoded Socket.IO packet. Binary attachments, once all have arrived, sit in <see cref="Data"/> as
/// <see cref="SocketIoBinary"/> values where the placeholders were.
/// </summary>
internal sealed class SocketIoPacket
{
    public required SocketIoPacketType Type { get; init; }

    /// <summary>The namespace, "/" by default; without any query part.</summary>
    public string Namespace { get; init; } = "/";

    /// <summary>The query string a protocol 4 CONNECT carried after the namespace (<c>/nsp?a=b</c>), without '?'.</summary>
    public string? Query { get; init; }

    public long? AckId { get; init; }

    /// <summary>The payload as a JSON tree, parsed from the packet's text on first use.</summary>
    public JsonNode? Data
    {
        get
        {
            if (!_dataParsed)
            {
                _data = JsonNode.Parse(_rawData.Span, documentOptions: new JsonDocumentOptions { MaxDepth = MaxJsonDepth });
                _dataParsed = true;
            }
            return _data;
        }
        set
        {
            _data = value;
            _dataParsed = true;
        }
    }

    private JsonNode? _data;
    private bool _dataParsed = true;
    private ReadOnlyMemory<byte> _rawData;

    /// <summary>The payload's JSON text as received (empty when the packet had none), validated by the parser.</summary>
    internal ReadOnlyMemory<byte> RawData
    {
        get => _rawData;
        init
        {
            _rawData = value;
            _dataParsed = value.IsEmpty;
        }
    }

    internal int MaxJsonDepth { get; init; } = 64;

    /// <summary>An event's name (a numeric name as its text).</summary>
    internal string? EventName { get; init; }

    /// <summary>The elements of an event's array in <see cref="RawData"/> (the name first).</summary>
    internal JsonSlice[]? Elements { get; init; }

    /// <summary>Attachments announced by a binary packet's header.</summary>
    public int Attachments { get; init; }

    public bool IsBinary => Type is SocketIoPacketType.BinaryEvent or SocketIoPacketType.BinaryAck;
}
