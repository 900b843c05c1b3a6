using Microsoft.AspNetCore.Http;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// A request the engine refused with an Engine.IO error (Node's <c>io.engine.on("connection_error", err)</c>):
/// <see cref="Code"/> and <see cref="Message"/> are what the client was told, <see cref="Context"/> says why.
/// </summary>
public sealed class EngineConnectionError
{
    internal EngineConnectionError(HttpRequest request, int code, string message, IReadOnlyDictionary<string, object?> context)
    {
        Request = request;
        Code = code;
        Message = message;
        Context = context;
    }

    /// <summary>The refused request (Node's <c>err.req</c>); valid only while the handler runs.</summary>
    public HttpRequest Request { get; }

    /// <summary>
    /// The Engine.IO error code: 0 transport unknown, 1 session ID unknown, 2 bad handshake method, 3 bad request,
    /// 4 forbidden, 5 unsupported protocol version.
    /// </summary>
    public int Code { get; }

    /// <summary>The error code's message, e.g. "Session ID unknown" (Node's <c>err.message</c>).</summary>
    public string Message { get; }

    /// <summary>
    /// Details as Node gives them (<c>err.context</c>), e.g. <c>transport</c>, <c>sid</c>, <c>method</c>,
    /// <c>protocol</c>, the <c>message</c> of an <see cref="EngineIoOptions.AllowRequest"/> refusal, or a <c>name</c>
    /// such as "TRANSPORT_MISMATCH".
    /// </summary>
    public IReadOnlyDictionary<string, object?> Context { get; }
}
