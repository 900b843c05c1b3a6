using System.Collections.Concurrent;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>
/// Item 8: the seed's index.js on Node (socket.io 2.5.1) and our server, driven by the same scripted scenarios
/// (Server.Tests/node/scenario.js) with the same client, must give identical transcripts. Each scenario gets a
/// fresh reference and a fresh server of ours (message goes to every socket on a server, and leftover sockets
/// would change room counts); two scenarios run at a time. The reference speaks only Engine.IO 3, so clients
/// 3.x and 4.x against ours are compared with client 2.x against the reference (transcripts do not depend on
/// the client version).
/// </summary>
[TestFixture]
public sealed class DifferentialTests
{
    private static readonly string[] Scenarios = ["codelab", "full", "multiroom", "values", "arrayroom", "sdp", "binary", "ipaddr"];

    /// <summary>Reference transcripts of client 2, shared by the client 2, 3 and 4 cases of one transport.</summary>
    private static readonly ConcurrentDictionary<(string Transport, string Scenario), Lazy<Task<(int, string, string)>>> Client2Reference = new();

    [OneTimeSetUp]
    public void RequireNode() => NodeScripts.RequireNodeModules();

    [TestCase("1", "polling")]
    [TestCase("1", "websocket")]
    [TestCase("1", "upgrade")]
    [TestCase("2", "polling")]
    [TestCase("2", "websocket")]
    [TestCase("2", "upgrade")]
    [TestCase("3", "polling")]
    [TestCase("3", "websocket")]
    [TestCase("3", "upgrade")]
    [TestCase("4", "polling")]
    [TestCase("4", "websocket")]
    [TestCase("4", "upgrade")]
    public async Task TranscriptsMatchTheReference(string client, string transport)
    {
        using var slots = new SemaphoreSlim(2);
        var runs = Scenarios.Select(async scenario =>
        {
            await slots.WaitAsync();
            try
            {
                return await CompareAsync(client, transport, scenario);
            }
            finally
            {
                slots.Release();
            }
        }).ToArray();
        var differences = (await Task.WhenAll(runs).Within(TimeSpan.FromMinutes(3))).Where(d => d is not null).ToArray();
        Assert.That(differences, Is.Empty, string.Join("\n\n", differences));
    }

    /// <summary>Runs one scenario against both servers; null when the transcripts are identical.</summary>
    private static async Task<string?> CompareAsync(string client, string transport, string scenario)
    {
        var referenceClient = client is "3" or "4" ? "2" : client;
        Task<(int Exit, string Stdout, string Stderr)> reference = referenceClient == "2"
            ? Client2Reference.GetOrAdd((transport, scenario), key => new Lazy<Task<(int, string, string)>>(() => RunReferenceAsync("2", key.Transport, key.Scenario))).Value
            : RunReferenceAsync(referenceClient, transport, scenario);
        var ours = RunOursAsync(client, transport, scenario);
        var (refExit, refOut, refErr) = await reference;
        var (ourExit, ourOut, ourErr, ourErrors) = await ours;
        var label = $"{scenario} (client {client}, {transport}" + (referenceClient != client ? $"; reference with client {referenceClient})" : ")");
        if (refExit != 0)
        {
            return $"{label}: the reference run failed (exit {refExit}): {refErr}";
        }
        if (ourExit != 0)
        {
            return $"{label}: the run against our server failed (exit {ourExit}): {ourErr}";
        }
        if (ourErrors.Length > 0)
        {
            return $"{label}: our server logged errors: {string.Join("\n", ourErrors)}";
        }
        return refOut == ourOut ? null : $"{label}: transcripts differ\n{FirstDifference(refOut, ourOut)}";
    }

    private static async Task<(int, string, string)> RunReferenceAsync(string client, string transport, string scenario)
    {
        await using var reference = await ReferenceServer.StartAsync();
        return await NodeScripts.RunScenarioAsync(reference.Url, client, transport, scenario);
    }

    private static async Task<(int, string, string, string[])> RunOursAsync(string client, string transport, string scenario)
    {
        await using var server = await TestServer.StartAsync();
        var (exit, stdout, stderr) = await NodeScripts.RunScenarioAsync(server.Url, client, transport, scenario);
        return (exit, stdout, stderr, server.Logs.Errors.ToArray());
    }

    private static string FirstDifference(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : "<end>";
            var y = i < b.Length ? b[i] : "<end>";
            if (x != y)
            {
                return $"line {i + 1}:\n  reference: {x}\n  ours:      {y}";
            }
        }
        return "(no line differs)";
    }
}
