using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Architecture;

/// <summary>
/// The seams hold: Engine.IO knows nothing of Socket.IO, rooms or the app; the pure Protocol folders use no
/// ASP.NET types; Socket.IO knows nothing of the signaling app or hosting.
/// </summary>
[TestFixture]
public sealed class LayeringTests
{
    private static IEnumerable<string> Sources(string folder) =>
        Directory.EnumerateFiles(RepoPaths.Combine("Server", folder), "*.cs", SearchOption.AllDirectories);

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
        AssertNoReference("EngineIO", @"SocketIoSignal\.(SocketIO|Signaling|Hosting)\b");

    [Test]
    public void SocketIoDoesNotKnowTheAppOrHosting() =>
        AssertNoReference("SocketIO", @"SocketIoSignal\.(Signaling|Hosting)\b");

    [TestCase("EngineIO/Protocol")]
    [TestCase("SocketIO/Protocol")]
    public void ProtocolFoldersArePure(string folder) =>
        AssertNoReference(folder, @"Microsoft\.AspNetCore|SocketIoSignal\.(EngineIO|SocketIO)\.(?!Protocol)");
}
