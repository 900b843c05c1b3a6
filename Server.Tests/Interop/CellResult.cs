using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Interop;

/// <summary>One cell of the matrix: a client on a transport (and server setup), every feature's outcome.</summary>
public sealed class CellResult(string group, string row)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public string Group { get; } = group;

    public string Row { get; } = row;

    public ConcurrentDictionary<string, FeatureResult> Features { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Problems { get; } = new();

    public TimeSpan Elapsed { get; private set; }

    public void Set(string feature, bool ok, string detail, bool noteworthy = false) =>
        Features[feature] = new FeatureResult(ok ? FeatureState.Ok : FeatureState.Failed, detail, noteworthy);

    public void NotApplicable(string feature, string why) => Features[feature] = new FeatureResult(FeatureState.NotApplicable, why, true);

    /// <summary>Stops the clock, marks features never reported as failed, and records the cell for the report.</summary>
    public CellResult Finish()
    {
        Elapsed = _clock.Elapsed;
        foreach (var feature in InteropMatrix.Features)
        {
            Features.TryAdd(feature, new FeatureResult(FeatureState.Failed, "not reported"));
        }
        InteropMatrix.Add(this);
        return this;
    }

    public IEnumerable<string> Failures =>
        Features.Where(f => f.Value.State == FeatureState.Failed).Select(f => $"{Row}: {f.Key}: {f.Value.Detail}")
            .Concat(Problems.Select(p => $"{Row}: {p}"));
}
