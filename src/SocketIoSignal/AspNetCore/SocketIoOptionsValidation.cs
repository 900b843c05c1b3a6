using Microsoft.Extensions.Options;
using SocketIoSignal.SocketIO;

namespace SocketIoSignal.AspNetCore;

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
        .NotNegative("ConnectionStateRecovery:MaxDisconnectionDuration", o.ConnectionStateRecovery.MaxDisconnectionDuration)
        .Positive("ConnectionStateRecovery:MaxPacketsPerSession", o.ConnectionStateRecovery.MaxPacketsPerSession)
        .Positive("ConnectionStateRecovery:MaxPackets", o.ConnectionStateRecovery.MaxPackets)
        .Positive("ConnectionStateRecovery:MaxSessions", o.ConnectionStateRecovery.MaxSessions)
        .Positive(nameof(o.MaxPendingAcks), o.MaxPendingAcks)
        .Check(ClientBundles.Versions.Contains(o.ClientVersion), nameof(o.ClientVersion), o.ClientVersion, string.Join(", ", ClientBundles.Versions))
        .Result();
}
