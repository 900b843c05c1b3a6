using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SocketIoSignal.AspNetCore;

/// <summary>
/// Binds an options section where a duration may be written as Node writes it, a number of milliseconds
/// (<c>"PingInterval": 25000</c>), or as a TimeSpan (<c>"00:00:25"</c>). The configuration binder alone would read
/// <c>25000</c> as days.
/// </summary>
internal static class OptionsBinding
{
    public static void BindSection(IServiceProvider services, string section, object options)
    {
        if (services.GetService<IConfiguration>() is { } configuration)
        {
            Bind(configuration.GetSection(section), options);
        }
    }

    /// <summary>Binds <paramref name="section"/> onto <paramref name="options"/>; a value that does not convert is an <see cref="OptionsValidationException"/> naming its key.</summary>
    public static void Bind(IConfiguration section, object options)
    {
        var path = (section as IConfigurationSection)?.Path;
        var durations = new List<Duration>();
        CollectDurations(section, options, "", durations);
        // The binder sees the section without the durations, which are read below.
        var rest = section.AsEnumerable(makePathsRelative: true)
            .Where(p => p.Value is not null && !durations.Any(d => p.Key.Equals(d.Key, StringComparison.OrdinalIgnoreCase)));
        try
        {
            new ConfigurationBuilder().AddInMemoryCollection(rest).Build().Bind(options, o => o.ErrorOnUnknownConfiguration = false);
        }
        catch (InvalidOperationException ex)
        {
            throw Invalid(options, path is null ? ex.Message : ex.Message.Replace("at '", $"at '{path}:", StringComparison.Ordinal));
        }
        foreach (var (target, property, key, raw) in durations)
        {
            if (TryMilliseconds(raw, out double ms))
            {
                property.SetValue(target, TimeSpan.FromMilliseconds(ms));
            }
            else if (!TimeSpan.TryParse(raw, CultureInfo.InvariantCulture, out var value))
            {
                throw Invalid(options, $"{Key(path, key)} must be a number of milliseconds or a duration such as 00:00:25, not \"{raw}\"");
            }
            else
            {
                property.SetValue(target, value);
            }
        }
    }

    private readonly record struct Duration(object Target, PropertyInfo Property, string Key, string Raw);

    /// <summary>The durations of <paramref name="target"/> and of its nested option objects (such as <c>ConnectionStateRecovery</c>), with their keys relative to the section.</summary>
    private static void CollectDurations(IConfiguration section, object target, string prefix, List<Duration> durations)
    {
        foreach (var property in target.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.PropertyType == typeof(TimeSpan) && property.CanWrite && section[property.Name] is { } raw)
            {
                durations.Add(new Duration(target, property, prefix + property.Name, raw));
            }
            else if (IsNestedOptions(property.PropertyType) && property.GetValue(target) is { } child)
            {
                CollectDurations(section.GetSection(property.Name), child, prefix + property.Name + ":", durations);
            }
        }
    }

    private static bool IsNestedOptions(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("SocketIoSignal", StringComparison.Ordinal) == true
        && type.Name.EndsWith("Options", StringComparison.Ordinal);

    private static bool TryMilliseconds(string raw, out double ms) =>
        double.TryParse(raw, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out ms)
        && double.IsFinite(ms) && Math.Abs(ms) < TimeSpan.MaxValue.TotalMilliseconds;

    private static string Key(string? path, string name) => path is null ? name : path + ":" + name;

    private static OptionsValidationException Invalid(object options, string message) =>
        new(Options.DefaultName, options.GetType(), [message]);
}
