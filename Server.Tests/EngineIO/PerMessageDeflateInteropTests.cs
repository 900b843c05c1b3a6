using System.Text.Json;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Browser;
using SocketIoSignal.Tests.Codelab;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>
/// permessage-deflate with the clients that offer it: socket.io-client 4 in Node (ws, whose offer engine.io-client
/// makes by default) and Chromium (which always offers it). A large message goes to the server compressed and comes
/// back compressed (the codelab's 'log' carries it); with the option off the same clients work without it.
/// </summary>
[TestFixture]
[NonParallelizable]
internal sealed class PerMessageDeflateInteropTests
{
    private static async Task<JsonElement> RunNodeAsync(TestServer server)
    {
        NodeScripts.RequireNodeModules();
        await using var process = ChildProcess.Start("node", [Path.Combine(NodeScripts.Folder, "deflate.js"), "--url", server.Url]);
        int exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.That(exit, Is.EqualTo(0), string.Join("\n", process.Errors));
        return JsonDocument.Parse(process.Output.Last()).RootElement;
    }

    [Test]
    public async Task NodeClientAgreesAndRoundTripsCompressed()
    {
        await using var server = await TestServer.StartAsync(["--EngineIo:PerMessageDeflate=true"]);
        var result = await RunNodeAsync(server);
        Assert.That(result.GetProperty("extensions").GetString(), Does.StartWith("permessage-deflate"));
        Assert.That(result.GetProperty("echoed").GetBoolean(), Is.True);
        server.AssertNoErrors();
    }

    [Test]
    public async Task NodeClientGoesWithoutWhenOff()
    {
        await using var server = await TestServer.StartAsync();
        var result = await RunNodeAsync(server);
        Assert.That(result.GetProperty("extensions").GetString(), Is.Empty);
        Assert.That(result.GetProperty("echoed").GetBoolean(), Is.True);
        server.AssertNoErrors();
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task ChromiumRoundTripsALargeMessage(bool deflate)
    {
        await using var server = await TestServer.StartAsync(deflate ? ["--EngineIo:PerMessageDeflate=true"] : []);
        await using var chromium = await ChromiumHost.LaunchAsync();
        var context = await chromium.Browser.NewContextAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var page = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(15));
        await page.GotoAsync(server.Url + "/socket.io/socket.io.js").WaitAsync(TimeSpan.FromSeconds(30));
        await page.AddScriptTagAsync(new() { Url = server.Url + "/socket.io/socket.io.js" }).WaitAsync(TimeSpan.FromSeconds(30));
        var echoed = await page.EvaluateAsync<bool>(@"() => new Promise((resolve, reject) => {
            const big = 'deflate me '.repeat(2000) + '€😀';
            const s = io({ transports: ['websocket'], reconnection: false });
            setTimeout(() => reject(new Error('timeout')), 15000);
            s.on('connect_error', e => reject(e));
            s.on('log', (...args) => { if (JSON.stringify(args).includes(big)) resolve(true); });
            s.on('connect', () => s.emit('message', big));
        })").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(echoed, Is.True);
        var engine = server.Get<EngineIoServer>();
        Assert.That(engine.Sessions.Count(s => s.Transport == TransportKind.WebSocket && s.WebSocketCompressed), Is.EqualTo(deflate ? 1 : 0),
            "Chromium offers permessage-deflate: taken only when the option is on");
        await context.CloseAsync();
        server.AssertNoErrors();
    }
}
