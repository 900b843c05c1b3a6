using System.Text;
using SocketIoSignal.EngineIO;
using SocketIoSignal.EngineIO.Protocol;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>
/// A packet encoded once: its text and the binary attachments that follow it. Packets the encoder makes hold the
/// UTF-8 bytes of their Engine.IO message frame (<c>4</c> + the text); the string form is made on demand, and the
/// Engine.IO packet is made once however many sessions it goes to.
/// </summary>
internal sealed class EncodedPacket
{
    private readonly byte[]? _frame;
    private string? _text;

    public EncodedPacket(string text, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        _text = text;
        Attachments = attachments;
    }

    /// <summary>Over an Engine.IO message frame: <paramref name="frame"/>[0] is '4', then the packet's UTF-8 text.</summary>
    internal EncodedPacket(byte[] frame, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        _frame = frame;
        Attachments = attachments;
    }

    public string Text => _text ??= Encoding.UTF8.GetString(_frame.AsSpan(1));

    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; }

    /// <summary>Connection state recovery: the event's offset in its namespace, 0 when it is not kept.</summary>
    internal long RecoverySeq { get; set; }

    /// <summary>
    /// Connection state recovery: the length of the offset argument at the end of the text (<c>,"…"</c>, just before
    /// the closing <c>]</c>; ASCII, so as many bytes as characters), 0 when the packet carries none.
    /// </summary>
    internal int RecoveryOffsetLength { get; set; }

    /// <summary>The text without the recovery offset argument: the event as the handler emitted it.</summary>
    internal string TextWithoutRecoveryOffset => RecoveryOffsetLength == 0
        ? Text
        : string.Concat(Text.AsSpan(0, Text.Length - 1 - RecoveryOffsetLength), "]");

    /// <summary>The event's name and arguments as the server emitted them, for outgoing catch-all listeners (null when unknown).</summary>
    internal string? EventName { get; set; }

    /// <inheritdoc cref="EventName"/>
    internal IReadOnlyList<object?>? EventArgs { get; set; }

    private EngineIoPacket? _message;
    private IReadOnlyList<EngineIoPacket>? _frames;

    /// <summary>The Engine.IO message packet that carries the text, made once.</summary>
    internal EngineIoPacket Message => _message ??= MakeMessage();

    /// <summary>The Engine.IO packets that carry the packet (the message, then each attachment), made once.</summary>
    internal IReadOnlyList<EngineIoPacket> Frames => _frames ??= MakeFrames();

    /// <summary>Queues the packet on a session: a packet without attachments as its one message, with no list made.</summary>
    internal bool SendTo(IEngineIoConnection session, bool compress = true) =>
        Attachments.Count == 0 ? session.Send(Message, compress) : session.Send(Frames, compress);

    private EngineIoPacket MakeMessage()
    {
        var message = _frame is null ? EngineIoPacket.Message(_text!) : EngineIoPacket.FromTextFrame(_frame);
        message.RecoveryOffsetLength = RecoveryOffsetLength;
        return message;
    }

    private EngineIoPacket[] MakeFrames()
    {
        var frames = new EngineIoPacket[Attachments.Count + 1];
        frames[0] = Message;
        for (int i = 0; i < Attachments.Count; i++)
        {
            frames[i + 1] = EngineIoPacket.CreateBinary(Attachments[i]);
        }
        return frames;
    }

    public override string ToString() => Attachments.Count == 0 ? Text : $"{Text} +{Attachments.Count} attachment(s)";
}
