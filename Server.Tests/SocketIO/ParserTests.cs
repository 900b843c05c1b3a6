using System.Text;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>The decoder on literal wire strings: every packet type of protocols 4 and 5, and every hostile input of THREATS.md.</summary>
[TestFixture]
public sealed class ParserTests
{
    private static readonly SocketIoParserLimits Limits = new();

    private static SocketIoPacket Decode(string text, int protocol = 5)
    {
        bool ok = SocketIoParser.TryDecode(text, protocol, Limits, out var packet, out var error);
        Assert.That(ok, Is.True, $"'{Shorten(text)}' was rejected: {error}");
        return packet!;
    }

    private static void AssertRejected(string text, int protocol = 5)
    {
        bool ok = true;
        string error = "";
        Assert.DoesNotThrow(() => ok = SocketIoParser.TryDecode(text, protocol, Limits, out _, out error));
        Assert.That(ok, Is.False, $"'{Shorten(text)}' was accepted");
        Assert.That(error, Is.Not.Empty);
    }

    private static string Shorten(string s) => s.Length > 80 ? s[..80] + "…" : s;

    // ---- packet types ----

    [TestCase(4)]
    [TestCase(5)]
    public void ConnectToMainNamespace(int protocol)
    {
        var p = Decode("0", protocol);
        Assert.That(p.Type, Is.EqualTo(SocketIoPacketType.Connect));
        Assert.That(p.Namespace, Is.EqualTo("/"));
        Assert.That(p.Data, Is.Null);
        Assert.That(p.AckId, Is.Null);
    }

    [TestCase("0/chat,", 4)]
    [TestCase("0/chat", 4)]
    [TestCase("0/chat,", 5)]
    [TestCase("0/chat", 5)]
    public void ConnectToCustomNamespace(string text, int protocol)
    {
        var p = Decode(text, protocol);
        Assert.That(p.Type, Is.EqualTo(SocketIoPacketType.Connect));
        Assert.That(p.Namespace, Is.EqualTo("/chat"));
        Assert.That(p.Query, Is.Null);
    }

    [Test]
    public void ProtocolFourConnectCarriesTheNamespaceQuery()
    {
        var p = Decode("0/chat?token=abc&x=1,", 4);
        Assert.That(p.Namespace, Is.EqualTo("/chat"));
        Assert.That(p.Query, Is.EqualTo("token=abc&x=1"));
    }

    [Test]
    public void ProtocolFiveConnectCarriesAuth()
    {
        var p = Decode("0{\"token\":\"123\"}");
        Assert.That(p.Data, Is.InstanceOf<JsonObject>());
        Assert.That(p.Data!["token"]!.GetValue<string>(), Is.EqualTo("123"));

        var custom = Decode("0/custom,{\"token\":\"abc\"}");
        Assert.That(custom.Namespace, Is.EqualTo("/custom"));
        Assert.That(custom.Data!["token"]!.GetValue<string>(), Is.EqualTo("abc"));
    }

    [TestCase("0\"str\"")]
    [TestCase("0[1]")]
    [TestCase("0123")]
    public void ProtocolFiveConnectPayloadMustBeAnObject(string text) => AssertRejected(text);

    [Test]
    public void ProtocolFourConnectCarriesNoPayload() => AssertRejected("0{\"token\":\"1\"}", 4);

    [TestCase("1", "/")]
    [TestCase("1/chat,", "/chat")]
    [TestCase("1/chat", "/chat")]
    public void Disconnect(string text, string nsp)
    {
        foreach (int protocol in new[] { 4, 5 })
        {
            var p = Decode(text, protocol);
            Assert.That(p.Type, Is.EqualTo(SocketIoPacketType.Disconnect));
            Assert.That(p.Namespace, Is.EqualTo(nsp));
        }
    }

