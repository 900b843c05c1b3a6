using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>
/// One message <see cref="RawSocketIoClient"/> received: a Socket.IO packet (its text as on the wire, after the
/// Engine.IO "4") or a binary attachment. A packet's parts are read out of the text on demand: type, namespace,
/// ack id, the JSON data, and for an event its name and arguments.
/// </summary>
public sealed class RawSocketIoPacket
{
    private bool _parsed;
    private string _namespace = "/";
    private int? _ackId;
    private JsonNode? _data;

    public RawSocketIoPacket(string? text, byte[]? binary)
    {
        if ((text is null) == (binary is null))
        {
            throw new ArgumentException("a packet is either text or binary");
        }
        Text = text;
        Binary = binary;
    }

    /// <summary>The Socket.IO packet as sent, e.g. <c>2/test,12["hello"]</c>; null for a binary attachment.</summary>
    public string? Text { get; }

    /// <summary>A binary attachment's bytes; null for a text packet.</summary>
    public byte[]? Binary { get; }

    /// <summary>0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5 BINARY_EVENT, 6 BINARY_ACK; -1 for an attachment.</summary>
    public int Type => Text is { Length: > 0 } t && char.IsAsciiDigit(t[0]) ? t[0] - '0' : -1;

    public bool IsEvent => Type is 2 or 5;

    public string Namespace
    {
        get
        {
            Parse();
            return _namespace;
        }
    }

    public int? AckId
    {
        get
        {
            Parse();
            return _ackId;
        }
    }

    /// <summary>The JSON after the namespace and ack id; null when there is none (or it is not JSON).</summary>
    public JsonNode? Data
    {
        get
        {
            Parse();
            return _data;
        }
    }

    /// <summary>An event's name; null for anything else.</summary>
    public string? Name =>
        IsEvent && Data is JsonArray { Count: > 0 } array && array[0] is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : null;

    /// <summary>An event's arguments (after the name), an ack's arguments; empty otherwise. A copy.</summary>
    public JsonArray Args
    {
        get
        {
            var args = new JsonArray();
            if (Data is JsonArray array)
            {
                foreach (var item in array.Skip(IsEvent ? 1 : 0))
                {
                    args.Add(item?.DeepClone());
                }
            }
            return args;
        }
    }

    /// <summary>
    /// The data as compact JSON without escaping beyond what JSON needs (<see cref="RawSocketIoClient.Ev"/> writes
    /// expected events the same way): <c>["created","foo","&lt;id&gt;"]</c>.
    /// </summary>
    public string Json => Data?.ToJsonString(RawSocketIoClient.TranscriptJson) ?? "";

    public override string ToString() => Text ?? "<binary " + Convert.ToHexString(Binary!) + ">";

    private void Parse()
    {
        if (_parsed)
        {
            return;
        }
        _parsed = true;
        if (Text is not { Length: > 0 } text)
        {
            return;
        }
        int i = 1;
        if (Type is 5 or 6)
        {
            int dash = text.IndexOf('-', i);
            i = dash < 0 ? text.Length : dash + 1;
        }
        if (i < text.Length && text[i] == '/')
        {
            int comma = text.IndexOf(',', i);
            int end = comma < 0 ? text.Length : comma;
            _namespace = text[i..end];
            i = comma < 0 ? text.Length : comma + 1;
        }
        int digits = i;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }
        if (digits > i && digits - i < 10)
        {
            _ackId = int.Parse(text.AsSpan(i, digits - i), CultureInfo.InvariantCulture);
        }
        i = digits;
        if (i < text.Length)
        {
            try
            {
                _data = JsonNode.Parse(text[i..]);
            }
            catch (JsonException)
            {
                _data = null;
            }
        }
    }
}
