namespace SocketIoSignal.SocketIO;

/// <summary>Socket.IO options; bound from the "SocketIo" configuration section.</summary>
public sealed class SocketIoOptions
{
    public const string Section = "SocketIo";

    /// <summary>How long a protocol 5 client may take to send its first CONNECT before the connection closes (ms).</summary>
    public int ConnectTimeout { get; set; } = 45000;

    /// <summary>Binary attachments one packet may announce (the reference parser's default).</summary>
    public int MaxAttachments { get; set; } = 10;

    /// <summary>How deep the JSON of one packet may nest.</summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>How long announced attachments may take to arrive before the connection closes (ms).</summary>
    public int AttachmentTimeout { get; set; } = 10000;
}
