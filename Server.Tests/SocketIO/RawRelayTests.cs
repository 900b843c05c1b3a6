using System.Text;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.EngineIO.Protocol;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>
/// The UTF-8 relay path on literal wire text: packets decoded from bytes without trees, arguments passed on as
/// the client sent them when that is JSON.stringify's form, re-written otherwise — always the same bytes as the
/// tree path gives — and frames encoded once with the Engine.IO type digit in front.
/// </summary>
[TestFixture]
public sealed class RawRelayTests
{
    private static readonly SocketIoParserLimits Limits = new();

    private static SocketIoPacket DecodeUtf8(string text, int protocol = 5)
    {
        bool ok = SocketIoParser.TryDecode(Encoding.UTF8.GetBytes(text), protocol, Limits, out var packet, out var error);
        Assert.That(ok, Is.True, $"{text} was rejected: {error}");
        return packet!;
    }

    private static RawJson Arg(string packetText, int index)
    {
        var packet = DecodeUtf8(packetText);
        var slice = packet.Elements![index + 1];
        return new RawJson(packet.RawData.Slice(slice.Start, slice.Length), slice.Canonical, 64);
    }

    // What a client sends for the argument → whether it is passed on as it is → what goes out (JSON.stringify).
    [TestCase("\"plain\"", true, "\"plain\"")]
    [TestCase("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\"}", true, "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\"}")]
    [TestCase("{\"candidate\":\"candidate:1 1 udp 2 10.0.0.1 5000 typ host\",\"sdpMLineIndex\":0,\"id\":\"audio\"}", true, "{\"candidate\":\"candidate:1 1 udp 2 10.0.0.1 5000 typ host\",\"sdpMLineIndex\":0,\"id\":\"audio\"}")]
    [TestCase("[1,-2.5,true,false,null,\"日本\",{}]", true, "[1,-2.5,true,false,null,\"日本\",{}]")]
    [TestCase("\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\"", true, "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\"")]
    [TestCase("\"\\u00e9\"", false, "\"é\"")]
    [TestCase("\"\\/\"", false, "\"/\"")]
    [TestCase("\"\\u001F\"", false, "\"\\u001f\"")]
    [TestCase("\"\\u000a\"", false, "\"\\n\"")]
    [TestCase("\"\\ud83d\\ude00\"", false, "\"😀\"")]
    [TestCase("{\"a\": 1}", false, "{\"a\":1}")]
    [TestCase("[ 1 , 2 ]", false, "[1,2]")]
    [TestCase("{\"\\u0061\":\"x\"}", false, "{\"a\":\"x\"}")]
    [TestCase("{\"a\":[{\"b\":\"\\u00e9\"}]}", false, "{\"a\":[{\"b\":\"é\"}]}")]
    public void ArgumentsArePassedOnAsJsonStringifyWritesThem(string sent, bool canonical, string expected)
    {
        var raw = Arg($"2[\"message\",{sent}]", 0);
        Assert.That(raw.IsCanonical, Is.EqualTo(canonical));
        var viaRaw = SocketIoEncoder.EncodeEvent("/", "message", [raw]).Text;
        Assert.That(viaRaw, Is.EqualTo($"2[\"message\",{expected}]"));
        // The tree path (what handlers that read arguments use) writes the same bytes.
        var viaTree = SocketIoEncoder.EncodeEvent("/", "message", [raw.ToNode()]).Text;
        Assert.That(viaRaw, Is.EqualTo(viaTree));
        // And the seed's log() echo: the same argument inside an array.
        Assert.That(SocketIoEncoder.EncodeEvent("/", "log", [new object?[] { "Message from server:", "Client said: ", raw }]).Text,
            Is.EqualTo($"2[\"log\",[\"Message from server:\",\"Client said: \",{expected}]]"));
    }

