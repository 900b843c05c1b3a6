using System.Text.Json;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>The encoder against literal wire strings, and round trips through the decoder.</summary>
[TestFixture]
public sealed class EncoderTests
{
    [Test]
    public void ConnectAnswers()
    {
        Assert.That(SocketIoEncoder.EncodeConnect("/", "abc").Text, Is.EqualTo("0{\"sid\":\"abc\"}"));
        Assert.That(SocketIoEncoder.EncodeConnect("/custom", "abc").Text, Is.EqualTo("0/custom,{\"sid\":\"abc\"}"));
        Assert.That(SocketIoEncoder.EncodeConnect("/", null).Text, Is.EqualTo("0"));
        Assert.That(SocketIoEncoder.EncodeConnect("/chat", null).Text, Is.EqualTo("0/chat,"));
    }

    [Test]
    public void Disconnect()
    {
        Assert.That(SocketIoEncoder.EncodeDisconnect("/").Text, Is.EqualTo("1"));
        Assert.That(SocketIoEncoder.EncodeDisconnect("/chat").Text, Is.EqualTo("1/chat,"));
    }

    [Test]
    public void ConnectErrorProtocolFive()
    {
        Assert.That(SocketIoEncoder.EncodeConnectError("/random", "Invalid namespace", null, 5).Text,
            Is.EqualTo("4/random,{\"message\":\"Invalid namespace\"}"));
        Assert.That(SocketIoEncoder.EncodeConnectError("/", "not authorized", new JsonObject { ["code"] = 42 }, 5).Text,
            Is.EqualTo("4{\"message\":\"not authorized\",\"data\":{\"code\":42}}"));
    }

    [Test]
    public void ErrorProtocolFour()
    {
        Assert.That(SocketIoEncoder.EncodeConnectError("/random", "Invalid namespace", null, 4).Text, Is.EqualTo("4/random,\"Invalid namespace\""));
        Assert.That(SocketIoEncoder.EncodeConnectError("/", "say \"no\"", null, 4).Text, Is.EqualTo("4\"say \\\"no\\\"\""));
    }

    [Test]
    public void Events()
    {
        Assert.That(SocketIoEncoder.EncodeEvent("/", "message-back", [1, "2", new JsonObject { ["3"] = new JsonArray(true) }]).Text,
            Is.EqualTo("2[\"message-back\",1,\"2\",{\"3\":[true]}]"));
        Assert.That(SocketIoEncoder.EncodeEvent("/chat", "hi", []).Text, Is.EqualTo("2/chat,[\"hi\"]"));
        Assert.That(SocketIoEncoder.EncodeEvent("/", "hi", [null, true, false, 1.5, 10L]).Text, Is.EqualTo("2[\"hi\",null,true,false,1.5,10]"));
        Assert.That(SocketIoEncoder.EncodeEvent("/", "hi", [], 0).Text, Is.EqualTo("20[\"hi\"]"));
        Assert.That(SocketIoEncoder.EncodeEvent("/chat", "hi", ["x"], 12).Text, Is.EqualTo("2/chat,12[\"hi\",\"x\"]"));
        Assert.That(SocketIoEncoder.EncodeEvent("/", "hi", []).Attachments, Is.Empty);
    }

    [Test]
    public void TextIsWrittenAsJsonStringifyWritesIt()
    {
        Assert.That(SocketIoEncoder.EncodeEvent("/", "é", ["日本", "<a href='x'>&", "\n\"\\"]).Text,
            Is.EqualTo("2[\"é\",\"日本\",\"<a href='x'>&\",\"\\n\\\"\\\\\"]"));
    }

    [Test]
    public void AstralCharactersSurviveTheRoundTrip()
    {
        // Written raw, as JSON.stringify writes them.
        var text = SocketIoEncoder.EncodeEvent("/", "e", ["😀"]).Text;
        Assert.That(text, Is.EqualTo("2[\"e\",\"😀\"]"));
        Assert.That(JsonNode.Parse(text[1..])![1]!.GetValue<string>(), Is.EqualTo("😀"));
    }

