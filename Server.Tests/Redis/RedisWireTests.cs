using NUnit.Framework;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.Redis;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Tests.Redis;

/// <summary>The Node adapter's broadcast message, byte for byte as notepack.io 3 writes it.</summary>
[TestFixture]
public sealed class RedisWireTests
{
    // notepack.encode(["abc", {type: 2, data: ["ev", 1.5, {b: Buffer.from([1, 2])}, -3, 300, "é", null, true], nsp: "/"},
    //                  {rooms: ["r"], except: ["x"], flags: {}}])
    private const string NodeBinary =
        "93a361626383a47479706502a46461746198a26576cb3ff800000000000081a162c4020102fdcd012ca2c3a9c0c3a36e7370a12f83a5726f6f6d7391a172a665786365707491a178a5666c61677380";

    // notepack.encode(["abc", {type: 2, data: ["ev", "plain", 42], nsp: "/chat"}, {rooms: [], except: [], flags: {compress: true}}])
    private const string NodePlain =
        "93a361626383a47479706502a46461746193a26576a5706c61696e2aa36e7370a52f6368617483a5726f6f6d7390a665786365707490a5666c61677381a8636f6d7072657373c3";

    [Test]
    public void ReadsANodeBroadcastWithBinaryAsPlaceholderAndAttachment()
    {
        var b = RedisWire.DecodeBroadcast(Convert.FromHexString(NodeBinary), "me"u8, _ => true)!;

        Assert.That(b.Namespace, Is.EqualTo("/"));
        Assert.That(b.Packet.Text, Is.EqualTo("51-[\"ev\",1.5,{\"b\":{\"_placeholder\":true,\"num\":0}},-3,300,\"é\",null,true]"));
        Assert.That(b.Packet.Attachments.Select(a => a.ToArray()), Is.EqualTo(new[] { new byte[] { 1, 2 } }));
        Assert.That(b.Target.Rooms, Is.EquivalentTo(new[] { "r" }));
        Assert.That(b.Target.Except, Is.EquivalentTo(new[] { "x" }));
    }

    [Test]
    public void ReadsANamespacedBroadcastAndIgnoresUnknownFlags()
    {
        var b = RedisWire.DecodeBroadcast(Convert.FromHexString(NodePlain), "me"u8, _ => true)!;

        Assert.That(b.Namespace, Is.EqualTo("/chat"));
        Assert.That(b.Packet.Text, Is.EqualTo("2/chat,[\"ev\",\"plain\",42]"));
        Assert.That(b.Packet.Attachments, Is.Empty);
        Assert.That(b.Target.Rooms, Is.Empty);
    }

    [Test]
    public void IgnoresItsOwnMessagesAndUnknownNamespaces()
    {
        Assert.That(RedisWire.DecodeBroadcast(Convert.FromHexString(NodeBinary), "abc"u8, _ => true), Is.Null);
        Assert.That(RedisWire.DecodeBroadcast(Convert.FromHexString(NodePlain), "me"u8, nsp => nsp == "/"), Is.Null);
    }

    [Test]
    public void WritesExactlyWhatNotepackWrites()
    {
        var packet = SocketIoEncoder.EncodeEvent("/", "ev", [1.5, new System.Text.Json.Nodes.JsonObject { ["b"] = SocketIoBinary.ToNode(new byte[] { 1, 2 }) }, -3, 300, "é", null, true]);
        var target = new BroadcastTarget(new HashSet<string> { "r" }, new HashSet<string> { "x" });

        var bytes = RedisWire.EncodeBroadcast("abc", "/", packet, target);

        Assert.That(Convert.ToHexStringLower(bytes), Is.EqualTo(NodeBinary));
        Assert.That(RedisWire.Channel("socket.io", "/", target), Is.EqualTo("socket.io#/#r#"));
        Assert.That(RedisWire.Channel("socket.io", "/", BroadcastTarget.All), Is.EqualTo("socket.io#/#"));
    }

    [Test]
    public void RoundTripsThroughMessagePack()
    {
        var packet = SocketIoEncoder.EncodeEvent("/x", "ev", ["a\"b", 1e21, 0.1, -0.000001, 1e-7, long.MaxValue, new byte[300], new object?[] { new byte[] { 9 } }]);
        var bytes = RedisWire.EncodeBroadcast("abc", "/x", packet, BroadcastTarget.All);

        var back = RedisWire.DecodeBroadcast(bytes, "me"u8, _ => true)!;

        Assert.That(back.Packet.Text[..RedisWire.JsonStart(back.Packet.Text)], Is.EqualTo("52-/x,"));
        var json = System.Text.Json.Nodes.JsonNode.Parse(back.Packet.Text[RedisWire.JsonStart(back.Packet.Text)..]);
        var expected = System.Text.Json.Nodes.JsonNode.Parse(packet.Text[RedisWire.JsonStart(packet.Text)..]);
        Assert.That(System.Text.Json.Nodes.JsonNode.DeepEquals(json, expected), Is.True, "same values (numbers written the JavaScript way)");
        Assert.That(back.Packet.Text, Does.Contain(",1e+21,0.1,-0.000001,1e-7,9223372036854775807,"));
        Assert.That(back.Packet.Attachments.Select(a => a.ToArray()), Is.EqualTo(packet.Attachments.Select(a => a.ToArray())));
    }

    [TestCase(1.5, "1.5")]
    [TestCase(1e21, "1e+21")]
    [TestCase(1e20, "100000000000000000000")]
    [TestCase(1e-7, "1e-7")]
    [TestCase(0.000001, "0.000001")]
    [TestCase(-2.5e-10, "-2.5e-10")]
    [TestCase(123456.789, "123456.789")]
    public void WritesNumbersAsJavaScriptDoes(double value, string expected) =>
        Assert.That(RedisWire.JsNumber(value), Is.EqualTo(expected));

    [Test]
    public void RejectsTruncatedMessages() =>
        Assert.Throws<FormatException>(() => RedisWire.DecodeBroadcast(Convert.FromHexString(NodeBinary)[..40], "me"u8, _ => true));
}
