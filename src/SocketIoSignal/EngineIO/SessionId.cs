using System.Security.Cryptography;

namespace SocketIoSignal.EngineIO;

/// <summary>Session and socket ids: 15 bytes (120 bits) from the OS CSPRNG as 20 URL-safe base64 characters.</summary>
internal static class SessionId
{
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[15];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }
}
