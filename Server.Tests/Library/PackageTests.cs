using System.IO.Compression;
using System.Xml.Linq;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Library;

/// <summary>`dotnet pack` at the repository root makes the two packages and nothing else, each complete.</summary>
[TestFixture]
[Category("Package")]
public sealed class PackageTests
{
    private string _feed = "";

    [OneTimeSetUp]
    public async Task PackAsync()
    {
        _feed = Directory.CreateTempSubdirectory("pack-").FullName;
        await using var pack = ChildProcess.Start("dotnet", ["pack", RepoPaths.Combine("SocketIoSignal.sln"), "-c", "Release", "--no-build", "-o", _feed]);
        int exit = await pack.WaitForExitAsync(TimeSpan.FromMinutes(4));
        Assert.That(exit, Is.Zero, string.Join("\n", pack.Output.Concat(pack.Errors)));
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_feed, recursive: true);

    [Test]
    public void OnlyTheTwoPackagesAndTheirSymbols()
    {
        var version = XDocument.Load(RepoPaths.Combine("src", "Directory.Build.props")).Descendants("Version").Single().Value;
        Assert.That(Directory.GetFiles(_feed).Select(Path.GetFileName).Order(), Is.EqualTo(new[]
        {
            $"SocketIoSignal.{version}.nupkg",
            $"SocketIoSignal.{version}.snupkg",
            $"SocketIoSignal.Redis.{version}.nupkg",
            $"SocketIoSignal.Redis.{version}.snupkg",
        }));
    }

    [TestCase("SocketIoSignal", "lib/net10.0/SocketIoSignal.dll")]
    [TestCase("SocketIoSignal.Redis", "lib/net10.0/SocketIoSignal.Redis.dll")]
    public void EachPackageHasItsReadmeLicenseAndDocumentation(string id, string dll)
    {
        using var zip = ZipFile.OpenRead(Directory.GetFiles(_feed, id + ".?.*.nupkg").Single());
        var entries = zip.Entries.Select(e => e.FullName).ToList();
        Assert.That(entries, Does.Contain(dll).And.Contain(Path.ChangeExtension(dll, ".xml")).And.Contain("README.md"));
        using var nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var nuspec = XDocument.Load(nuspecStream);
        string Meta(string name) => nuspec.Descendants().Single(e => e.Name.LocalName == name).Value;
        Assert.That(Meta("license"), Is.EqualTo("MIT"));
        Assert.That(Meta("readme"), Is.EqualTo("README.md"));
        Assert.That(Meta("description"), Is.Not.Empty);
        if (id == "SocketIoSignal")
        {
            Assert.That(entries.Count(e => e.StartsWith("licenses/socket.io-client/", StringComparison.Ordinal) && e.EndsWith("/LICENSE", StringComparison.Ordinal)), Is.EqualTo(3),
                "the vendored client bundles' licenses travel with them");
            Assert.That(nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value), Does.Not.Contain("StackExchange.Redis"),
                "Redis is only in the Redis package");
        }
    }
}
