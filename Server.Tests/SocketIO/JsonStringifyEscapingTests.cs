using NUnit.Framework;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>Strings are escaped exactly as JSON.stringify escapes them, so packets equal the reference's bytes.</summary>
[TestFixture]
public sealed class JsonStringifyEscapingTests
{
    [TestCase("комната 🎉", "2[\"ev\",\"комната 🎉\"]")]
    [TestCase("<a href='x'>&amp;</a>+", "2[\"ev\",\"<a href='x'>&amp;</a>+\"]")]
    [TestCase("q\"b\\s", "2[\"ev\",\"q\\\"b\\\\s\"]")]
    [TestCase("\b\f\n\r\t\u0001\u001f", "2[\"ev\",\"\\b\\f\\n\\r\\t\\u0001\\u001f\"]")]
    [TestCase("\u007f\u0080\u009f\u2028\u2029", "2[\"ev\",\"\u007f\u0080\u009f\u2028\u2029\"]")]
    [TestCase("ÐºÐ¾", "2[\"ev\",\"ÐºÐ¾\"]")]
    public void EscapesOnlyWhatJsonStringifyEscapes(string value, string wire) =>
        Assert.That(SocketIoEncoder.EncodeEvent("/", "ev", [value]).Text, Is.EqualTo(wire));

    /// <summary>
    /// The one difference: a lone surrogate (which no client can send us: the parser refuses it) becomes U+FFFD,
    /// where JSON.stringify would write \ud800; System.Text.Json transcodes to UTF-8 before escaping.
    /// </summary>
    [Test]
    public void LoneSurrogatesBecomeTheReplacementCharacter() =>
        Assert.That(SocketIoEncoder.EncodeEvent("/", "ev", ["a\ud800b"]).Text, Is.EqualTo("2[\"ev\",\"a\ufffdb\"]"));
}
