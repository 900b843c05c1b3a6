using Microsoft.Extensions.Options;
using SocketIoSignal.AspNetCore;

namespace SocketIoSignal.AdminUi;

/// <summary>Checks <see cref="AdminUiOptions"/> at start; each message names the option as configuration spells it.</summary>
internal sealed class AdminUiOptionsValidation : IValidateOptions<AdminUiOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminUiOptions o)
    {
        bool hasUser = !string.IsNullOrEmpty(o.Username);
        bool hasPassword = !string.IsNullOrEmpty(o.Password);
        return new OptionsProblems(AdminUiOptions.Section)
            .Check(o.Namespace is { Length: > 1 } ns && ns[0] == '/' && !ns.Any(char.IsWhiteSpace), nameof(o.Namespace), o.Namespace,
                "a namespace other than \"/\", such as \"/admin\"")
            .Check(o.AllowAnonymous || hasUser, nameof(o.Username), o.Username,
                $"set (with {AdminUiOptions.Section}:{nameof(o.Password)}), or {AdminUiOptions.Section}:{nameof(o.AllowAnonymous)} must be true to let anyone in")
            .Check(o.AllowAnonymous || hasPassword, nameof(o.Password), hasPassword ? "(set)" : null,
                $"set (with {AdminUiOptions.Section}:{nameof(o.Username)}), or {AdminUiOptions.Section}:{nameof(o.AllowAnonymous)} must be true to let anyone in")
            .Check(!o.AllowAnonymous || (!hasUser && !hasPassword), nameof(o.AllowAnonymous), o.AllowAnonymous,
                $"false when {AdminUiOptions.Section}:{nameof(o.Username)} or {AdminUiOptions.Section}:{nameof(o.Password)} is set (credentials that nobody is asked for)")
            .Check(o.Mode is "development" or "production", nameof(o.Mode), o.Mode, "\"development\" or \"production\"")
            .Check(o.ServerStatsInterval >= TimeSpan.FromMilliseconds(100) && o.ServerStatsInterval <= TimeSpan.FromDays(1),
                nameof(o.ServerStatsInterval), o.ServerStatsInterval, "a duration from 100 ms to one day")
            .Positive(nameof(o.SessionDuration), o.SessionDuration)
            .Result();
    }
}
