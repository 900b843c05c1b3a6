using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>
/// JSON in forms JSON.stringify never writes (numbers as <c>1E5</c>, <c>-0</c>, <c>1e21</c>, <c>1e400</c>; integer-like
/// keys out of order; duplicate keys), sent in raw frames by a client that is no socket.io-client
/// (Server.Tests/node/raw-json.js): the seed's server on Node (socket.io 2.5.1) parses each with JSON.parse and writes
/// it with JSON.stringify; ours must relay and echo the same bytes, and close the sender on none of them.
/// </summary>
[TestFixture]
public sealed class RawJsonDifferentialTests
{
    [OneTimeSetUp]
    public void RequireNode() => NodeScripts.RequireNodeModules();

    [Test]
    public async Task RawFramesAreRelayedAsTheReferenceRelaysThem()
    {
        string reference;
        await using (var node = await ReferenceServer.StartAsync())
        {
            reference = await RunAsync(node.Url);
        }
        string ours;
        await using (var server = await TestServer.StartAsync())
        {
            ours = await RunAsync(server.Url);
            server.AssertNoErrors();
        }
        // The reference's bytes for a few forms, so that a change of the script cannot make both sides agree on nothing.
        Assert.That(reference, Does.Contain("1e21\tA: 42[\"log\",[\"Message from server:\",\"Client said: \",1e+21]]"));
        Assert.That(reference, Does.Contain("-0\tA: 42[\"log\",[\"Message from server:\",\"Client said: \",0]]"));
        Assert.That(reference, Does.Contain("{\"b\":1,\"1\":2}\tA: 42[\"log\",[\"Message from server:\",\"Client said: \",{\"1\":2,\"b\":1}]]"));
        Assert.That(reference, Does.Contain("{\"a\":1,\"a\":2}\tA: 42[\"log\",[\"Message from server:\",\"Client said: \",{\"a\":2}]]"));
        Assert.That(reference, Does.Not.Contain("closed").And.Not.Contain("timeout"));
        var expected = reference.Split('\n');
        var actual = ours.Split('\n');
        Assert.That(actual, Has.Length.EqualTo(expected.Length), ours);
        var differences = expected.Zip(actual).Where(p => p.First != p.Second).Select(p => $"reference: {p.First}\nours:      {p.Second}").ToList();
        Assert.That(differences, Is.Empty, string.Join("\n\n", differences));
    }

    private static async Task<string> RunAsync(string url)
    {
        await using var process = ChildProcess.Start("node", [Path.Combine(NodeScripts.Folder, "raw-json.js"), "--url", url]);
        int exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.That(exit, Is.EqualTo(0), string.Join("\n", process.Errors));
        return string.Join("\n", process.Output) + "\n";
    }
}
