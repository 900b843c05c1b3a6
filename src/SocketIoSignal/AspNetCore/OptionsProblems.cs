using Microsoft.Extensions.Options;

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