    [Test]
    public void ObjectsListsAndElements()
    {
        using var doc = JsonDocument.Parse("{\"a\":[1,2]}");
        Assert.That(SocketIoEncoder.EncodeEvent("/", "e", [new { Name = "x", Count = 2 }, new List<object?> { 1, "b" }, doc.RootElement]).Text,
            Is.EqualTo("2[\"e\",{\"name\":\"x\",\"count\":2},[1,\"b\"],{\"a\":[1,2]}]"));
    }

    [Test]
    public void Acks()
    {
        Assert.That(SocketIoEncoder.EncodeAck("/", 456, [1, "2"]).Text, Is.EqualTo("3456[1,\"2\"]"));
        Assert.That(SocketIoEncoder.EncodeAck("/chat", 7, []).Text, Is.EqualTo("3/chat,7[]"));
    }

    [Test]
    public void BinaryEventUsesPlaceholdersInOrder()
    {
        var packet = SocketIoEncoder.EncodeEvent("/", "message-back", [new byte[] { 1, 2, 3 }, new JsonObject { ["b"] = SocketIoBinary.ToNode(new byte[] { 4 }) }, (ReadOnlyMemory<byte>)new byte[] { 5 }]);
        Assert.That(packet.Text, Is.EqualTo(
            "53-[\"message-back\",{\"_placeholder\":true,\"num\":0},{\"b\":{\"_placeholder\":true,\"num\":1}},{\"_placeholder\":true,\"num\":2}]"));
        Assert.That(packet.Attachments.Select(a => a.ToArray()), Is.EqualTo(new[] { new byte[] { 1, 2, 3 }, [4], [5] }));
    }

    [Test]
    public void BinaryEventInNamespaceWithAckId()
    {
        var packet = SocketIoEncoder.EncodeEvent("/chat", "up", [new SocketIoBinary(new byte[] { 9 })], 3);
        Assert.That(packet.Text, Is.EqualTo("51-/chat,3[\"up\",{\"_placeholder\":true,\"num\":0}]"));
    }

    [Test]
    public void BinaryAck()
    {
        var packet = SocketIoEncoder.EncodeAck("/", 789, [new byte[] { 1, 2, 3 }, new byte[] { 4, 5, 6 }]);
        Assert.That(packet.Text, Is.EqualTo("62-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]"));
        Assert.That(packet.Attachments, Has.Count.EqualTo(2));
    }

    [Test]
    public void BinaryRoundTripsThroughTheDecoder()
    {
        var args = new object?[] { "text", new byte[] { 0, 255 }, new JsonArray(1, SocketIoBinary.ToNode(new byte[] { 7, 7 })) };
        var encoded = SocketIoEncoder.EncodeEvent("/nsp", "ev", args, 5);
        Assert.That(SocketIoParser.TryDecode(encoded.Text, 5, new SocketIoParserLimits(), out var packet, out var error), Is.True, error);
        Assert.That(packet!.Attachments, Is.EqualTo(2));
        Assert.That(SocketIoParser.TryReconstruct(packet, encoded.Attachments), Is.True);
        Assert.That(packet.Namespace, Is.EqualTo("/nsp"));
        Assert.That(packet.AckId, Is.EqualTo(5));
        Assert.That(SocketIoBinary.TryGet(packet.Data![2], out var first), Is.True);
        Assert.That(first.ToArray(), Is.EqualTo(new byte[] { 0, 255 }));
        Assert.That(SocketIoBinary.TryGet(packet.Data![3]![1], out var second), Is.True);
        Assert.That(second.ToArray(), Is.EqualTo(new byte[] { 7, 7 }));

        // and a reconstructed tree encodes back to the same wire text
        var again = SocketIoEncoder.EncodeEvent("/nsp", "ev", [.. ((JsonArray)packet.Data!).Skip(1)], 5);
        Assert.That(again.Text, Is.EqualTo(encoded.Text));
    }

    [Test]
    public void EncodedPacketsDecodeBothProtocols()
    {
        foreach (int protocol in new[] { 4, 5 })
        {
            foreach (var text in new[] { SocketIoEncoder.EncodeEvent("/", "a", [1]).Text, SocketIoEncoder.EncodeAck("/x", 1, ["y"]).Text, SocketIoEncoder.EncodeDisconnect("/x").Text })
            {
                Assert.That(SocketIoParser.TryDecode(text, protocol, new SocketIoParserLimits(), out _, out var error), Is.True, $"{text}: {error}");
            }
        }
    }
}
