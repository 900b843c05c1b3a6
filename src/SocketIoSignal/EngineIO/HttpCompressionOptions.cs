namespace SocketIoSignal.EngineIO;

/// <summary>
/// Compression of polling responses (engine.io's <c>httpCompression</c>): a response of at least
/// <see cref="Threshold"/> bytes is sent gzip- or deflate-encoded when the request's <c>Accept-Encoding</c> allows it.
/// Bound from "EngineIo:HttpCompression".
/// </summary>
public sealed class HttpCompressionOptions
{
    /// <summary>Whether polling responses are compressed at all (on by default, as in engine.io).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The smallest response, in bytes before compression, that is compressed (1024, as engine.io).</summary>
    public int Threshold { get; set; } = 1024;
}