    [Test]
    public void ElementsAreFoundWhateverTheSpacingAroundThem()
    {
        var packet = DecodeUtf8("2/chat,7[ \"message\" , {\"a\":[1,{\"b\":2}]} ,\"x\",3 ]");
        Assert.That(packet.Namespace, Is.EqualTo("/chat"));
        Assert.That(packet.AckId, Is.EqualTo(7));
        Assert.That(packet.EventName, Is.EqualTo("message"));
        var texts = packet.Elements!.Select(e => Encoding.UTF8.GetString(packet.RawData.Span.Slice(e.Start, e.Length))).ToArray();
        Assert.That(texts, Is.EqualTo(new[] { "\"message\"", "{\"a\":[1,{\"b\":2}]}", "\"x\"", "3" }));
        Assert.That(packet.Elements!.Select(e => e.Canonical), Is.All.True);
        // The tree is still there for whoever asks.
        Assert.That(packet.Data!.ToJsonString(), Is.EqualTo("[\"message\",{\"a\":[1,{\"b\":2}]},\"x\",3]"));
    }

    [TestCase("2[\"message\",\"\\ud800\"]")]
    [TestCase("2[\"message\",\"\\udc00\"]")]
    [TestCase("2[\"message\",\"\\ud800x\"]")]
    [TestCase("2[\"message\",\"\\ud800\\u0041\"]")]
    [TestCase("2[\"message\",\"\\ud800\\ud800\"]")]
    [TestCase("2[\"message\",{\"\\udfff\":1}]")]
    [TestCase("2[\"message\",1,]")]
    [TestCase("2[\"message\"] x")]
    [TestCase("2[\"message\"/*c*/]")]
    [TestCase("2[\"\\u0064isconnect\"]")]
    [TestCase("2[{\"not\":\"a name\"}]")]
    [TestCase("2[]")]
    [TestCase("2 ")]
    public void HostileJsonIsRefusedFromBytesAsFromText(string text)
    {
        Assert.That(SocketIoParser.TryDecode(Encoding.UTF8.GetBytes(text), 5, Limits, out _, out var error), Is.False, text);
        Assert.That(error, Is.Not.Empty);
        Assert.That(SocketIoParser.TryDecode(text, 5, Limits, out _, out _), Is.False, text);
    }

    [Test]
    public void KeysAreUniquePerObjectNotPerPacket()
    {
        var packet = DecodeUtf8("2[\"message\",{\"a\":{\"a\":1},\"b\":{\"a\":2,\"b\":[{\"a\":3}]}},{\"a\":4}]");
        Assert.That(packet.Elements, Has.Length.EqualTo(3));
        var many = string.Join(",", Enumerable.Range(0, 40).Select(i => $"\"k{i}\":{i}"));
        Assert.That(DecodeUtf8($"2[\"message\",{{{many}}}]").Elements, Has.Length.EqualTo(2));
    }

    [Test]
    public void DepthIsBoundedFromBytes()
    {
        string deep = "2[\"message\"," + new string('[', 80) + new string(']', 80) + "]";
        Assert.That(SocketIoParser.TryDecode(Encoding.UTF8.GetBytes(deep), 5, Limits, out _, out var error), Is.False);
        Assert.That(error, Is.EqualTo("invalid JSON"));
    }

    [Test]
    public void ANumericEventNameIsItsText()
    {
        Assert.That(DecodeUtf8("2[42,\"x\"]").EventName, Is.EqualTo("42"));
        Assert.That(DecodeUtf8("2[\"caf\\u00e9\"]").EventName, Is.EqualTo("café"));
    }

