using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.EngineIO.WebSockets;

using static SocketIoSignal.Tests.Infrastructure.ClientFrames;

namespace SocketIoSignal.Tests.Fuzz;

/// <summary>
/// A seeded, mutation-based fuzzer for the WebSocket frame decoder (with and without permessage-deflate): sequences
/// of valid client frames are mutated (bits flipped, bytes inserted, dropped or cut) and fed to the decoder whole and
/// in random pieces over multi-segment buffers. It must never throw; every message it gives is within the limit and,
/// if text, valid UTF-8; a failure carries 1002, 1007 or 1009; and the events are the same however the bytes were cut.
/// Unmutated inputs must decode to the messages they were made of. Bounded like <see cref="DecoderFuzzTests"/>
/// (<c>FUZZ_SECONDS</c>, <c>FUZZ_SEED</c>); fuzz/Program.cs runs the same checks under AFL++.
/// </summary>
[TestFixture]
internal sealed class WebSocketFrameDecoderFuzzTests
{
    private const int Max = 4096;

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out var s) ? s : 20261207;

    private static TimeSpan Budget => TimeSpan.FromSeconds(
        double.TryParse(Environment.GetEnvironmentVariable("FUZZ_SECONDS"), out var s) ? s : 3);

    private const int Iterations = 20_000;

    [TestCase(false)]
    [TestCase(true)]
    public void NeverThrowsAndAgreesWithItselfHoweverTheBytesAreCut(bool deflate)
    {
        var rng = new Random(Seed + (deflate ? 1 : 0));
        var deadline = DateTime.UtcNow + Budget;
        int iterations = Environment.GetEnvironmentVariable("FUZZ_SECONDS") is null ? Iterations : int.MaxValue;
        int failures = 0;
        int messages = 0;
        for (int i = 0; i < iterations && DateTime.UtcNow < deadline; i++)
        {
            var (bytes, expected) = ValidSequence(rng, deflate);
            bool mutate = rng.Next(4) != 0;
            if (mutate)
            {
                bytes = Mutate(rng, bytes);
            }
            List<string> whole;
            List<string> cut;
            try
            {
                whole = FrameDecoderDriver.Run(bytes, [], deflate);
                cut = FrameDecoderDriver.Run(bytes, Cuts(rng, bytes.Length), deflate);
            }
            catch (Exception ex)
            {
                Assert.Fail($"decoder threw {ex.GetType().Name}: {ex.Message} on {Convert.ToHexString(bytes)} (seed {Seed}, iteration {i})");
                return;
            }
            Assert.That(cut, Is.EqualTo(whole), $"the same events however cut: {Convert.ToHexString(bytes)}");
            if (!mutate)
            {
                Assert.That(whole, Is.EqualTo(expected), $"a valid sequence decodes to its messages: {Convert.ToHexString(bytes)}");
            }
            failures += whole.Count(e => e.StartsWith("failed", StringComparison.Ordinal));
            messages += whole.Count(e => e.StartsWith("text", StringComparison.Ordinal) || e.StartsWith("binary", StringComparison.Ordinal));
        }
        // The fuzzer reaches both sides: messages delivered and violations found.
        Assert.That(messages, Is.GreaterThan(100));
        Assert.That(failures, Is.GreaterThan(100));
    }

    [Test]
    public void RegressionsDecodeOrFail()
    {
        foreach (var hex in new[]
        {
            "", "81", "8180", "81FE", "81FF8000000000000001", "887E", "8901", "0080", "C18000000000", "818000000000",
            "817F7FFFFFFFFFFFFFFF00000000", "01800000000000800000000080800000000088820000000003E8",
        })
        {
            var bytes = Convert.FromHexString(hex);
            Assert.DoesNotThrow(() => FrameDecoderDriver.Run(bytes, [], deflate: false), hex);
            Assert.DoesNotThrow(() => FrameDecoderDriver.Run(bytes, [], deflate: true), hex);
        }
    }

    /// <summary>A few valid frames (messages fragmented or not, pings, pongs, maybe a close at the end) and the events they make.</summary>
    private static (byte[] Bytes, List<string> Events) ValidSequence(Random rng, bool deflate)
    {
        var bytes = new List<byte>();
        var events = new List<string>();
        int count = rng.Next(1, 5);
        for (int m = 0; m < count; m++)
        {
            switch (rng.Next(6))
            {
                case 0:
                    var ping = RandomBytes(rng, rng.Next(0, 126));
                    bytes.AddRange(Frame(0x89, ping));
                    events.Add("ping:" + Convert.ToHexString(ping));
                    break;
                case 1:
                    bytes.AddRange(Frame(0x8A, RandomBytes(rng, rng.Next(0, 20))));
                    events.Add("pong");
                    break;
                default:
                    bool text = rng.Next(2) == 0;
                    byte[] message = text ? Encoding.UTF8.GetBytes(RandomText(rng, rng.Next(0, 300))) : RandomBytes(rng, rng.Next(0, 300));
                    bool compress = deflate && rng.Next(2) == 0;
                    var payload = compress ? DeflateRaw(message, CompressionLevel.Fastest) : message;
                    int pieces = rng.Next(1, 4);
                    int at = 0;
                    for (int p = 0; p < pieces; p++)
                    {
                        int end = p == pieces - 1 ? payload.Length : rng.Next(at, payload.Length + 1);
                        int b0 = (p == pieces - 1 ? 0x80 : 0) | (p == 0 ? (text ? 1 : 2) | (compress ? 0x40 : 0) : 0);
                        bytes.AddRange(Frame(b0, payload[at..end]));
                        at = end;
                    }
                    events.Add((text ? "text:" : "binary:") + Convert.ToHexString(message));
                    break;
            }
        }
        if (rng.Next(3) == 0)
        {
            bytes.AddRange(Frame(0x88, [0x03, 0xE8, (byte)'o', (byte)'k']));
            events.Add("close:1000");
        }
        return ([.. bytes], events);
    }

    private static string RandomText(Random rng, int length)
    {
        string[] pieces = ["a", "Z", "0", " ", "é", "€", "😀", "\u0000", "\uFFFD", "κόσμε"];
        var sb = new StringBuilder();
        while (sb.Length < length)
        {
            sb.Append(pieces[rng.Next(pieces.Length)]);
        }
        return sb.ToString();
    }

    private static byte[] RandomBytes(Random rng, int length)
    {
        var b = new byte[length];
        rng.NextBytes(b);
        return b;
    }

    private static byte[] Mutate(Random rng, byte[] input)
    {
        var list = input.ToList();
        int rounds = rng.Next(1, 4);
        for (int r = 0; r < rounds && list.Count > 0; r++)
        {
            int pos = rng.Next(list.Count);
            switch (rng.Next(6))
            {
                case 0:
                    list[pos] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1:
                    list[pos] = (byte)rng.Next(256);
                    break;
                case 2:
                    list.Insert(pos, (byte)rng.Next(256));
                    break;
                case 3:
                    list.RemoveAt(pos);
                    break;
                case 4:
                    list.RemoveRange(pos, list.Count - pos);
                    break;
                default:
                    // A header byte pair from the interesting ones: lengths 126/127, opcodes, RSV bits.
                    byte[] interesting = [0x7E, 0x7F, 0xFE, 0xFF, 0x80, 0x00, 0x88, 0x89, 0x8A, 0x01, 0x02, 0xC1, 0x40];
                    list[pos] = interesting[rng.Next(interesting.Length)];
                    break;
            }
        }
        return [.. list];
    }

    private static int[] Cuts(Random rng, int length)
    {
        if (length < 2)
        {
            return [];
        }
        int count = rng.Next(1, Math.Min(length, 12));
        return [.. Enumerable.Range(0, count).Select(_ => rng.Next(1, length)).Distinct().Order()];
    }
}

