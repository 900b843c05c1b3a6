using System.Text;
using SharpFuzz;
using SocketIoSignal.EngineIO.Protocol;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Fuzz;

/// <summary>
/// AFL++ target (through SharpFuzz) for the three decoders. The first input byte picks the decoder, the rest is
/// the wire input. Any exception is a crash; so is a decoded input that does not survive an encode/decode round trip.
/// </summary>
public static class Program
{
    private static readonly SocketIoParserLimits Limits = new();

    public static void Main(string[] args)
    {
        if (args.Length > 0)
        {
            // Replay: dotnet Fuzz.dll file... runs each input once (for crashes AFL found).
            foreach (var path in args)
            {
                Console.WriteLine(path);
                Check(File.ReadAllBytes(path));
            }
            return;
        }
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            Check(ms.ToArray());
        });
    }

    public static void Check(byte[] data)
    {
        if (data.Length == 0)
        {
            return;
        }
        var input = data.AsSpan(1);
        switch (data[0] % 3)
        {
            case 0:
                EngineIoText(Encoding.UTF8.GetString(input));
                break;
            case 1:
                EngineIoBinary(input.ToArray());
                break;
            default:
                SocketIo(Encoding.UTF8.GetString(input));
                break;
        }
    }

    private static void EngineIoText(string text)
    {
        var packets = new List<EngineIoPacket>();
        if (PollingPayload.TryDecodeV4(text, 100, packets) == DecodeError.None)
        {
            var again = new List<EngineIoPacket>();
            if (PollingPayload.TryDecodeV4(PollingPayload.EncodeV4(packets), 100, again) != DecodeError.None || !Same(packets, again))
            {
                throw new InvalidOperationException("v4 payload round trip");
            }
        }
        packets.Clear();
        if (PollingPayload.TryDecodeV3Text(text, 100, packets) == DecodeError.None && packets.Count > 0)
        {
            var again = new List<EngineIoPacket>();
            if (PollingPayload.TryDecodeV3Text(PollingPayload.EncodeV3Text(packets), 100, again) != DecodeError.None || !Same(packets, again))
            {
                throw new InvalidOperationException("v3 text payload round trip");
            }
        }
        PacketCodec.TryDecode(text, 3, true, out _);
        PacketCodec.TryDecode(text, 4, true, out _);
        PollingPayload.TryReadJsonpBody(text, out _);
    }

    private static void EngineIoBinary(byte[] bytes)
    {
        var packets = new List<EngineIoPacket>();
        if (PollingPayload.TryDecodeV3Binary(bytes, 100, packets) == DecodeError.None)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            PollingPayload.EncodeV3Binary(packets, buffer);
            var again = new List<EngineIoPacket>();
            if (PollingPayload.TryDecodeV3Binary(buffer.WrittenSpan, 100, again) != DecodeError.None || !Same(packets, again))
            {
                throw new InvalidOperationException("v3 binary payload round trip");
            }
        }
        PacketCodec.TryDecodeV3BinaryFrame(bytes, out _);
    }

    private static void SocketIo(string text)
    {
        foreach (int protocol in new[] { 4, 5 })
        {
            if (SocketIoParser.TryDecode(text, protocol, Limits, out var packet, out _) && packet!.IsBinary)
            {
                var attachments = Enumerable.Range(0, packet.Attachments).Select(i => (ReadOnlyMemory<byte>)new[] { (byte)i }).ToList();
                SocketIoParser.TryReconstruct(packet, attachments);
            }
        }
    }

    private static bool Same(List<EngineIoPacket> a, List<EngineIoPacket> b) =>
        a.Count == b.Count && a.Zip(b).All(p => Show(p.First) == Show(p.Second));

    private static string Show(EngineIoPacket p) =>
        p.IsBinary ? "b:" + Convert.ToHexString(p.Binary.Span) : p.ToWireString();
}