    [Test]
    public void EncodedPacketsAreTheirEngineIoFrame()
    {
        var packet = SocketIoEncoder.EncodeEvent("/日本", "hi", ["é", new byte[] { 1, 2 }], 12);
        Assert.That(packet.Text, Is.EqualTo("51-/日本,12[\"hi\",\"é\",{\"_placeholder\":true,\"num\":0}]"));
        var frames = packet.Frames;
        Assert.That(Encoding.UTF8.GetString(frames[0].TextFrame().Span), Is.EqualTo("4" + packet.Text));
        Assert.That(frames[0].Text, Is.EqualTo(packet.Text));
        Assert.That(frames[1].IsBinary, Is.True);
        // Encoded once: every session it goes to gets the same Engine.IO packet and the same frame bytes.
        Assert.That(packet.Frames[0], Is.SameAs(frames[0]));
        Assert.That(frames[0].TextFrame().Equals(frames[0].TextFrame()), Is.True);
        Assert.That(packet.Message, Is.SameAs(frames[0]));
        // Without attachments the message alone is sent, and is the one Engine.IO packet of the list form too.
        var plain = SocketIoEncoder.EncodeEvent("/", "message", ["x"]);
        Assert.That(plain.Message.Text, Is.EqualTo("2[\"message\",\"x\"]"));
        Assert.That(plain.Frames, Is.EqualTo(new[] { plain.Message }));
        Assert.That(SocketIoEncoder.EncodeEvent("/", "hi", [], 1234567890123L).Text, Is.EqualTo("21234567890123[\"hi\"]"));
        Assert.That(SocketIoEncoder.EncodeEvent("/", "hi", Enumerable.Range(0, 12).Select(i => (object?)new byte[] { (byte)i }).ToArray()).Text,
            Does.StartWith("512-[\"hi\","));
    }

    [Test]
    public void WebSocketTextFramesAreDecodedFromBytes()
    {
        Assert.That(PacketCodec.TryDecodeTextFrame("4héllo"u8, 4, out var packet), Is.EqualTo(DecodeError.None));
        Assert.That(packet!.HoldsUtf8, Is.True);
        Assert.That(packet.Type, Is.EqualTo(EngineIoPacketType.Message));
        Assert.That(Encoding.UTF8.GetString(packet.TextUtf8.Span), Is.EqualTo("héllo"));
        Assert.That(packet.Text, Is.EqualTo("héllo"));
        Assert.That(packet.WireSize, Is.EqualTo(7));
        Assert.That(PacketCodec.TryDecodeTextFrame("2probe"u8, 4, out packet), Is.EqualTo(DecodeError.None));
        Assert.That(packet!.Type, Is.EqualTo(EngineIoPacketType.Ping));
        Assert.That(packet.Text, Is.EqualTo("probe"));
        Assert.That(PacketCodec.TryDecodeTextFrame("bAQID"u8, 4, out packet), Is.EqualTo(DecodeError.None));
        Assert.That(packet!.IsBinary, Is.True);
        Assert.That(packet.Binary.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(PacketCodec.TryDecodeTextFrame([(byte)'4', 0xC3, 0x28], 4, out _), Is.EqualTo(DecodeError.BadUtf8));
        Assert.That(PacketCodec.TryDecodeTextFrame([(byte)'4', 0xED, 0xA0, 0x80], 4, out _), Is.EqualTo(DecodeError.BadUtf8), "an encoded surrogate");
        Assert.That(PacketCodec.TryDecodeTextFrame("7x"u8, 4, out _), Is.EqualTo(DecodeError.UnknownType));
        Assert.That(PacketCodec.TryDecodeTextFrame([], 4, out _), Is.EqualTo(DecodeError.Empty));
        Assert.Throws<ArgumentException>(() => EngineIoPacket.FromTextFrame("x"u8.ToArray()));
    }

    [Test]
    public void ArgumentsBecomeTreesOnlyWhenAskedFor()
    {
        var packet = DecodeUtf8("2[\"message\",{\"a\":1},\"b\"]");
        var node = packet.Data;
        Assert.That(node, Is.InstanceOf<JsonArray>());
        Assert.That(((JsonArray)node!)[1]!["a"]!.GetValue<int>(), Is.EqualTo(1));
        packet.Data = null;
        Assert.That(packet.Data, Is.Null, "a value set replaces the text's tree");
    }
}
