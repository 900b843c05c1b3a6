using System.Text.RegularExpressions;
using Microsoft.Playwright;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Browser;

/// <summary>
/// Item 9 and 7: the unmodified codelab page in headless Chromium, with each client bundle, three tabs on one
/// room; and http://host/foo joining "foo" with no prompt. One browser for the fixture, a context per test.
/// </summary>
[TestFixture]
public sealed class CodelabPageTests
{
    private ChromiumHost _chromium = null!;

    [OneTimeSetUp]
    public async Task LaunchAsync() => _chromium = await ChromiumHost.LaunchAsync();

    [OneTimeTearDown]
    public async Task CloseAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }
    }

    [TestCase("1")]
    [TestCase("2")]
    [TestCase("4")]
    public async Task ThreeTabsGetCreatedJoinedAndFull(string client)
    {
        await using var server = await TestServer.StartAsync(["--client", client]);
        await using var context = await NewContextAsync();
        var dialogs = new List<string>();

        var (page1, console1) = await OpenAsync(context, server.Url + "/", dialogs, answer: "foo");
        await console1.WaitForLineAsync("Message from client: Asking to join room foo");
        await console1.WaitForLineAsync("Message from server: Received request to create or join room foo");
        await console1.WaitForLineAsync("Message from server: Room foo now has 0 client(s)");
        await console1.WaitForAsync(l => Regex.IsMatch(l, "^Message from server: Client ID \\S+ created room foo$"), "… created room foo");
        await WaitForEventAsync(page1, "created");
        Assert.That(await page1.EvaluateAsync<bool>("() => isInitiator === true"), Is.True, "the first tab is the initiator");

        var (page2, console2) = await OpenAsync(context, server.Url + "/", dialogs, answer: "foo");
        await console2.WaitForLineAsync("Message from server: Room foo now has 1 client(s)");
        await console2.WaitForAsync(l => Regex.IsMatch(l, "^Message from server: Client ID \\S+ joined room foo$"), "… joined room foo");
        await WaitForEventAsync(page2, "joined");
        await WaitForEventAsync(page2, "ready");
        await WaitForEventAsync(page1, "join");
        await WaitForEventAsync(page1, "ready");
        Assert.That(await page2.EvaluateAsync<bool>("() => isInitiator === false"), Is.True, "the second tab is not the initiator");

        var (_, console3) = await OpenAsync(context, server.Url + "/", dialogs, answer: "foo");
        await console3.WaitForLineAsync("Message from server: Room foo now has 2 client(s)");
        await console3.WaitForLineAsync("Message from client: Room foo is full :^(");

        Assert.That(dialogs, Is.EqualTo(new[] { "Enter room name:", "Enter room name:", "Enter room name:" }));
        Assert.That(console3.Lines, Has.None.Contains("joined room").And.None.Contains("created room"));
        server.AssertNoErrors();
    }

    [Test]
    public async Task RoomInThePathJoinsWithoutAPrompt()
    {
        await using var server = await TestServer.StartAsync();
        await using var context = await NewContextAsync();
        var dialogs = new List<string>();

        var (page1, console1) = await OpenAsync(context, server.Url + "/foo", dialogs, answer: null);
        await console1.WaitForLineAsync("Message from client: Asking to join room foo");
        await console1.WaitForAsync(l => Regex.IsMatch(l, "^Message from server: Client ID \\S+ created room foo$"), "… created room foo");

        // With a trailing slash, the page's relative js/main.js still loads (the page gets <base href="/">).
        var (page2, console2) = await OpenAsync(context, server.Url + "/foo/", dialogs, answer: null);
        await console2.WaitForAsync(l => Regex.IsMatch(l, "^Message from server: Client ID \\S+ joined room foo$"), "… joined room foo");
        await WaitForEventAsync(page2, "ready");
        await WaitForEventAsync(page1, "ready");

        var (_, console3) = await OpenAsync(context, server.Url + "/foo", dialogs, answer: null);
        await console3.WaitForLineAsync("Message from client: Room foo is full :^(");

        Assert.That(dialogs, Is.Empty, "no prompt is shown for /foo");
        Assert.That(await page1.EvaluateAsync<string>("() => window.room"), Is.EqualTo("foo"));
        server.AssertNoErrors();
    }

    private Task<IBrowserContext> NewContextAsync() => _chromium.Browser.NewContextAsync().WaitAsync(TimeSpan.FromSeconds(15));

    private static async Task<(IPage Page, PageConsole Console)> OpenAsync(IBrowserContext context, string url, List<string> dialogs, string? answer)
    {
        var page = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var console = new PageConsole(page);
        page.Dialog += async (_, dialog) =>
        {
            lock (dialogs)
            {
                dialogs.Add(dialog.Message);
            }
            if (answer is null)
            {
                await dialog.DismissAsync();
            }
            else
            {
                await dialog.AcceptAsync(answer);
            }
        };
        await page.AddInitScriptAsync(PageScripts.RecordSocketEvents("__sioEvents")).WaitAsync(TimeSpan.FromSeconds(15));
        var response = await page.GotoAsync(url, new PageGotoOptions { Timeout = 15000 });
        Assert.That(response?.Status, Is.EqualTo(200), url);
        return (page, console);
    }

    private static async Task WaitForEventAsync(IPage page, string name)
    {
        try
        {
            await page.WaitForFunctionAsync("n => window.__sioEvents.some(e => e[0] === n)", name, new PageWaitForFunctionOptions { Timeout = 15000 });
        }
        catch (TimeoutException)
        {
            var seen = await page.EvaluateAsync<string>("() => JSON.stringify(window.__sioEvents)");
            Assert.Fail($"the page's socket got no '{name}' event; it got {seen}");
        }
    }
}
