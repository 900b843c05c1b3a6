using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>
/// JSON relayed and re-encoded is <c>JSON.stringify(JSON.parse(x))</c> for every x Node's JSON.parse takes: numbers in
/// ECMAScript's form, array-index keys first in ascending order, the last of duplicate keys (at the first one's
/// place). The expected texts are V8's (the same cases run against Node in RawJsonDifferentialTests); canonical
/// input keeps the fast path (copied as sent, no rewrite).
/// </summary>
[TestFixture]
public sealed class JsonCanonicalTests
{
    private static readonly SocketIoParserLimits Limits = new();

    [TestCase(0.0, "0")]
    [TestCase(-0.0, "0")]
    [TestCase(1.0, "1")]
    [TestCase(-1.5, "-1.5")]
    [TestCase(100000.0, "100000")]
    [TestCase(1e20, "100000000000000000000")]
    [TestCase(1e21, "1e+21")]
    [TestCase(1.5e21, "1.5e+21")]
    [TestCase(123456789012345680000.0, "123456789012345680000")]
    [TestCase(1.2345678901234568e+29, "1.2345678901234568e+29")]
    [TestCase(0.1, "0.1")]
    [TestCase(0.000001, "0.000001")]
    [TestCase(1e-7, "1e-7")]
    [TestCase(-1.5e-7, "-1.5e-7")]
    [TestCase(1.5e-10, "1.5e-10")]
    [TestCase(0.30000000000000004, "0.30000000000000004")]
    [TestCase(5e-324, "5e-324")]
    [TestCase(1.7976931348623157e308, "1.7976931348623157e+308")]
    [TestCase(9007199254740992.0, "9007199254740992")]
    [TestCase(12345678900.0, "12345678900")]
    [TestCase(1.23456, "1.23456")]
    [TestCase(double.PositiveInfinity, "null")]
    [TestCase(double.NegativeInfinity, "null")]
    [TestCase(double.NaN, "null")]
    public void NumbersAreWrittenAsEcmaScriptDoes(double value, string expected)
    {
        Span<byte> text = stackalloc byte[EcmaNumber.MaxLength];
        int length = EcmaNumber.FormatJson(value, text);
        Assert.That(Encoding.ASCII.GetString(text[..length]), Is.EqualTo(expected));
    }

    [TestCase("0", true)]
    [TestCase("-0", false)]
    [TestCase("7", true)]
    [TestCase("-123456789012345", true)]
    [TestCase("1234567890123456", true)]
    [TestCase("9007199254740993", false)]
    [TestCase("1.5", true)]
    [TestCase("1.50", false)]
    [TestCase("1.0", false)]
    [TestCase("1E5", false)]
    [TestCase("1e+21", true)]
    [TestCase("1e21", false)]
    [TestCase("1e-7", true)]
    [TestCase("0.0000001", false)]
    [TestCase("5e-324", true)]
    [TestCase("2e-324", false)]
    [TestCase("1e400", false)]
    public void NumberTokensAreRecognizedAsCanonicalOrNot(string token, bool canonical) =>
        Assert.That(EcmaNumber.IsCanonical(Encoding.ASCII.GetBytes(token)), Is.EqualTo(canonical));

