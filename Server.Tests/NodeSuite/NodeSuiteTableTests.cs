using System.Reflection;
using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>docs/node-suite.md, the tests of this folder and the README's counts agree.</summary>
[TestFixture]
public sealed partial class NodeSuiteTableTests
{
    private sealed record Row(string File, string Case, string Status, string Note);

    private static readonly string Doc = File.ReadAllText(RepoPaths.Combine("docs", "node-suite.md"));

    [GeneratedRegex(@"^\| `([^`]+)` \| (.*) \| (ported|pending|fails|not applicable) \| (.*) \|$", RegexOptions.Multiline)]
    private static partial Regex RowPattern();

    [GeneratedRegex(@"^\| \*\*all\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|$", RegexOptions.Multiline)]
    private static partial Regex TotalPattern();

    [GeneratedRegex(@"(\d+) cases of socket\.io's own server tests: (\d+) ported, (\d+) pending, (\d+) failing, (\d+) not applicable")]
    private static partial Regex ReadmePattern();

    [GeneratedRegex("[A-Z]")]
    private static partial Regex Capital();

    private static List<Row> Rows() =>
        [.. RowPattern().Matches(Doc).Select(m => new Row(m.Groups[1].Value, m.Groups[2].Value.Replace("\\|", "|", StringComparison.Ordinal), m.Groups[3].Value, m.Groups[4].Value))];

    /// <summary>SocketMiddlewareTests → socket-middleware.ts.</summary>
    private static string FileOf(Type fixture) =>
        Capital().Replace(fixture.Name[..^"Tests".Length], m => (m.Index > 0 ? "-" : "") + m.Value.ToLowerInvariant()) + ".ts";

    private static IEnumerable<(Type Fixture, MethodInfo Method, string? Description)> Ported() =>
        from type in typeof(NodeSuiteFixture).Assembly.GetTypes()
        where type.IsSubclassOf(typeof(NodeSuiteFixture)) && !type.IsAbstract
        from method in type.GetMethods()
        let test = method.GetCustomAttribute<TestAttribute>()
        where test is not null
        select (type, method, test.Description);

    [Test]
    public void EveryTestIsARowOfTheTable()
    {
        var rows = Rows();
        foreach (var (fixture, method, description) in Ported())
        {
            Assert.That(description, Is.Not.Null.And.Not.Empty, $"{fixture.Name}.{method.Name} has no Description (the case's title)");
            var row = rows.SingleOrDefault(r => r.File == FileOf(fixture) && r.Case == description);
            Assert.That(row, Is.Not.Null, $"{fixture.Name}.{method.Name}: no row for {FileOf(fixture)} \"{description}\"");
#if NODESUITE_FAILING
            // the failing cases compiled in: their rows say "fails"
            if (row!.Status == "fails")
            {
                continue;
            }
#endif
            Assert.That(row!.Status, Is.EqualTo("ported"), $"{fixture.Name}.{method.Name}");
            Assert.That(row.Note, Does.StartWith($"`{fixture.Name}.{method.Name}`"));
        }
    }

    [Test]
    public void EveryPortedRowIsATest()
    {
        var tests = Ported().ToDictionary(t => $"`{t.Fixture.Name}.{t.Method.Name}`", t => (File: FileOf(t.Fixture), t.Description));
        foreach (var row in Rows().Where(r => r.Status == "ported"))
        {
            var name = row.Note.Split(' ')[0];
            Assert.That(tests.TryGetValue(name, out var test), Is.True, $"{row.File} \"{row.Case}\" names {name}, which is no test");
            Assert.That(test, Is.EqualTo((row.File, (string?)row.Case)));
        }
    }

    [Test]
    public void EveryRowNotPortedSaysWhy()
    {
        foreach (var row in Rows().Where(r => r.Status is "fails" or "not applicable"))
        {
            Assert.That(row.Note, Is.Not.Empty, $"{row.File} \"{row.Case}\" is {row.Status} without a reason");
        }
    }

    [Test]
    public void TheCountsAreTheRows()
    {
        var rows = Rows();
        var total = TotalPattern().Match(Doc);
        Assert.That(total.Success, Is.True, "the table of counts has no total line");
        int[] counted = [rows.Count, rows.Count(r => r.Status == "ported"), rows.Count(r => r.Status == "pending"), rows.Count(r => r.Status == "fails"), rows.Count(r => r.Status == "not applicable")];
        Assert.That(total.Groups.Values.Skip(1).Select(g => int.Parse(g.Value, System.Globalization.CultureInfo.InvariantCulture)), Is.EqualTo(counted));
        var readme = ReadmePattern().Match(File.ReadAllText(RepoPaths.Combine("README.md")));
        Assert.That(readme.Success, Is.True, "the README gives no counts of the Node suite");
        Assert.That(readme.Groups.Values.Skip(1).Select(g => int.Parse(g.Value, System.Globalization.CultureInfo.InvariantCulture)), Is.EqualTo(counted));
    }
}
