using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;

namespace SocketIoSignal.AspNetCore;

/// <summary>Collects one message per bad value, each naming the option as configuration spells it.</summary>
internal sealed class OptionsProblems(string section)
{
    private readonly List<string> _problems = [];

    public OptionsProblems Positive(string name, TimeSpan value) =>
        Check(value > TimeSpan.Zero && value <= TimeSpan.FromDays(24), name, value, "a duration above zero and at most 24 days");

    public OptionsProblems NotNegative(string name, TimeSpan value) =>
        Check(value >= TimeSpan.Zero && value <= TimeSpan.FromDays(24), name, value, "zero (off) or a duration of at most 24 days");

    public OptionsProblems Positive(string name, long value) => Check(value > 0, name, value, "a number above zero");

    public OptionsProblems NotNegative(string name, long value) => Check(value >= 0, name, value, "zero or more");

    public OptionsProblems Check(bool ok, string name, object? value, string expected)
    {
        if (!ok)
        {
            _problems.Add($"{section}:{name} must be {expected}, not {Format(value)}");
        }
        return this;
    }

    public ValidateOptionsResult Result() => _problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_problems);

    private static string Format(object? value) => value switch
    {
        null => "nothing",
        string s => $"\"{s}\"",
        TimeSpan t => t.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}

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
        .Check(o.Transports is { Length: > 0 } && o.Transports.All(KnownTransports.Contains), nameof(o.Transports),
            o.Transports is null ? null : string.Join(",", o.Transports), "\"polling\", \"websocket\" or both")
        .Check(o.AllowedOrigins is not null && o.AllowedOrigins.All(a => a == "*" || Uri.TryCreate(a, UriKind.Absolute, out _)),
            nameof(o.AllowedOrigins), o.AllowedOrigins is null ? null : string.Join(",", o.AllowedOrigins), "\"*\" or absolute origins such as https://app.example")
        .Result();
}

internal sealed class SocketIoOptionsValidation : IValidateOptions<SocketIoOptions>
{
    public ValidateOptionsResult Validate(string? name, SocketIoOptions o) => new OptionsProblems(SocketIoOptions.Section)
        .Positive(nameof(o.ConnectTimeout), o.ConnectTimeout)
        .Positive(nameof(o.AttachmentTimeout), o.AttachmentTimeout)
        .NotNegative(nameof(o.RateLimitDisconnectAfter), o.RateLimitDisconnectAfter)
        .NotNegative(nameof(o.MaxAttachments), o.MaxAttachments)
        .Check(o.MaxJsonDepth is > 0 and <= 1000, nameof(o.MaxJsonDepth), o.MaxJsonDepth, "from 1 to 1000")
        .NotNegative(nameof(o.MaxEventsPerSecond), o.MaxEventsPerSecond)
        .NotNegative(nameof(o.EventBurst), o.EventBurst)
        .Check(ClientBundles.Versions.Contains(o.ClientVersion), nameof(o.ClientVersion), o.ClientVersion, string.Join(", ", ClientBundles.Versions))
        .Result();
}
