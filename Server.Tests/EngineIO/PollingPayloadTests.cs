using System.Buffers;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.EngineIO.Protocol;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>Polling payloads, literal wire strings and bytes: v4 records, v3 text framing, v3 binary framing, JSONP.</summary>
[TestFixture]
internal sealed class PollingPayloadTests
{
    private static readonly EngineIoPacket[] Mixed =
    [
        EngineIoPacket.Message("hello"),
        EngineIoPacket.Message("€"),
        EngineIoPacket.Message("😀"),
        EngineIoPacket.Message(""),
        EngineIoPacket.CreateBinary(new byte[] { 1, 2, 3 }),
        EngineIoPacket.PingPacket,
        EngineIoPacket.Noop,
    ];

    private static string Describe(IEnumerable<EngineIoPacket> packets) =>
        string.Join("|", packets.Select(p => p.IsBinary ? "bin:" + Convert.ToHexString(p.Binary.Span) : p.ToWireString()));

    // ---- v4 ----

    [Test]
    public void V4EncodesRecordsSeparatedBy1E()
    {
        Assert.That(PollingPayload.EncodeV4(Mixed), Is.EqualTo("4hello\u001e4€\u001e4😀\u001e4\u001ebAQID\u001e2\u001e6"));
        Assert.That(PollingPayload.EncodeV4([EngineIoPacket.Message("x")]), Is.EqualTo("4x"));
    }

    [Test]
    public void V4DecodesRecords()
    {
        var packets = new List<EngineIoPacket>();
        Assert.That(PollingPayload.TryDecodeV4("4hello\u001e4€\u001e4😀\u001e4\u001ebAQID\u001e2\u001e6", 100, packets), Is.EqualTo(DecodeError.None));
        Assert.That(Describe(packets), Is.EqualTo("4hello|4€|4😀|4|bin:010203|2|6"));
    }

    [TestCase("", DecodeError.Empty)]
    [TestCase("\u001e", DecodeError.Empty)]
    [TestCase("4a\u001e", DecodeError.Empty)]
    [TestCase("\u001e4a", DecodeError.Empty)]
    [TestCase("4a\u001e\u001e4b", DecodeError.Empty)]
    [TestCase("4a\u001e9", DecodeError.UnknownType)]
    [TestCase("4a\u001eb@@", DecodeError.BadBase64)]
    public void V4MalformedPayloads(string body, DecodeError expected)
    {
        Assert.That(PollingPayload.TryDecodeV4(body, 100, []), Is.EqualTo(expected));
    }

    [Test]
    public void V4PacketCountIsBounded()
    {
        Assert.That(PollingPayload.TryDecodeV4("4a\u001e4b\u001e4c", 3, []), Is.EqualTo(DecodeError.None));
        Assert.That(PollingPayload.TryDecodeV4("4a\u001e4b\u001e4c\u001e4d", 3, []), Is.EqualTo(DecodeError.TooManyPackets));
    }

    // ---- v3 text ----

    [Test]
    public void V3TextLengthsCountUtf16CodeUnits()
    {
        Assert.That(PollingPayload.EncodeV3Text(Mixed), Is.EqualTo("6:4hello2:4€3:4😀1:46:b4AQID1:21:6"));
        Assert.That(PollingPayload.EncodeV3Text([EngineIoPacket.Create(EngineIoPacketType.Open, "{\"sid\":\"a\"}")]), Is.EqualTo("12:0{\"sid\":\"a\"}"));
    }

    [Test]
    public void V3TextDecodes()
    {
        var packets = new List<EngineIoPacket>();
        Assert.That(PollingPayload.TryDecodeV3Text("6:4hello2:4€3:4😀1:46:b4AQID1:21:6", 100, packets), Is.EqualTo(DecodeError.None));
        Assert.That(Describe(packets), Is.EqualTo("4hello|4€|4😀|4|bin:010203|2|6"));
    }

    [TestCase("", DecodeError.Empty)]
    [TestCase("1:", DecodeError.Truncated)]
    [TestCase("3:99:", DecodeError.UnknownType)]
    [TestCase("99999991:4abc", DecodeError.Truncated)]
    [TestCase("2:4a99999991:4abc", DecodeError.Truncated)]
    [TestCase(":4a", DecodeError.BadLength)]
    [TestCase("a:4a", DecodeError.BadLength)]
    [TestCase("-1:4", DecodeError.BadLength)]
    [TestCase("4hello", DecodeError.BadLength)]
    [TestCase("2:4€", DecodeError.None)]
    [TestCase("1:4€", DecodeError.BadLength)]
    [TestCase("7:b4@@@@@", DecodeError.BadBase64)]
    [TestCase("4a\u001e4b", DecodeError.BadLength)]
    public void V3TextMalformedPayloads(string body, DecodeError expected)
    {
        Assert.That(PollingPayload.TryDecodeV3Text(body, 100, []), Is.EqualTo(expected));
    }

