using System.Text;
using NUnit.Framework;
using SocketIoSignal.EngineIO.Protocol;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Tests.Fuzz;

/// <summary>
/// A seeded, mutation-based fuzzer for the three decoders (Engine.IO packets and payloads v3/v4, Socket.IO
/// packets): valid wire inputs are mutated with the characters that matter to the grammars, and every input
/// must decode or be refused without an exception; what decodes must survive an encode/decode round trip.
/// Each run is bounded (iterations and seconds); <c>FUZZ_SECONDS=600 FUZZ_SEED=n dotnet test --filter Fuzz</c>
/// runs longer. Every input that ever failed is kept in <see cref="Regressions"/>.
/// </summary>
[TestFixture]
public sealed class DecoderFuzzTests
{
    private static readonly string[] TextCorpus =
    [
        "4hello", "2probe", "3probe", "5", "6", "1", "0{\"sid\":\"abc\"}", "4€", "4😀", "bAQID", "b4AQID",
        "6:4hello2:4€", "2:2probe1:5", "10:b4AQIDBA==", "4hello\u001e4world\u001ebAQID", "0:", "1:6",
        "42[\"message\",\"hi\"]", "42/chat,17[\"ev\",{\"a\":[1,2,{\"b\":null}]}]", "451-[\"m\",{\"_placeholder\":true,\"num\":0}]",
        "40", "40/admin,{\"token\":\"x\"}", "41/admin,", "43/chat,5[1,\"x\"]", "461-3[{\"_placeholder\":true,\"num\":0}]",
        "40/nsp?a=b&c=d,", "2[\"e\",1e21,-0,true,false,null,\"\\u00e9\\ud83d\\ude00\"]",
    ];

    private static readonly char[] Specials =
    [
        ':', '\u001e', ',', '/', '-', '[', ']', '{', '}', '"', '\\', '0', '1', '4', '9', 'b', '?', '=', '&', '\0',
        '\ud800', '\udc00', '€', 'e', '.', '+', '_',
    ];