    [TestCase(4)]
    [TestCase(5)]
    public void EventWithArguments(int protocol)
    {
        var p = Decode("2[\"message\",1,\"2\",{\"3\":[true]},null]", protocol);
        Assert.That(p.Type, Is.EqualTo(SocketIoPacketType.Event));
        var array = (JsonArray)p.Data!;
        Assert.That(array.ToJsonString(), Is.EqualTo("[\"message\",1,\"2\",{\"3\":[true]},null]"));
        Assert.That(p.AckId, Is.Null);
    }

    [Test]
    public void EventInANamespaceWithAnAckId()
    {
        var p = Decode("2/chat,456[\"hi\",\"there\"]");
        Assert.That(p.Namespace, Is.EqualTo("/chat"));
        Assert.That(p.AckId, Is.EqualTo(456));
        Assert.That(p.Data!.ToJsonString(), Is.EqualTo("[\"hi\",\"there\"]"));

        var main = Decode("2456[\"message-with-ack\",1]");
        Assert.That(main.Namespace, Is.EqualTo("/"));
        Assert.That(main.AckId, Is.EqualTo(456));
    }

    [Test]
    public void EventNameMayBeANumber() => Assert.That(Decode("2[42,\"x\"]").Data![0]!.GetValue<int>(), Is.EqualTo(42));

    [Test]
    public void AckPackets()
    {
        var p = Decode("3456[1,\"2\"]");
        Assert.That(p.Type, Is.EqualTo(SocketIoPacketType.Ack));
        Assert.That(p.AckId, Is.EqualTo(456));
        Assert.That(p.Data!.ToJsonString(), Is.EqualTo("[1,\"2\"]"));

        var nsp = Decode("3/chat,7[]", 4);
        Assert.That(nsp.Namespace, Is.EqualTo("/chat"));
        Assert.That(nsp.AckId, Is.EqualTo(7));
    }

    [TestCase("3[1]")]
    [TestCase("37")]
    [TestCase("37{\"a\":1}")]
    public void AckNeedsAnIdAndAnArray(string text) => AssertRejected(text);

