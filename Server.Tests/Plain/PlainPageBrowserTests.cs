using System.Text.RegularExpressions;
using Microsoft.Playwright;
using NUnit.Framework;
using SocketIoSignal.Tests.Browser;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Plain;

/// <summary>
/// The page at /plain/ (the codelab's main.js over a plain WebSocket) and the page at / (Socket.IO) in headless
/// Chromium, in one room: created / joined / ready / full across the two kinds, and a real WebRTC data channel
/// opened between a plain tab and a Socket.IO tab, signaled through our server.
/// </summary>
[TestFixture]
public sealed class PlainPageBrowserTests
{
    /// <summary>Test instrumentation, not part of the page: records every frame a page's plain WebSocket receives.</summary>
    private const string RecordPlainFrames = """
        (() => {
          window.__frames = [];
          const Native = window.WebSocket;
          window.WebSocket = function (url, protocols) {
            const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
            ws.addEventListener('message', e => window.__frames.push(JSON.parse(e.data).map(a => typeof a === 'string' ? a : JSON.stringify(a))));
            return ws;
          };
          window.WebSocket.prototype = Native.prototype;
          ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach(k => window.WebSocket[k] = Native[k]);
        })();
        """;

    private ChromiumHost _chromium = null!;
    private string _callRoot = null!;

    [OneTimeSetUp]
    public async Task LaunchAsync()
    {
        // The call page: index.html loading js/main.js, which is the call script of WebRtcCallTests (io.connect()).
        _callRoot = Directory.CreateTempSubdirectory("plain-call-").FullName;
        Directory.CreateDirectory(Path.Combine(_callRoot, "js"));
        File.WriteAllText(Path.Combine(_callRoot, "index.html"), """
            <!DOCTYPE html>
            <html>
            <head><title>data channel call</title></head>
            <body>
              <script src="/socket.io/socket.io.js"></script>
              <script src="js/main.js"></script>
            </body>
            </html>

            """);
        File.WriteAllText(Path.Combine(_callRoot, "js", "main.js"), WebRtcCallTests.CallJs);
        _chromium = await ChromiumHost.LaunchForCallsAsync();
    }