    // As sent → as Node relays it (JSON.stringify(JSON.parse(x))).
    [TestCase("-0", "0")]
    [TestCase("-0.0", "0")]
    [TestCase("1.0", "1")]
    [TestCase("1E5", "100000")]
    [TestCase("1e21", "1e+21")]
    [TestCase("1000000000000000000000", "1e+21")]
    [TestCase("0.0000001", "1e-7")]
    [TestCase("2e-324", "0")]
    [TestCase("9007199254740993", "9007199254740992")]
    [TestCase("1e400", "null")]
    [TestCase("-1e400", "null")]
    [TestCase("1e-400", "0")]
    [TestCase("-1e-400", "0")]
    [TestCase("[1.0,-0,{\"x\":1E2},[2e-324,1e400]]", "[1,0,{\"x\":100},[0,null]]")]
    [TestCase("{\"b\":1,\"1\":2}", "{\"1\":2,\"b\":1}")]
    [TestCase("{\"2\":1,\"1\":2,\"a\":3,\"0\":4}", "{\"0\":4,\"1\":2,\"2\":1,\"a\":3}")]
    [TestCase("{\"4294967295\":1,\"4294967294\":2}", "{\"4294967294\":2,\"4294967295\":1}")]
    [TestCase("{\"01\":1,\"1\":2}", "{\"1\":2,\"01\":1}")]
    [TestCase("{\"b\":1,\"\\u0031\":2}", "{\"1\":2,\"b\":1}")]
    [TestCase("{\"a\":{\"z\":0,\"10\":1,\"9\":2},\"0\":[{\"b\":1,\"3\":2}]}", "{\"0\":[{\"3\":2,\"b\":1}],\"a\":{\"9\":2,\"10\":1,\"z\":0}}")]
    [TestCase("{\"a\":1,\"a\":2}", "{\"a\":2}")]
    [TestCase("{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}")]
    [TestCase("{\"__proto__\":1,\"__proto__\":2}", "{\"__proto__\":2}")]
    [TestCase("{\"a\":{\"b\":1,\"b\":2},\"a\":5}", "{\"a\":5}")]
    [TestCase("{\"1\":\"x\",\"b\":0,\"1\":\"y\"}", "{\"1\":\"y\",\"b\":0}")]
    [TestCase("{\"a\":1,\"\\u0061\":2}", "{\"a\":2}")]
    [TestCase("{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10,\"k11\":11,\"k12\":12,\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16,\"k17\":17,\"k3\":\"again\"}",
        "{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":\"again\",\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10,\"k11\":11,\"k12\":12,\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16,\"k17\":17}")]
    [TestCase("{ \"b\" : 1E2 , \"1\" : -0 , \"b\" : \"\\u00e9\\/\" }", "{\"1\":0,\"b\":\"é/\"}")]
    public void NonCanonicalJsonIsRelayedAsJsonStringifyWritesIt(string sent, string expected)
    {
        Assert.That(SocketIoParser.TryDecode(Encoding.UTF8.GetBytes($"2[\"message\",{sent}]"), 5, Limits, out var packet, out var error), Is.True, error);
        var slice = packet!.Elements![1];
        var raw = new RawJson(packet.RawData.Slice(slice.Start, slice.Length), slice.Canonical, 64);
        Assert.That(SocketIoEncoder.EncodeEvent("/", "message", [raw]).Text, Is.EqualTo($"2[\"message\",{expected}]"), "relayed as sent");
        Assert.That(SocketIoEncoder.EncodeEvent("/", "message", [raw.ToNode()]).Text, Is.EqualTo($"2[\"message\",{expected}]"), "through a tree");
        // From text (the polling path) the same.
        Assert.That(SocketIoParser.TryDecode($"2[\"message\",{sent}]", 5, Limits, out var fromText, out _), Is.True);
        Assert.That(SocketIoEncoder.EncodeEvent("/", "message", [fromText!.Data![1]]).Text, Is.EqualTo($"2[\"message\",{expected}]"), "from text");
    }

    [TestCase("[\"message\",{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"},1,-2.5,1e+21,1e-7,{\"0\":1,\"1\":2,\"a\":3},[true,null]]")]
    [TestCase("[\"message\",123456789012345,-0.5,{\"candidate\":\"c\",\"sdpMLineIndex\":0}]")]
    public void CanonicalJsonKeepsTheFastPath(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.That(JsonScan.TryScan(bytes, 64, true, out _, out var elements, out _, out bool rewrite), Is.True);
        Assert.That(rewrite, Is.False, "no rewrite for canonical input");
        Assert.That(elements!.All(e => e.Canonical), Is.True, "every argument copied as sent");
        var frame = Encoding.UTF8.GetBytes("2" + json);
        Assert.That(SocketIoParser.TryDecode(frame, 5, Limits, out var packet, out _), Is.True);
        Assert.That(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(packet!.RawData, out var segment) && ReferenceEquals(segment.Array, frame), Is.True,
            "the packet keeps the received bytes (no copy)");
    }

    [Test]
    public void ValuesMadeByHandlersAreWrittenAsJsonStringifyWouldWriteThem()
    {
        var obj = new JsonObject { ["b"] = 1, ["10"] = 2, ["9"] = 3.0, ["x"] = 1e21 };
        var text = SocketIoEncoder.EncodeEvent("/", "e", [1e21, -0.0, double.NaN, 9007199254740993L, 0.1f, obj, JsonDocument.Parse("[1E5,-0]").RootElement]).Text;
        Assert.That(text, Is.EqualTo("2[\"e\",1e+21,0,null,9007199254740993,0.10000000149011612,{\"9\":3,\"10\":2,\"b\":1,\"x\":1e+21},[100000,0]]"));
    }
}
