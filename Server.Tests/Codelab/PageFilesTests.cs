using System.Security.Cryptography;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>The page is the seed's, byte for byte.</summary>
[TestFixture]
public sealed class PageFilesTests
{
    [TestCase("public/index.html", "69848dfcbd6414ff26a605c5f486408e9620e31462c3e1a24a9393d263461f4a")]
    [TestCase("public/js/main.js", "7f0c70195f7843062587c3ed43f6d5d98fdc64711779c008dd1f94b73653657f")]
    public void PageFileIsTheSeedsByteForByte(string path, string sha256)
    {
        var bytes = File.ReadAllBytes(RepoPaths.Combine(path.Split('/')));
        Assert.That(Convert.ToHexStringLower(SHA256.HashData(bytes)), Is.EqualTo(sha256));
    }
}
