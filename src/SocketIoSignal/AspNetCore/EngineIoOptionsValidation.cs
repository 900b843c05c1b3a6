using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO;

namespace SocketIoSignal.AspNetCore;

internal sealed class EngineIoOptionsValidation : IValidateOptions<EngineIoOptions>
{
    private static readonly string[] KnownTransports = ["polling", "websocket"];

    public ValidateOptionsResult Validate(string? name, EngineIoOptions o) => new OptionsProblems(EngineIoOptions.Section)
        .Positive(nameof(o.PingInterval), o.PingInterval)
        .Positive(nameof(o.PingTimeout), o.PingTimeout)
        .Positive(nameof(o.UpgradeTimeout), o.UpgradeTimeout)
        .NotNegative(nameof(o.CloseTimeout), o.CloseTimeout)
        .Positive(nameof(o.MaxHttpBufferSize), o.MaxHttpBufferSize)
        .Positive(nameof(o.MaxPacketsPerPayload), o.MaxPacketsPerPayload)
        .Positive(nameof(o.MaxQueuedBytes), o.MaxQueuedBytes)
        .Positive(nameof(o.MaxSessions), o.MaxSessions)
        .NotNegative(nameof(o.HandshakesPerIpPerMinute), o.HandshakesPerIpPerMinute)
        .Check(o.HttpCompression is not null, nameof(o.HttpCompression), null, "compression options")
        .NotNegative("HttpCompression:Threshold", o.HttpCompression?.Threshold ?? 0)
        .NotNegative(nameof(o.PerMessageDeflateThreshold), o.PerMessageDeflateThreshold)
        .Check(o.PerMessageDeflateServerMaxWindowBits is >= 9 and <= 15, nameof(o.PerMessageDeflateServerMaxWindowBits),
            o.PerMessageDeflateServerMaxWindowBits.ToString(System.Globalization.CultureInfo.InvariantCulture), "9 to 15")
        .Check(o.PerMessageDeflateClientMaxWindowBits is >= 9 and <= 15, nameof(o.PerMessageDeflateClientMaxWindowBits),
            o.PerMessageDeflateClientMaxWindowBits.ToString(System.Globalization.CultureInfo.InvariantCulture), "9 to 15")
        .Check(o.Transports is { Length: > 0 } && o.Transports.All(KnownTransports.Contains), nameof(o.Transports),
            o.Transports is null ? null : string.Join(",", o.Transports), "\"polling\", \"websocket\" or both")
        .Check(o.AllowedOrigins is not null && o.AllowedOrigins.All(a => a == "*" || Uri.TryCreate(a, UriKind.Absolute, out _)),
            nameof(o.AllowedOrigins), o.AllowedOrigins is null ? null : string.Join(",", o.AllowedOrigins), "\"*\" or absolute origins such as https://app.example")
        .Check(o.AllowedHeaders is not null && o.AllowedHeaders.All(IsToken),
            nameof(o.AllowedHeaders), o.AllowedHeaders is null ? null : string.Join(",", o.AllowedHeaders), "header names such as content-type")
        .Result();

    /// <summary>An HTTP header name (RFC 9110 token): what may go into Access-Control-Allow-Headers.</summary>
    private static bool IsToken(string name) =>
        !string.IsNullOrEmpty(name) && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c));
}