    [Test]
    public void V3TextRejectsThreeHundredLengthDigits()
    {
        Assert.That(PollingPayload.TryDecodeV3Text(new string('9', 300) + ":4a", 100, []), Is.EqualTo(DecodeError.BadLength));
        Assert.That(PollingPayload.TryDecodeV3Text(new string('0', 300) + "1:4", 100, []), Is.EqualTo(DecodeError.BadLength));
    }

    [Test]
    public void V3TextPacketCountIsBounded()
    {
        Assert.That(PollingPayload.TryDecodeV3Text("2:4a2:4b", 2, []), Is.EqualTo(DecodeError.None));
        Assert.That(PollingPayload.TryDecodeV3Text("2:4a2:4b2:4c", 2, []), Is.EqualTo(DecodeError.TooManyPackets));
    }

    // ---- v3 binary (XHR2) ----

    private static byte[] EncodeBinary(IReadOnlyList<EngineIoPacket> packets)
    {
        var buffer = new ArrayBufferWriter<byte>();
        PollingPayload.EncodeV3Binary(packets, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    [Test]
    public void V3BinaryFramingByteForByte()
    {
        var bytes = EncodeBinary([EngineIoPacket.Message("€"), EngineIoPacket.CreateBinary(new byte[] { 1, 2, 3 }), EngineIoPacket.Message("hello")]);
        Assert.That(bytes, Is.EqualTo(new byte[]
        {
            0x00, 0x04, 0xFF, 0x34, 0xE2, 0x82, 0xAC,             // string, length 4 (UTF-8 bytes of "4€")
            0x01, 0x04, 0xFF, 0x04, 0x01, 0x02, 0x03,             // binary, length 4, type byte 4 then the data
            0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, // string "4hello"
        }));
    }

    [Test]
    public void V3BinaryFramingWritesMultiDigitLengthsOneDigitPerByte()
    {
        var bytes = EncodeBinary([EngineIoPacket.Message(new string('a', 99))]);
        Assert.That(bytes.Take(5).ToArray(), Is.EqualTo(new byte[] { 0x00, 0x01, 0x00, 0x00, 0xFF }));
        Assert.That(bytes, Has.Length.EqualTo(105));
    }

    [Test]
    public void V3BinaryFramingDecodesBothDirections()
    {
        var packets = new List<EngineIoPacket>();
        var bytes = EncodeBinary(Mixed);
        Assert.That(PollingPayload.TryDecodeV3Binary(bytes, 100, packets), Is.EqualTo(DecodeError.None));
        Assert.That(Describe(packets), Is.EqualTo("4hello|4€|4😀|4|bin:010203|2|6"));
    }

    private static IEnumerable<TestCaseData> MalformedBinary()
    {
        yield return new TestCaseData(Array.Empty<byte>(), DecodeError.Empty).SetName("empty");
        yield return new TestCaseData(new byte[] { 0x00, 0x01, 0x02 }, DecodeError.Truncated).SetName("no 0xFF");
        yield return new TestCaseData(new byte[] { 0x00, 0x09, 0xFF, 0x34, 0x61 }, DecodeError.Truncated).SetName("length past the end");
        yield return new TestCaseData(new byte[] { 0x00, 0x01, 0xFF }, DecodeError.Truncated).SetName("missing data");
        yield return new TestCaseData(new byte[] { 0x00, 0xFF, 0x34 }, DecodeError.BadLength).SetName("no length digits");
        yield return new TestCaseData(new byte[] { 0x00, 0x31, 0xFF, 0x34 }, DecodeError.BadLength).SetName("ASCII digit instead of a digit byte");
        yield return new TestCaseData(new byte[] { 0x02, 0x01, 0xFF, 0x34 }, DecodeError.UnknownType).SetName("kind 2");
        yield return new TestCaseData(new byte[] { 0x00, 0x03, 0xFF, 0x34, 0xC3, 0x28 }, DecodeError.BadUtf8).SetName("invalid UTF-8");
        yield return new TestCaseData(new byte[] { 0x00, 0x02, 0xFF, 0x34, 0xFF }, DecodeError.BadUtf8).SetName("0xFF as text");
        yield return new TestCaseData(new byte[] { 0x01, 0x02, 0xFF, 0x02, 0x01 }, DecodeError.UnknownType).SetName("binary without type 4");
        yield return new TestCaseData(new byte[] { 0x00, 0x01, 0xFF, 0x39 }, DecodeError.UnknownType).SetName("text packet type 9");
        var digits = new byte[302];
        digits[0] = 0x00;
        for (int i = 1; i < 301; i++)
        {
            digits[i] = 9;
        }
        digits[301] = 0xFF;
        yield return new TestCaseData(digits, DecodeError.BadLength).SetName("300 length digits");
    }

    [TestCaseSource(nameof(MalformedBinary))]
    public void V3BinaryMalformedPayloads(byte[] body, DecodeError expected)
    {
        Assert.That(PollingPayload.TryDecodeV3Binary(body, 100, []), Is.EqualTo(expected));
    }

    [Test]
    public void V3BinaryPacketCountIsBounded()
    {
        var bytes = EncodeBinary([EngineIoPacket.Message("a"), EngineIoPacket.Message("b"), EngineIoPacket.Message("c")]);
        Assert.That(PollingPayload.TryDecodeV3Binary(bytes, 3, []), Is.EqualTo(DecodeError.None));
        Assert.That(PollingPayload.TryDecodeV3Binary(bytes, 2, []), Is.EqualTo(DecodeError.TooManyPackets));
    }

    [Test]
    public void ChoosesTheEncodingFromVersionAndBinarySupport()
    {
        var text = new[] { EngineIoPacket.Message("a") };
        var binary = new[] { EngineIoPacket.Message("a"), EngineIoPacket.CreateBinary(new byte[] { 1 }) };
        Assert.That(PollingPayload.ChooseEncoding(4, true, binary), Is.EqualTo(PollingPayload.Encoding3Or4.V4));
        Assert.That(PollingPayload.ChooseEncoding(3, true, text), Is.EqualTo(PollingPayload.Encoding3Or4.V3Text));
        Assert.That(PollingPayload.ChooseEncoding(3, true, binary), Is.EqualTo(PollingPayload.Encoding3Or4.V3Binary));
        Assert.That(PollingPayload.ChooseEncoding(3, false, binary), Is.EqualTo(PollingPayload.Encoding3Or4.V3Text));
    }

    // ---- JSONP ----

    [Test]
    public void JsonpWrapsThePayloadAsAJavaScriptString()
    {
        Assert.That(PollingPayload.EncodeJsonp("5:4a\"b", "0"), Is.EqualTo("___eio[0](\"5:4a\\\"b\");"));
        Assert.That(PollingPayload.EncodeJsonp("4:4a\nb", "12"), Is.EqualTo("___eio[12](\"4:4a\\nb\");"));
        Assert.That(PollingPayload.EncodeJsonp("3:4\\x", "1"), Is.EqualTo("___eio[1](\"3:4\\\\x\");"));
        Assert.That(PollingPayload.EncodeJsonp("2:4\u2028", "1"), Is.EqualTo("___eio[1](\"2:4\\u2028\");"));
        Assert.That(PollingPayload.EncodeJsonp("2:4€", "1"), Is.EqualTo("___eio[1](\"2:4€\");"));
    }

    [Test]
    public void JsonpBodyUnescapesNewlinesTheClientEscaped()
    {
        // The client sends a newline as backslash-n, and an original backslash-n as backslash-backslash-n.
        Assert.That(PollingPayload.TryReadJsonpBody("d=4%3A4a%5Cnb", out var payload), Is.True);
        Assert.That(payload, Is.EqualTo("4:4a\nb"));
        Assert.That(PollingPayload.TryReadJsonpBody("d=5%3A4c%5C%5Cnd", out payload), Is.True);
        Assert.That(payload, Is.EqualTo("5:4c\\nd"));
        Assert.That(PollingPayload.TryReadJsonpBody("d=4%3A4a+b", out payload), Is.True);
        Assert.That(payload, Is.EqualTo("4:4a b"));
        Assert.That(PollingPayload.TryReadJsonpBody("x=1&d=2%3A4%E2%82%AC", out payload), Is.True);
        Assert.That(payload, Is.EqualTo("2:4€"));
    }

    [TestCase("")]
    [TestCase("x=1")]
    [TestCase("d=1&d=2")]
    public void JsonpBodyWithoutExactlyOneDIsRefused(string body)
    {
        Assert.That(PollingPayload.TryReadJsonpBody(body, out _), Is.False);
    }

    [Test]
    public void DecodersNeverThrowOnArbitraryInput()
    {
        var random = new Random(1234);
        for (int i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 40)];
            random.NextBytes(bytes);
            var text = Encoding.Latin1.GetString(bytes);
            Assert.DoesNotThrow(() =>
            {
                PollingPayload.TryDecodeV3Binary(bytes, 100, []);
                PollingPayload.TryDecodeV3Text(text, 100, []);
                PollingPayload.TryDecodeV4(text, 100, []);
                PollingPayload.TryReadJsonpBody(text, out _);
            });
        }
    }
}
