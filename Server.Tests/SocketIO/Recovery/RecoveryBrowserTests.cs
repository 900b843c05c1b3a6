using Microsoft.Playwright;
using NUnit.Framework;
using SocketIoSignal.Signaling;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Browser;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests.Recovery;

/// <summary>
/// Rooms mode as shipped, with the socket.io-client 4.8.1 bundle the server serves (<c>--client 4</c>) in Chromium:
/// two pages in a call; one page's network is cut mid-call (it reaches the server through a loopback proxy that
/// resets its connections and refuses new ones), its peer sends ICE candidates meanwhile; when the network is back the
/// page recovers on its own: same id, <c>socket.recovered</c>, its room, the candidates, and its peer heard no bye.
/// </summary>
[TestFixture]
internal sealed class RecoveryBrowserTests
{
    private const string PageHtml = """
        <!DOCTYPE html>
        <html>
        <head><title>recovery</title></head>
        <body>
          <script src="/socket.io/socket.io.js"></script>
          <script>
            window.connects = [];
            window.events = [];
            var socket = io({ reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 });
            socket.on('connect', function () { window.connects.push({ id: socket.id, recovered: socket.recovered }); });
            socket.onAny(function () { window.events.push(Array.prototype.slice.call(arguments)); });
            socket.emit('create or join', 'call');
          </script>
        </body>
        </html>

        """;

    private ChromiumHost _chromium = null!;
    private string _root = null!;

    [OneTimeSetUp]
    public async Task LaunchAsync()
    {
        _root = Directory.CreateTempSubdirectory("recovery-page-").FullName;
        File.WriteAllText(Path.Combine(_root, "rec.html"), PageHtml);
        _chromium = await ChromiumHost.LaunchAsync();
    }

    [OneTimeTearDown]
    public async Task CloseAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }
        Directory.Delete(_root, recursive: true);
    }

    private static Task WaitAsync(IPage page, string condition) =>
        page.WaitForFunctionAsync(condition, null, new PageWaitForFunctionOptions { Timeout = 30000 });

    [Test]
    public async Task APageWhoseNetworkIsCutMidCallRecoversItsRoomAndTheCandidates()
    {
        await using var server = await TestServer.StartAsync(["--root", _root, "--mode", "rooms", "--client", "4", "--EngineIo:PingInterval=500", "--EngineIo:PingTimeout=1500"]);
        var store = server.Get<SocketIoServer>().Sockets.Recovery!;
        await using var proxy = new CuttableProxy(server.Port);
        await using var context = await _chromium.Browser.NewContextAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var a = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(15));
        await a.GotoAsync(proxy.Url + "/rec.html", new PageGotoOptions { Timeout = 15000 });
        await WaitAsync(a, "() => window.events.some(e => e[0] === 'created')");
        var b = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(15));
        await b.GotoAsync(server.Url + "/rec.html", new PageGotoOptions { Timeout = 15000 });
        await WaitAsync(b, "() => window.events.some(e => e[0] === 'ready')");
        await WaitAsync(a, "() => window.events.some(e => e[0] === 'ready')");
        string id = await a.EvaluateAsync<string>("() => window.connects[0].id");

        proxy.Cut();
        await Eventually.UntilAsync(() => store.KeptSessions == 1, TimeSpan.FromSeconds(30), "the server kept the cut page's session");
        await b.EvaluateAsync<bool>("() => { socket.emit('message', { type: 'candidate', candidate: 'c1' }); socket.emit('message', { type: 'candidate', candidate: 'c2' }); return true; }");
        await WaitAsync(b, "() => window.events.filter(e => e[0] === 'log').length >= 5");
        proxy.Restore();

        await WaitAsync(a, "() => window.connects.length === 2");
        Assert.That(await a.EvaluateAsync<string>("() => window.connects[1].id"), Is.EqualTo(id), "the same socket id");
        Assert.That(await a.EvaluateAsync<bool>("() => window.connects[1].recovered"), Is.True, "socket.recovered in the page");
        await WaitAsync(a, "() => window.events.filter(e => e[0] === 'message').length >= 2");
        Assert.That(await a.EvaluateAsync<string>("() => JSON.stringify(window.events.filter(e => e[0] === 'message').map(e => e[1].candidate))"),
            Is.EqualTo("[\"c1\",\"c2\"]"), "the candidates sent while it was away, in order, once");
        await a.EvaluateAsync<bool>("() => { socket.emit('message', 'back'); return true; }");
        await WaitAsync(b, "() => window.events.some(e => e[0] === 'message' && e[1] === 'back')");
        Assert.That(await b.EvaluateAsync<bool>("() => window.events.some(e => e[0] === 'bye')"), Is.False, "its peer heard no bye");
        Assert.That(server.Get<CodelabSignaling>().PendingByes, Is.Zero);
        server.AssertNoErrors();
    }
}