    [OneTimeTearDown]
    public async Task CloseAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }
        Directory.Delete(_callRoot, recursive: true);
    }

    [TestCase("1", true)]
    [TestCase("4", false)]
    public async Task PlainAndSocketIoTabsShareOneRoom(string client, bool plainFirst)
    {
        await using var server = await TestServer.StartAsync(["--client", client]);
        await using var context = await _chromium.Browser.NewContextAsync().WaitAsync(TimeSpan.FromSeconds(15));
        string first = server.Url + (plainFirst ? "/plain/" : "/");
        string second = server.Url + (plainFirst ? "/" : "/plain/");

        var (page1, console1) = await OpenAsync(context, first, "foo");
        await console1.WaitForLineAsync("Message from client: Asking to join room foo");
        await console1.WaitForLineAsync("Message from server: Room foo now has 0 client(s)");
        await console1.WaitForAsync(l => Regex.IsMatch(l, "^Message from server: Client ID \\S+ created room foo$"), "… created room foo");
        await WaitForFrameAsync(page1, "created");
        Assert.That(await page1.EvaluateAsync<bool>("() => isInitiator === true"), Is.True);

        var (page2, console2) = await OpenAsync(context, second, "foo");
        await console2.WaitForLineAsync("Message from server: Room foo now has 1 client(s)");
        await console2.WaitForAsync(l => Regex.IsMatch(l, "^Message from server: Client ID \\S+ joined room foo$"), "… joined room foo");
        await WaitForFrameAsync(page2, "joined");
        await WaitForFrameAsync(page2, "ready");
        await WaitForFrameAsync(page1, "join");
        await WaitForFrameAsync(page1, "ready");
        Assert.That(await page2.EvaluateAsync<bool>("() => isInitiator === false"), Is.True);

        // A third tab of each kind: the room holds two, whatever they speak.
        var (_, console3) = await OpenAsync(context, server.Url + "/plain/", "foo");
        await console3.WaitForLineAsync("Message from server: Room foo now has 2 client(s)");
        await console3.WaitForLineAsync("Message from client: Room foo is full :^(");
        var (_, console4) = await OpenAsync(context, server.Url + "/", "foo");
        await console4.WaitForLineAsync("Message from client: Room foo is full :^(");
        Assert.That(server.Get<SocketIoSignal.Plain.PlainWebSocketEndpoint>().Count, Is.EqualTo(2), "two plain tabs are connected to /ws");
        server.AssertNoErrors();
    }

    [TestCase("codelab", "4", true)]
    [TestCase("step6", "2", false)]
    [TestCase("rooms", "1", true)]
    public async Task ADataChannelOpensBetweenAPlainTabAndASocketIoTab(string mode, string client, bool plainInitiates)
    {
        await using var server = await TestServer.StartAsync(["--root", _callRoot, "--mode", mode, "--client", client]);
        await using var context = await _chromium.Browser.NewContextAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var initiator = await OpenCallAsync(context, server.Url + (plainInitiates ? "/plain/" : "/"));
        await initiator.WaitForFunctionAsync("() => window.trace.includes('created')", null, new PageWaitForFunctionOptions { Timeout = 15000 });
        var joiner = await OpenCallAsync(context, server.Url + (plainInitiates ? "/" : "/plain/"));
        try
        {
            await joiner.WaitForFunctionAsync("() => window.received.includes('hello from the initiator')", null, new PageWaitForFunctionOptions { Timeout = 20000 });
            await initiator.WaitForFunctionAsync("() => window.received.includes('hello from the joiner')", null, new PageWaitForFunctionOptions { Timeout = 20000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail("no data channel message crossed.\ninitiator: " + await TraceAsync(initiator) + "\njoiner: " + await TraceAsync(joiner));
        }
        var plainPage = plainInitiates ? initiator : joiner;
        Assert.That(await plainPage.EvaluateAsync<bool>("() => socket.ws instanceof WebSocket && typeof io === 'function'"), Is.True,
            "the plain page signals over its own WebSocket (the bundle is loaded, but unused)");
        Assert.That(server.Get<SocketIoSignal.Plain.PlainWebSocketEndpoint>().Count, Is.EqualTo(1));
        server.AssertNoErrors();
    }

    private static async Task<(IPage Page, PageConsole Console)> OpenAsync(IBrowserContext context, string url, string answer)
    {
        var page = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var console = new PageConsole(page);
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync(answer);
        await page.AddInitScriptAsync(RecordPlainFrames).WaitAsync(TimeSpan.FromSeconds(15));
        await page.AddInitScriptAsync(PageScripts.RecordSocketEvents("__frames")).WaitAsync(TimeSpan.FromSeconds(15));
        var response = await page.GotoAsync(url, new PageGotoOptions { Timeout = 15000 });
        Assert.That(response?.Status, Is.EqualTo(200), url);
        return (page, console);
    }

    private static async Task<IPage> OpenCallAsync(IBrowserContext context, string url)
    {
        var page = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var response = await page.GotoAsync(url, new PageGotoOptions { Timeout = 15000 });
        Assert.That(response?.Status, Is.EqualTo(200), url);
        return page;
    }

    private static async Task WaitForFrameAsync(IPage page, string name)
    {
        try
        {
            await page.WaitForFunctionAsync("n => window.__frames.some(e => e[0] === n)", name, new PageWaitForFunctionOptions { Timeout = 15000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the page got no '{name}'; it got {await page.EvaluateAsync<string>("() => JSON.stringify(window.__frames)")}");
        }
    }

    private static Task<string> TraceAsync(IPage page) => page.EvaluateAsync<string>("() => JSON.stringify(window.trace)").WaitAsync(TimeSpan.FromSeconds(5));
}
