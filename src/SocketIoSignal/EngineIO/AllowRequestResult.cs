namespace SocketIoSignal.EngineIO;

/// <summary>
/// What <see cref="EngineIoOptions.AllowRequest"/> decided for a handshake: Node's <c>callback(err, success)</c>.
/// </summary>
public sealed class AllowRequestResult
{
    private AllowRequestResult(bool success, string? message)
    {
        Success = success;
        Message = message;
    }

    /// <summary>The handshake goes on.</summary>
    public static AllowRequestResult Allowed { get; } = new(true, null);

    /// <summary>
    /// The handshake is refused with 403 <c>{"code":4,"message":…}</c>, the message being <paramref name="message"/>
    /// or "Forbidden" (Node's <c>callback(message, false)</c>).
    /// </summary>
    public static AllowRequestResult Refused(string? message = null) => new(false, message);

    /// <summary>Whether the handshake may go on (Node's <c>success</c>).</summary>
    public bool Success { get; }

    /// <summary>The message the client gets when refused (Node's <c>err</c>); null for "Forbidden".</summary>
    public string? Message { get; }
}
