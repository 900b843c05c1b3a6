using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>
/// One JSON value exactly as a client sent it (validated by the parser), to pass on without building a tree.
/// When it is <see cref="IsCanonical"/> — no whitespace, only the escapes JSON.stringify itself writes — its bytes
/// are what JSON.stringify(JSON.parse(it)) gives and are copied into outgoing packets as they are; otherwise it is
/// re-written, with the same result as a <see cref="JsonNode"/> of it would give.
/// </summary>
public sealed class RawJson
{
    private readonly int _maxDepth;

    internal RawJson(ReadOnlyMemory<byte> utf8, bool canonical, int maxDepth)
    {
        Utf8 = utf8;
        IsCanonical = canonical;
        _maxDepth = maxDepth;
    }

    /// <summary>The value's UTF-8 JSON text as received.</summary>
    public ReadOnlyMemory<byte> Utf8 { get; }

    /// <summary>Whether the received text is already JSON.stringify's form of the value.</summary>
    public bool IsCanonical { get; }

    /// <summary>The value as a new JSON tree.</summary>
    public JsonNode? ToNode() => JsonNode.Parse(Utf8.Span, documentOptions: new JsonDocumentOptions { MaxDepth = _maxDepth });

    internal void WriteTo(Utf8JsonWriter writer)
    {
        if (IsCanonical)
        {
            writer.WriteRawValue(Utf8.Span, skipInputValidation: true);
            return;
        }
        var reader = new Utf8JsonReader(Utf8.Span, new JsonReaderOptions { MaxDepth = _maxDepth });
        using var document = JsonDocument.ParseValue(ref reader);
        JsonCanonical.Write(writer, document.RootElement);
    }

    /// <summary>The JSON text.</summary>
    public override string ToString() => Encoding.UTF8.GetString(Utf8.Span);
}
