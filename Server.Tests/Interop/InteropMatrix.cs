using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Interop;

public enum FeatureState
{
    Ok,
    Failed,
    NotApplicable,
}

public sealed record FeatureResult(FeatureState State, string Detail, bool Noteworthy = false);

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

/// <summary>
/// Collects every matrix cell of the run and writes the table (cells × features) to
/// TestResults/interop-matrix.md, or to $INTEROP_MATRIX_OUT (relative to the repository root) when set.
/// </summary>
public static class InteropMatrix
{
    public static readonly string[] Features =
        ["connect", "events", "acks", "binary", "namespace", "rooms", "signaling", "transport", "server-disconnect", "idle", "restart"];

    /// <summary>Table order of the groups.</summary>
    public static readonly string[] Groups =
    [
        "Node.js clients, --mode codelab",
        "Node.js clients, --mode rooms",
        "Node.js clients through SlowProxy (split, delayed TCP writes)",
        "Chromium, bundle served at /socket.io/socket.io.js (--client)",
        ".NET SocketIOClient 3.0.6",
    ];

    private static readonly ConcurrentQueue<CellResult> Cells = new();

    public static void Add(CellResult cell) => Cells.Enqueue(cell);

    /// <summary>Runs cells <paramref name="parallel"/> at a time; each returns its finished result.</summary>
    public static async Task<CellResult[]> RunAsync(IEnumerable<Func<Task<CellResult>>> cells, int parallel = 2)
    {
        using var slots = new SemaphoreSlim(parallel);
        var tasks = cells.Select(async run =>
        {
            await slots.WaitAsync();
            try
            {
                return await run();
            }
            finally
            {
                slots.Release();
            }
        }).ToArray();
        return await Task.WhenAll(tasks).Within(TimeSpan.FromMinutes(4));
    }

    /// <summary>Fails with every failed feature and problem of these cells.</summary>
    public static void AssertAllOk(IEnumerable<CellResult> cells)
    {
        var all = cells.ToArray();
        foreach (var cell in all)
        {
            TestContext.Out.WriteLine($"{cell.Row} ({cell.Elapsed.TotalSeconds:0.0} s)");
            foreach (var (feature, result) in cell.Features.OrderBy(f => Array.IndexOf(Features, f.Key)))
            {
                TestContext.Out.WriteLine($"  {feature}: {result.State} {result.Detail}");
            }
        }
        var failures = all.SelectMany(c => c.Failures).ToArray();
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    public static string OutputPath()
    {
        var configured = Environment.GetEnvironmentVariable("INTEROP_MATRIX_OUT");
        return string.IsNullOrWhiteSpace(configured)
            ? RepoPaths.Combine("TestResults", "interop-matrix.md")
            : Path.IsPathRooted(configured) ? configured : RepoPaths.Combine(configured);
    }

    public static void WriteReport()
    {
        var cells = Cells.ToArray();
        if (cells.Length == 0)
        {
            return;
        }
        var path = OutputPath();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Render(cells));
        TestContext.Progress.WriteLine("interop matrix written to " + path);
    }

    public static string Render(IReadOnlyCollection<CellResult> cells)
    {
        var md = new StringBuilder();
        int ok = cells.Sum(c => c.Features.Values.Count(f => f.State == FeatureState.Ok));
        int failed = cells.Sum(c => c.Features.Values.Count(f => f.State == FeatureState.Failed)) + cells.Sum(c => c.Problems.Count);
        md.AppendLine("# Interop matrix");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Generated by `dotnet test Server.Tests --filter Matrix` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: {cells.Count} cells, {ok} features passed, {failed} failed.");
        md.AppendLine("✅ passed · ❌ failed · — not applicable (see the notes) · ✅¹ passed, with a note. Heartbeats: pingInterval 300 ms, pingTimeout 2000 ms; idle 1.5 s with at least 3 heartbeats counted.");
        var notes = new List<string>();
        foreach (var group in Groups.Concat(cells.Select(c => c.Group).Distinct().Except(Groups)))
        {
            var rows = cells.Where(c => c.Group == group).OrderBy(c => c.Row, StringComparer.Ordinal).ToArray();
            if (rows.Length == 0)
            {
                continue;
            }
            md.AppendLine();
            md.AppendLine("## " + group);
            md.AppendLine();
            md.AppendLine("| cell | " + string.Join(" | ", Features) + " | time |");
            md.AppendLine("|---|" + string.Concat(Features.Select(_ => ":-:|")) + "--:|");
            foreach (var cell in rows)
            {
                var marks = Features.Select(f =>
                {
                    var r = cell.Features.GetValueOrDefault(f) ?? new FeatureResult(FeatureState.Failed, "not reported");
                    if (r.Noteworthy || r.State == FeatureState.Failed)
                    {
                        notes.Add($"{cell.Row}, {f}: {r.Detail}");
                    }
                    return r.State switch
                    {
                        FeatureState.Ok => r.Noteworthy ? "✅¹" : "✅",
                        FeatureState.NotApplicable => "—",
                        _ => "❌",
                    };
                });
                md.AppendLine(CultureInfo.InvariantCulture, $"| {cell.Row} | {string.Join(" | ", marks)} | {cell.Elapsed.TotalSeconds:0.0} s |");
                notes.AddRange(cell.Problems.Select(p => $"{cell.Row}: {p}"));
            }
        }
        if (notes.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Notes and failures");
            md.AppendLine();
            foreach (var note in notes)
            {
                md.AppendLine("- " + note.ReplaceLineEndings(" "));
            }
        }
        return md.ToString();
    }
}

/// <summary>Writes the matrix report once every test of the Interop namespace has run.</summary>
[SetUpFixture]
public sealed class InteropMatrixReport
{
    [OneTimeTearDown]
    public void Write() => InteropMatrix.WriteReport();
}