    /// <summary>Inputs that once broke a decoder, kept forever.</summary>
    public static readonly string[] Regressions =
    [
        "", "\u001e", "00:", "1:", "3:99:", "99999991:4", ":", "0:0:", "b", "b4", "b4=", "2[", "451-", "45-[]",
        "4" + new string('1', 100_000) + "-[]", "2[{\"toString\":\"foo\"}]", "2[null]", "2[]",
        "451-[\"m\",{\"_placeholder\":true,\"num\":\"splice\"}]", "2[\"a\"]garbage", "2[1e309]", "2[\"\\ud800\"]",
        "43" + new string('9', 100) + "[]", new string('[', 100_000) + new string(']', 100_000),
    ];

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out var s) ? s : 20261126;

    private static TimeSpan Budget => TimeSpan.FromSeconds(
        double.TryParse(Environment.GetEnvironmentVariable("FUZZ_SECONDS"), out var s) ? s : 2);

    private const int Iterations = 20_000;

    [Test]
    public void RegressionsAreRefusedOrDecodedWithoutException()
    {
        foreach (var input in Regressions)
        {
            Assert.DoesNotThrow(() => DecodeAll(input), Describe(input));
        }
    }

    [Test]
    public void EngineIoTextDecodersNeverThrow() => Run((rng, input) =>
    {
        var packets = new List<EngineIoPacket>();
        if (PollingPayload.TryDecodeV4(input, 100, packets) == DecodeError.None)
        {
            // Round trip: what decoded encodes back to something that decodes to the same packets.
            var again = new List<EngineIoPacket>();
            Assert.That(PollingPayload.TryDecodeV4(PollingPayload.EncodeV4(packets), 100, again), Is.EqualTo(DecodeError.None), Describe(input));
            Assert.That(again.Select(Show), Is.EqualTo(packets.Select(Show)), Describe(input));
        }
        packets.Clear();
        if (PollingPayload.TryDecodeV3Text(input, 100, packets) == DecodeError.None && packets.Count > 0)
        {
            var again = new List<EngineIoPacket>();
            Assert.That(PollingPayload.TryDecodeV3Text(PollingPayload.EncodeV3Text(packets), 100, again), Is.EqualTo(DecodeError.None), Describe(input));
            Assert.That(again.Select(Show), Is.EqualTo(packets.Select(Show)), Describe(input));
        }
        PacketCodec.TryDecode(input, 3, true, out _);
        PacketCodec.TryDecode(input, 4, true, out _);
        PollingPayload.TryReadJsonpBody("d=" + Uri.EscapeDataString(input), out _);
        PollingPayload.TryReadJsonpBody(input, out _);
    });

    [Test]
    public void EngineIoBinaryPayloadDecoderNeverThrows() => Run((rng, input) =>
    {
        var bytes = ToBinaryPayloadish(rng, input);
        var packets = new List<EngineIoPacket>();
        if (PollingPayload.TryDecodeV3Binary(bytes, 100, packets) == DecodeError.None)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            PollingPayload.EncodeV3Binary(packets, buffer);
            var again = new List<EngineIoPacket>();
            Assert.That(PollingPayload.TryDecodeV3Binary(buffer.WrittenSpan, 100, again), Is.EqualTo(DecodeError.None));
            Assert.That(again.Select(Show), Is.EqualTo(packets.Select(Show)));
        }
        PacketCodec.TryDecodeV3BinaryFrame(bytes, out _);
    });

    [Test]
    public void SocketIoParserNeverThrows() => Run((rng, input) =>
    {
        var limits = new SocketIoParserLimits();
        foreach (int protocol in new[] { 4, 5 })
        {
            if (SocketIoParser.TryDecode(input, protocol, limits, out var packet, out _) && packet!.IsBinary)
            {
                var attachments = Enumerable.Range(0, rng.Next(0, packet.Attachments + 2))
                    .Select(i => (ReadOnlyMemory<byte>)new byte[] { (byte)i }).ToList();
                SocketIoParser.TryReconstruct(packet, attachments);
            }
        }
    });

    private static void DecodeAll(string input)
    {
        PollingPayload.TryDecodeV4(input, 100, []);
        PollingPayload.TryDecodeV3Text(input, 100, []);
        PollingPayload.TryDecodeV3Binary(Encoding.UTF8.GetBytes(input), 100, []);
        PollingPayload.TryReadJsonpBody(input, out _);
        PacketCodec.TryDecode(input, 3, true, out _);
        PacketCodec.TryDecode(input, 4, true, out _);
        SocketIoParser.TryDecode(input, 4, new SocketIoParserLimits(), out _, out _);
        SocketIoParser.TryDecode(input, 5, new SocketIoParserLimits(), out _, out _);
    }

    private static void Run(Action<Random, string> check)
    {
        var rng = new Random(Seed);
        var deadline = DateTime.UtcNow + Budget;
        int iterations = Environment.GetEnvironmentVariable("FUZZ_SECONDS") is null ? Iterations : int.MaxValue;
        for (int i = 0; i < iterations && DateTime.UtcNow < deadline; i++)
        {
            string input = Mutate(rng, TextCorpus[rng.Next(TextCorpus.Length)]);
            try
            {
                check(rng, input);
            }
            catch (AssertionException)
            {
                throw;
            }
            catch (Exception ex)
            {
                Assert.Fail($"decoder threw {ex.GetType().Name}: {ex.Message} on {Describe(input)} (seed {Seed}, iteration {i})");
            }
        }
    }

    private static string Mutate(Random rng, string seed)
    {
        var sb = new StringBuilder(seed);
        int rounds = rng.Next(1, 6);
        for (int r = 0; r < rounds; r++)
        {
            int pos = sb.Length == 0 ? 0 : rng.Next(sb.Length + 1);
            switch (rng.Next(7))
            {
                case 0:
                    sb.Insert(pos, Specials[rng.Next(Specials.Length)]);
                    break;
                case 1 when sb.Length > 0:
                    sb.Remove(Math.Min(pos, sb.Length - 1), 1);
                    break;
                case 2 when sb.Length > 0:
                    sb[Math.Min(pos, sb.Length - 1)] = (char)rng.Next(0, 0x10000);
                    break;
                case 3:
                    sb.Insert(pos, TextCorpus[rng.Next(TextCorpus.Length)]);
                    break;
                case 4 when sb.Length > 0:
                    sb.Length = rng.Next(sb.Length);
                    break;
                case 5:
                    sb.Insert(pos, new string((char)('0' + rng.Next(10)), rng.Next(1, 20)));
                    break;
                default:
                    sb.Insert(pos, rng.Next(2) == 0 ? "\u001e" : ":");
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>Bytes shaped like the v3 binary payload framing, then mutated.</summary>
    private static byte[] ToBinaryPayloadish(Random rng, string input)
    {
        var text = Encoding.UTF8.GetBytes(input);
        var list = new List<byte> { (byte)rng.Next(0, 3) };
        foreach (char c in text.Length.ToString())
        {
            list.Add((byte)(c - '0'));
        }
        list.Add(0xFF);
        list.AddRange(text);
        for (int i = rng.Next(0, 4); i > 0 && list.Count > 0; i--)
        {
            list[rng.Next(list.Count)] = (byte)rng.Next(256);
        }
        return [.. list];
    }

    private static string Show(EngineIoPacket p) => p.IsBinary ? "bin:" + Convert.ToHexString(p.Binary.Span) : p.ToWireString();

    private static string Describe(string input)
    {
        var shown = input.Length > 200 ? input[..200] + $"…({input.Length} chars)" : input;
        return "input " + System.Text.Json.JsonSerializer.Serialize(shown);
    }
}
