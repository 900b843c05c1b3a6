using System.Text;

namespace SocketIoSignal.EngineIO.Protocol;

/// <summary>The one strict UTF-8 codec: invalid bytes (or a lone surrogate to encode) throw instead of becoming U+FFFD.</summary>
internal static class StrictUtf8
{
    public static readonly UTF8Encoding Encoding = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