    [Test]
    public void BinaryEventWithPlaceholdersIsReconstructed()
    {
        var p = Decode("52-[\"message\",{\"_placeholder\":true,\"num\":0},{\"a\":{\"_placeholder\":true,\"num\":1}}]");
        Assert.That(p.Type, Is.EqualTo(SocketIoPacketType.BinaryEvent));
        Assert.That(p.Attachments, Is.EqualTo(2));
        Assert.That(p.IsBinary, Is.True);
        Assert.That(SocketIoParser.TryReconstruct(p, [new byte[] { 1, 2, 3 }, new byte[] { 4, 5, 6 }]), Is.True);
        Assert.That(SocketIoBinary.TryGet(p.Data![1], out var first), Is.True);
        Assert.That(first.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(SocketIoBinary.TryGet(p.Data![2]!["a"], out var second), Is.True);
        Assert.That(second.ToArray(), Is.EqualTo(new byte[] { 4, 5, 6 }));
    }

    [TestCase(4)]
    [TestCase(5)]
    public void BinaryEventWithNamespaceAndAckId(int protocol)
    {
        var p = Decode("51-/chat,789[\"up\",{\"_placeholder\":true,\"num\":0}]", protocol);
        Assert.That(p.Namespace, Is.EqualTo("/chat"));
        Assert.That(p.AckId, Is.EqualTo(789));
        Assert.That(p.Attachments, Is.EqualTo(1));
    }

    [Test]
    public void BinaryAck()
    {
        var p = Decode("62-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
        Assert.That(p.Type, Is.EqualTo(SocketIoPacketType.BinaryAck));
        Assert.That(p.AckId, Is.EqualTo(789));
        Assert.That(SocketIoParser.TryReconstruct(p, [new byte[] { 9 }, new byte[] { 8 }]), Is.True);
        Assert.That(SocketIoBinary.TryGet(p.Data![1], out var data), Is.True);
        Assert.That(data.ToArray(), Is.EqualTo(new byte[] { 8 }));
    }

    [Test]
    public void PlaceholderFalseIsOrdinaryData()
    {
        var p = Decode("51-[\"x\",{\"_placeholder\":false,\"num\":0},{\"_placeholder\":true,\"num\":0}]");
        Assert.That(SocketIoParser.TryReconstruct(p, [new byte[] { 1 }]), Is.True);
        Assert.That(p.Data![1]!.ToJsonString(), Is.EqualTo("{\"_placeholder\":false,\"num\":0}"));
    }

    // ---- invalid, from the reference suite and THREATS.md ----

    [TestCase("")]
    [TestCase("7")]
    [TestCase("a")]
    [TestCase("4abc")]
    [TestCase("4{\"message\":\"x\"}")]
    [TestCase("4\"x\"")]
    public void UnknownTypesAndServerOnlyPacketsAreRejected(string text)
    {
        AssertRejected(text, 4);
        AssertRejected(text, 5);
    }

    [TestCase("2{}")]
    [TestCase("2\"message\"")]
    [TestCase("2")]
    [TestCase("2[]")]
    [TestCase("2[null]")]
    [TestCase("2[{\"toString\":\"foo\"}]")]
    [TestCase("2[[\"a\"]]")]
    [TestCase("2[true]")]
    [TestCase("2abc[\"message-with-ack\",1]")]
    [TestCase("2[\"a\"]x")]
    [TestCase("2[\"a\"]]")]
    [TestCase("2[\"a\",]")]
    [TestCase("2['a']")]
    [TestCase("2/chat")]
    [TestCase("1/chat,{}")]
    [TestCase("12")]
    [TestCase("05")]
    public void MalformedPayloadsAreRejected(string text) => AssertRejected(text);

    [TestCase("error")]
    [TestCase("connect")]
    [TestCase("connect_error")]
    [TestCase("disconnect")]
    [TestCase("disconnecting")]
    [TestCase("newListener")]
    [TestCase("removeListener")]
    public void ReservedEventNamesAreRejected(string name)
    {
        AssertRejected($"2[\"{name}\"]", 4);
        AssertRejected($"2[\"{name}\",1]", 5);
        AssertRejected($"51-[\"{name}\",{{\"_placeholder\":true,\"num\":0}}]", 5);
    }

    [Test]
    public void ReservedNamesAreCaseSensitive() => Decode("2[\"Error\"]");

    [TestCase("50-[\"a\"]")]
    [TestCase("511-[\"a\"]")]
    [TestCase("511-/chat,[\"a\"]")]
    [TestCase("511-1[\"a\"]")]
    [TestCase("60-1[]")]
    [TestCase("611-1[]")]
    [TestCase("5-[\"a\"]")]
    [TestCase("5[\"a\"]")]
    [TestCase("5x-[\"a\"]")]
    [TestCase("6-1[]")]
    public void AttachmentCountsOutsideOneToTenAreRejected(string text) => AssertRejected(text);

    [Test]
    public void TenAttachmentsAreTheLimit()
    {
        var placeholders = string.Join(",", Enumerable.Range(0, 10).Select(i => $"{{\"_placeholder\":true,\"num\":{i}}}"));
        Assert.That(Decode($"510-[\"a\",{placeholders}]").Attachments, Is.EqualTo(10));
    }

    [Test]
    public void HundredThousandDigitAttachmentCountIsRejected()
    {
        AssertRejected("5" + new string('9', 100_000) + "-[\"a\"]");
        AssertRejected("5" + new string('0', 100_000) + "1-[\"a\"]");
    }

    [Test]
    public void AckIdWithHundredDigitsIsRejected()
    {
        AssertRejected("2" + new string('9', 100) + "[\"a\"]");
        AssertRejected("3" + new string('1', 100) + "[]");
        AssertRejected("5" + "1-" + new string('1', 100) + "[\"a\",{\"_placeholder\":true,\"num\":0}]");
    }

    [Test]
    public void LongestAllowedAckIdDecodes() => Assert.That(Decode("2999999999999999[\"a\"]").AckId, Is.EqualTo(999_999_999_999_999L));

    [Test]
    public void JsonNestedHundredThousandDeepIsRejected()
    {
        var deep = "2[\"a\"," + new string('[', 100_000) + new string(']', 100_000) + "]";
        AssertRejected(deep);
        var deepObjects = new StringBuilder("2[\"a\",");
        for (int i = 0; i < 100_000; i++)
        {
            deepObjects.Append("{\"a\":");
        }
        deepObjects.Append('1').Append('}', 100_000).Append(']');
        AssertRejected(deepObjects.ToString());
    }

    [Test]
    public void ModeratelyNestedJsonDecodes() => Decode("2[\"a\"," + new string('[', 30) + new string(']', 30) + "]");

    [TestCase("2[\"a\",NaN]")]
    [TestCase("2[\"a\",Infinity]")]
    [TestCase("2[\"a\",-Infinity]")]
    public void NonJsonNumbersAreRejected(string text) => AssertRejected(text);

    [TestCase("2[\"a\",\"\\ud800\"]")]
    [TestCase("2[\"a\",\"\\udc00x\"]")]
    [TestCase("2[\"\\ud83d\"]")]
    [TestCase("2[\"a\",{\"\\ud800\":1}]")]
    public void EscapedLoneSurrogatesAreRejected(string text) => AssertRejected(text);

    [Test]
    public void RawLoneSurrogatesAreRejected()
    {
        AssertRejected("2[\"a\",\"\ud800\"]");
        AssertRejected("2[\"\udc00\"]");
    }

    [Test]
    public void SurrogatePairsAreFine() =>
        Assert.That(Decode("2[\"a\",\"\\ud83d\\ude00\",\"😀\"]").Data![1]!.GetValue<string>(), Is.EqualTo("😀"));

    [TestCase("{\"_placeholder\":true,\"num\":\"splice\"}")]
    [TestCase("{\"_placeholder\":true,\"num\":-1}")]
    [TestCase("{\"_placeholder\":true,\"num\":1}")]
    [TestCase("{\"_placeholder\":true,\"num\":1.5}")]
    [TestCase("{\"_placeholder\":true,\"num\":0.5}")]
    [TestCase("{\"_placeholder\":true,\"num\":99999999999}")]
    [TestCase("{\"_placeholder\":true}")]
    [TestCase("{\"_placeholder\":true,\"num\":null}")]
    [TestCase("{\"_placeholder\":true,\"num\":[0]}")]
    public void BadPlaceholdersFailReconstruction(string placeholder)
    {
        var p = Decode($"51-[\"a\",{placeholder}]");
        bool ok = true;
        Assert.DoesNotThrow(() => ok = SocketIoParser.TryReconstruct(p, [new byte[] { 1 }]));
        Assert.That(ok, Is.False);
    }

    [Test]
    public void NestedBadPlaceholderFailsReconstruction()
    {
        var p = Decode("51-[\"a\",{\"b\":[{\"_placeholder\":true,\"num\":\"splice\"}]}]");
        Assert.That(SocketIoParser.TryReconstruct(p, [new byte[] { 1 }]), Is.False);
    }

    [Test]
    public void NothingHostileThrows()
    {
        string[] inputs =
        [
            "2[{\"toString\":\"foo\"}]", "2[null]", "2[]", "2[\"error\"]", "5" + new string('1', 100_000), "0/" + new string('a', 100_000),
            "2/" + new string(',', 1000), "2" + new string('[', 100_000), "2[\"a\",\"\\u12\"]", "2[\"a\"\u0000]", "0{\"a\":1}{}", "2[\"a\",-]",
            "2[\"a\",01]", "2[\"a\",1.]", "2[\"a\",.5]", "2[\"a\",+1]", "3" + new string('9', 16) + "[]", "6" + "1-" + "[]",
        ];
        foreach (var input in inputs)
        {
            foreach (int protocol in new[] { 4, 5 })
            {
                Assert.DoesNotThrow(() => SocketIoParser.TryDecode(input, protocol, Limits, out _, out _), Shorten(input));
            }
        }
    }
}
