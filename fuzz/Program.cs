using System.Buffers;
using System.Text;
using SharpFuzz;
using SocketIoSignal.EngineIO.Protocol;
using SocketIoSignal.EngineIO.WebSockets;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Fuzz;

/// <summary>
/// AFL++ target (through SharpFuzz) for the decoders: Engine.IO payloads, v3 binary payloads, Socket.IO packets and
/// WebSocket frames (with and without permessage-deflate). The first input byte picks the decoder, the rest is the
/// wire input. Any exception is a crash; so is a decoded input that does not survive an encode/decode round trip, and
/// frames that decode differently when their bytes arrive in pieces.
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
        switch (data[0] % 5)
        {
            case 0:
                EngineIoText(Encoding.UTF8.GetString(input));
                break;
            case 1:
                EngineIoBinary(input.ToArray());
                break;
            case 2:
                SocketIo(Encoding.UTF8.GetString(input));
                break;
            default:
                WebSocketFrames(input.ToArray(), deflate: data[0] % 5 == 4);
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

    /// <summary>The frames decoded from all the bytes at once, and three bytes at a time: the same events, within the rules.</summary>
    private static void WebSocketFrames(byte[] bytes, bool deflate)
    {
        var whole = Frames(bytes, bytes.Length, deflate);
        var pieces = Frames(bytes, 3, deflate);
        if (!whole.SequenceEqual(pieces))
        {
            throw new InvalidOperationException("frames decode differently in pieces");
        }
    }

    private static List<string> Frames(byte[] bytes, int piece, bool deflate)
    {
        const int max = 4096;
        using var compression = deflate ? new PerMessageDeflate(new DeflateParameters(true, false, 15, 15), 1024) : null;
        var decoder = new WebSocketFrameDecoder(max, compression, null);
        var events = new List<string>();
        var pending = Array.Empty<byte>();
        try
        {
            for (int at = 0; at < bytes.Length; at += piece)
            {
                pending = [.. pending, .. bytes.AsSpan(at, Math.Min(piece, bytes.Length - at))];
                var input = new ReadOnlySequence<byte>(pending);
                while (true)
                {
                    var ev = decoder.Decode(ref input);
                    if (ev == FrameEvent.NeedMore)
                    {
                        break;
                    }
                    if (ev == FrameEvent.Message)
                    {
                        var m = decoder.TakeMessage();
                        if (m.Length > max || (decoder.MessageIsText && !System.Text.Unicode.Utf8.IsValid(m)))
                        {
                            throw new InvalidOperationException("a message over the limit or not UTF-8");
                        }
                        events.Add((decoder.MessageIsText ? "t" : "b") + Convert.ToHexString(m));
                        continue;
                    }
                    if (ev == FrameEvent.Failed && decoder.FailureCode is not (1002 or 1007 or 1009))
                    {
                        throw new InvalidOperationException("failure code " + decoder.FailureCode);
                    }
                    events.Add(ev + ":" + (ev == FrameEvent.Failed ? decoder.FailureCode : decoder.CloseCode));
                    if (ev is FrameEvent.Failed or FrameEvent.Close)
                    {
                        return events;
                    }
                }
                pending = input.ToArray();
            }
            return events;
        }
        finally
        {
            decoder.Release();
        }
    }

    private static bool Same(List<EngineIoPacket> a, List<EngineIoPacket> b) =>
        a.Count == b.Count && a.Zip(b).All(p => Show(p.First) == Show(p.Second));

    private static string Show(EngineIoPacket p) =>
        p.IsBinary ? "b:" + Convert.ToHexString(p.Binary.Span) : p.ToWireString();
}