/// <summary>
/// Feeds bytes to a <see cref="WebSocketFrameDecoder"/> as the connection would (what it leaves is kept for the next
/// read), in the pieces given, each read's bytes over several buffer segments; returns the events as text.
/// </summary>
internal static class FrameDecoderDriver
{
    public const int Max = 4096;

    public static List<string> Run(byte[] bytes, int[] cuts, bool deflate)
    {
        using var compression = deflate ? new PerMessageDeflate(new DeflateParameters(true, false, 15, 15), 1024) : null;
        var decoder = new WebSocketFrameDecoder(Max, compression, null);
        var events = new List<string>();
        var pending = new List<byte>();
        int from = 0;
        try
        {
            foreach (int to in cuts.Append(bytes.Length))
            {
                pending.AddRange(bytes.AsSpan(from, to - from));
                from = to;
                var input = Segmented([.. pending]);
                while (true)
                {
                    var ev = decoder.Decode(ref input);
                    if (ev == FrameEvent.NeedMore)
                    {
                        break;
                    }
                    switch (ev)
                    {
                        case FrameEvent.Message:
                            var m = decoder.TakeMessage();
                            if (m.Length > Max)
                            {
                                throw new InvalidOperationException("a message over the limit");
                            }
                            if (decoder.MessageIsText && !System.Text.Unicode.Utf8.IsValid(m))
                            {
                                throw new InvalidOperationException("a text message that is not UTF-8");
                            }
                            events.Add((decoder.MessageIsText ? "text:" : "binary:") + Convert.ToHexString(m));
                            break;
                        case FrameEvent.Ping:
                            events.Add("ping:" + Convert.ToHexString(decoder.ControlPayload));
                            break;
                        case FrameEvent.Pong:
                            events.Add("pong");
                            break;
                        case FrameEvent.Close:
                            events.Add(decoder.HasFailed ? "close after failure" : "close:" + decoder.CloseCode);
                            return events;
                        case FrameEvent.Failed:
                            if (decoder.FailureCode is not (1002 or 1007 or 1009))
                            {
                                throw new InvalidOperationException("failure code " + decoder.FailureCode);
                            }
                            events.Add("failed:" + decoder.FailureCode);
                            // The connection stops here (it only looks for the close frame afterwards).
                            return events;
                    }
                }
                pending = [.. input.ToArray()];
            }
            return events;
        }
        finally
        {
            decoder.Release();
        }
    }

    /// <summary>The bytes over up to three segments, so frame headers and payloads cross segment borders.</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] data)
    {
        if (data.Length < 3)
        {
            return new ReadOnlySequence<byte>(data);
        }
        int a = data.Length / 3;
        int b = 2 * data.Length / 3;
        var first = new Segment(data.AsMemory(0, a), 0);
        var second = first.Append(data.AsMemory(a, b - a));
        var third = second.Append(data.AsMemory(b));
        return new ReadOnlySequence<byte>(first, 0, third, third.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
