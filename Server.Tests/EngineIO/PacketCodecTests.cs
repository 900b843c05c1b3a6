using System.Text;
using NUnit.Framework;
using SocketIoSignal.EngineIO.Protocol;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>Single Engine.IO packets: the string form, WebSocket text and binary frames, both protocol versions.</summary>
[TestFixture]
internal sealed class PacketCodecTests
{
    [TestCase("0{\"sid\":\"abc\"}", EngineIoPacketType.Open, "{\"sid\":\"abc\"}")]
    [TestCase("1", EngineIoPacketType.Close, "")]
    [TestCase("2", EngineIoPacketType.Ping, "")]
    [TestCase("2probe", EngineIoPacketType.Ping, "probe")]
    [TestCase("3probe", EngineIoPacketType.Pong, "probe")]
    [TestCase("4hello", EngineIoPacketType.Message, "hello")]
    [TestCase("4", EngineIoPacketType.Message, "")]
    [TestCase("4€😀", EngineIoPacketType.Message, "€😀")]
    [TestCase("5", EngineIoPacketType.Upgrade, "")]
    [TestCase("6", EngineIoPacketType.Noop, "")]
    public void DecodesEveryTextPacketTypeInBothVersions(string wire, EngineIoPacketType type, string data)
    {
        foreach (int protocol in new[] { 3, 4 })
        {
            Assert.That(PacketCodec.TryDecode(wire, protocol, allowBase64: true, out var packet), Is.EqualTo(DecodeError.None));
            Assert.That(packet!.Type, Is.EqualTo(type));
            Assert.That(packet.IsBinary, Is.False);
            Assert.That(packet.Text, Is.EqualTo(data));
            Assert.That(packet.ToWireString(), Is.EqualTo(wire), "encodes back to the same string");
        }
    }

    [TestCase(EngineIoPacketType.Open, "{}", "0{}")]
    [TestCase(EngineIoPacketType.Close, "", "1")]
    [TestCase(EngineIoPacketType.Ping, "probe", "2probe")]
    [TestCase(EngineIoPacketType.Pong, "", "3")]
    [TestCase(EngineIoPacketType.Message, "€", "4€")]
    [TestCase(EngineIoPacketType.Upgrade, "", "5")]
    [TestCase(EngineIoPacketType.Noop, "", "6")]
    public void EncodesEveryTypeAsItsDigit(EngineIoPacketType type, string data, string wire)
    {
        var packet = EngineIoPacket.Create(type, data);
        Assert.That(packet.ToWireString(), Is.EqualTo(wire));
        Assert.That(packet.TextFrame().ToArray(), Is.EqualTo(Encoding.UTF8.GetBytes(wire)));
    }

    [Test]
    public void TextFrameIsUtf8OfTheWireString()
    {
        Assert.That(EngineIoPacket.Message("€").TextFrame().ToArray(), Is.EqualTo(new byte[] { 0x34, 0xE2, 0x82, 0xAC }));
        Assert.That(EngineIoPacket.Message("😀").TextFrame().ToArray(), Is.EqualTo(new byte[] { 0x34, 0xF0, 0x9F, 0x98, 0x80 }));
        Assert.That(EngineIoPacket.Message("").TextFrame().ToArray(), Is.EqualTo(new byte[] { 0x34 }));
    }

    [Test]
    public void BinaryFrameIsRawInV4AndPrefixedWithType4InV3()
    {
        var packet = EngineIoPacket.CreateBinary(new byte[] { 1, 2, 3 });
        Assert.That(packet.BinaryFrame(4).ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(packet.BinaryFrame(3).ToArray(), Is.EqualTo(new byte[] { 4, 1, 2, 3 }));
        Assert.That(EngineIoPacket.CreateBinary(Array.Empty<byte>()).BinaryFrame(3).ToArray(), Is.EqualTo(new byte[] { 4 }));
    }

    [Test]
    public void V4DecodesBase64BinaryRecord()
    {
        Assert.That(PacketCodec.TryDecode("bAQID", 4, allowBase64: true, out var packet), Is.EqualTo(DecodeError.None));
        Assert.That(packet!.IsBinary, Is.True);
        Assert.That(packet.Type, Is.EqualTo(EngineIoPacketType.Message));
        Assert.That(packet.Binary.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(PacketCodec.TryDecode("b", 4, allowBase64: true, out var empty), Is.EqualTo(DecodeError.None));
        Assert.That(empty!.Binary.Length, Is.Zero);
    }

    [Test]
    public void V3DecodesB4Base64Packet()
    {
        Assert.That(PacketCodec.TryDecode("b4AQID", 3, allowBase64: true, out var packet), Is.EqualTo(DecodeError.None));
        Assert.That(packet!.IsBinary, Is.True);
        Assert.That(packet.Binary.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [TestCase("", 4, true, DecodeError.Empty)]
    [TestCase("", 3, true, DecodeError.Empty)]
    [TestCase("7", 4, true, DecodeError.UnknownType)]
    [TestCase("x4", 3, true, DecodeError.UnknownType)]
    [TestCase("/", 4, true, DecodeError.UnknownType)]
    [TestCase("bAQ!D", 4, true, DecodeError.BadBase64)]
    [TestCase("bA", 4, true, DecodeError.BadBase64)]
    [TestCase("b4@@@@", 3, true, DecodeError.BadBase64)]
    [TestCase("b3AQID", 3, true, DecodeError.UnknownType)]
    [TestCase("b", 3, true, DecodeError.UnknownType)]
    [TestCase("bAQID", 4, false, DecodeError.UnknownType)]
    public void MalformedPacketsGiveADecodeError(string wire, int protocol, bool allowBase64, DecodeError expected)
    {
        Assert.That(PacketCodec.TryDecode(wire, protocol, allowBase64, out var packet), Is.EqualTo(expected));
        Assert.That(packet, Is.Null);
    }

    [Test]
    public void V3BinaryFrameNeedsTheMessageTypeByte()
    {
        Assert.That(PacketCodec.TryDecodeV3BinaryFrame(new byte[] { 4, 1, 2, 3 }, out var packet), Is.EqualTo(DecodeError.None));
        Assert.That(packet!.Binary.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(PacketCodec.TryDecodeV3BinaryFrame(new byte[] { 4 }, out var empty), Is.EqualTo(DecodeError.None));
        Assert.That(empty!.Binary.Length, Is.Zero);
        Assert.That(PacketCodec.TryDecodeV3BinaryFrame(Array.Empty<byte>(), out _), Is.EqualTo(DecodeError.Empty));
        Assert.That(PacketCodec.TryDecodeV3BinaryFrame(new byte[] { 2, 1 }, out _), Is.EqualTo(DecodeError.UnknownType));
        Assert.That(PacketCodec.TryDecodeV3BinaryFrame(new byte[] { 0x34, 1 }, out _), Is.EqualTo(DecodeError.UnknownType));
    }
}
