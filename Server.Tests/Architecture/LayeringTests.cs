using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Architecture;

/// <summary>
/// The seams inside the SocketIoSignal assembly, which project references cannot hold: Engine.IO knows nothing of
/// Socket.IO or the ASP.NET integration; the pure Protocol folders use no ASP.NET types. (That the library knows
/// nothing of the Redis adapter or the codelab app is held by the project references.)
/// </summary>
[TestFixture]
public sealed class LayeringTests
{
    private static IEnumerable<string> Sources(string folder) =>
        Directory.EnumerateFiles(RepoPaths.Combine("src", "SocketIoSignal", folder), "*.cs", SearchOption.AllDirectories);

    private static void AssertNoReference(string folder, string pattern)
    {
        var offenders = Sources(folder)
            .Where(f => Regex.IsMatch(File.ReadAllText(f), pattern))
            .Select(Path.GetFileName)
            .ToList();
        Assert.That(offenders, Is.Empty, $"{folder} must not reference {pattern}");
    }

    [Test]
    public void EngineIoDoesNotKnowTheLayersAbove() =>
        AssertNoReference("EngineIO", @"SocketIoSignal\.(SocketIO|AspNetCore)\b");

    [TestCase("EngineIO/Protocol")]
    [TestCase("SocketIO/Protocol")]
    public void ProtocolFoldersArePure(string folder) =>
        AssertNoReference(folder, @"Microsoft\.AspNetCore|SocketIoSignal\.(EngineIO|SocketIO)\.(?!Protocol)");
}
