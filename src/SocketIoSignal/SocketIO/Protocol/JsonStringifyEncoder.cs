using System.Text;
using System.Text.Encodings.Web;

namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>
/// Escapes strings exactly as JavaScript's JSON.stringify does: only '"', '\', C0 control characters and lone
/// surrogates. Everything else — non-ASCII, C1 controls, emoji — is written as it is, so our packets are the
/// reference's byte for byte (clients 1.x, which re-decode polling text as UTF-8 bytes, depend on it).
/// </summary>
internal sealed class JsonStringifyEncoder : JavaScriptEncoder
{
    public static readonly JsonStringifyEncoder Instance = new();

    public override int MaxOutputCharactersPerInputCharacter => 6;

    public override bool WillEncode(int unicodeScalar) =>
        unicodeScalar < 0x20 || unicodeScalar == '"' || unicodeScalar == '\\' || (unicodeScalar >= 0xD800 && unicodeScalar <= 0xDFFF);

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (int i = 0; i < textLength; i++)
        {
            char c = text[i];
            if (c < 0x20 || c == '"' || c == '\\')
            {
                return i;
            }
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < textLength && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                    continue;
                }
                return i;
            }
            if (char.IsLowSurrogate(c))
            {
                return i;
            }
        }
        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        string escaped = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\b' => "\\b",
            '\f' => "\\f",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            _ when WillEncode(unicodeScalar) => "\\u" + unicodeScalar.ToString("x4", System.Globalization.CultureInfo.InvariantCulture),
            _ => char.ConvertFromUtf32(unicodeScalar),
        };
        if (escaped.Length > bufferLength)
        {
            numberOfCharactersWritten = 0;
            return false;
        }
        for (int i = 0; i < escaped.Length; i++)
        {
            buffer[i] = escaped[i];
        }
        numberOfCharactersWritten = escaped.Length;
        return true;
    }
}
