using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Signaling;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>String(value) as JavaScript computes it, for every JSON type the codelab's room may be.</summary>
[TestFixture]
public sealed class JsStringTests
{
    [TestCase("\"foo\"", "foo")]
    [TestCase("42", "42")]
    [TestCase("1e21", "1e+21")]
    [TestCase("1e20", "100000000000000000000")]
    [TestCase("-0", "0")]
    [TestCase("0.1", "0.1")]
    [TestCase("1.5e-7", "1.5e-7")]
    [TestCase("0.000001", "0.000001")]
    [TestCase("123456789012345680000", "123456789012345680000")]
    [TestCase("-2.5", "-2.5")]
    [TestCase("true", "true")]
    [TestCase("false", "false")]
    [TestCase("null", "null")]
    [TestCase("{\"a\":1}", "[object Object]")]
    [TestCase("[1,\"x\",null]", "1,x,")]
    [TestCase("[[1,2],[3]]", "1,2,3")]
    [TestCase("[]", "")]
    [TestCase("\"комната 🎉\"", "комната 🎉")]
    public void ConvertsLikeJavaScript(string json, string expected)
    {
        var node = JsonNode.Parse(json);
        Assert.That(JsString.From(node), Is.EqualTo(expected));
    }

    [Test]
    public void MissingArgumentIsUndefined() => Assert.That(JsString.From(null, present: false), Is.EqualTo("undefined"));

    [Test]
    public void BinaryIsDecodedAsUtf8LikeBufferToString() =>
        Assert.That(JsString.From(SocketIoBinary.ToNode("hé"u8.ToArray())), Is.EqualTo("hé"));

    [TestCase(5e-7, "5e-7")]
    [TestCase(123e-20, "1.23e-18")]
    [TestCase(1e300, "1e+300")]
    [TestCase(double.MaxValue, "1.7976931348623157e+308")]
    [TestCase(4.35, "4.35")]
    [TestCase(100.0, "100")]
    public void NumberToStringMatchesEcmaScript(double value, string expected) =>
        Assert.That(JsString.Number(value), Is.EqualTo(expected));
}
