using Microsoft.Playwright;
using NUnit.Framework;
using SocketIoSignal.Tests.Browser;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.AdminUi;

/// <summary>
/// Item 5 in a browser: the official Socket.IO Admin UI (0.5.1, as served at /admin/ by the codelab app) in headless
/// Chromium logs in through its form, lists a socket.io-client 4.8.1 socket, its room and its events, and disconnects it.
/// Screenshots go to TestResults/admin-ui/.
/// </summary>
[TestFixture]
public sealed class AdminUiBrowserTests
{
    private const float Timeout = 15000;

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

    public static string ScreenshotFolder => RepoPaths.Combine("TestResults", "admin-ui");

    [Test]
    public async Task TheOfficialUiShowsASocketAndItsRoomAndDisconnectsIt()
    {
        await using var server = await TestServer.StartAsync(
            ["--AdminUi:Enabled=true", "--AdminUi:Username=admin", "--AdminUi:Password=secret", "--AdminUi:ServerStatsInterval=500"]);
        await using var driver = SioDriver.Start();
        var userId = await driver.ConnectedAsync("user", server.Url + "/", transports: ["websocket"]);
        await driver.EmitAsync("user", "create or join", "foo");
        await driver.WaitForAsync("user", "created");

        await using var context = await _chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
        }).WaitAsync(TimeSpan.FromSeconds(15));
        // The page asks for web fonts and icons from CDNs: nothing leaves this machine, the UI works without them.
        await context.RouteAsync("**/*", route =>
            new Uri(route.Request.Url).Host == "127.0.0.1" ? route.ContinueAsync() : route.AbortAsync()).WaitAsync(TimeSpan.FromSeconds(15));
        var page = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var pageErrors = new List<string>();
        page.PageError += (_, error) => pageErrors.Add(error);
        Directory.CreateDirectory(ScreenshotFolder);

        var response = await page.GotoAsync(server.Url + "/admin/", new PageGotoOptions { Timeout = Timeout });
        Assert.That(response?.Status, Is.EqualTo(200));

        // The login form, as a person fills it.
        await page.GetByLabel("Server URL").FillAsync(server.Url, new LocatorFillOptions { Timeout = Timeout });
        await page.GetByLabel("Username").FillAsync("admin", new LocatorFillOptions { Timeout = Timeout });
        await page.GetByLabel("Password").FillAsync("secret", new LocatorFillOptions { Timeout = Timeout });
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Connect" }).ClickAsync(new LocatorClickOptions { Timeout = Timeout });

        // The dashboard: connected, this server's namespaces and their sockets (from server_stats).
        await page.GetByText(new System.Text.RegularExpressions.Regex("^\\s*connected\\s*$", System.Text.RegularExpressions.RegexOptions.IgnoreCase)).First.WaitForAsync(new LocatorWaitForOptions { Timeout = Timeout });
        await page.GetByRole(AriaRole.Row).Filter(new LocatorFilterOptions { HasText = "/admin" }).WaitForAsync(new LocatorWaitForOptions { Timeout = Timeout });
        await page.GetByLabel("Password").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Hidden, Timeout = Timeout });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, "dashboard.png"), Timeout = Timeout });

        // Sockets: the user's socket, by id.
        await NavigateAsync(page, "Sockets");
        var row = page.GetByRole(AriaRole.Row).Filter(new LocatorFilterOptions { HasText = userId });
        await row.WaitForAsync(new LocatorWaitForOptions { Timeout = Timeout });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, "sockets.png"), Timeout = Timeout });
        Assert.That(await row.InnerTextAsync(new LocatorInnerTextOptions { Timeout = Timeout }), Does.Contain("127.0.0.1"));

        // Rooms: the room the codelab put it in.
        await NavigateAsync(page, "Rooms");
        var room = page.GetByRole(AriaRole.Row).Filter(new LocatorFilterOptions { HasText = "foo" });
        await room.WaitForAsync(new LocatorWaitForOptions { Timeout = Timeout });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, "rooms.png"), Timeout = Timeout });

        // Events (development mode): an event the socket emits now, as it arrives.
        await driver.EmitAsync("user", "message", "hello from the test");
        await NavigateAsync(page, "Events");
        await page.GetByRole(AriaRole.Row).Filter(new LocatorFilterOptions { HasText = "message" }).First.WaitForAsync(new LocatorWaitForOptions { Timeout = Timeout });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, "events.png"), Timeout = Timeout });

        // Back to the sockets, and the row's disconnect button (the click also opens the socket's page, as the UI does).
        await NavigateAsync(page, "Sockets");
        await row.GetByRole(AriaRole.Button).ClickAsync(new LocatorClickOptions { Timeout = Timeout });
        var disconnected = await driver.WaitForAsync("user", "disconnect");
        Assert.That(disconnected.Text(0), Is.EqualTo("io server disconnect"));
        await NavigateAsync(page, "Sockets");
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached, Timeout = Timeout });
        await page.GetByRole(AriaRole.Cell, new PageGetByRoleOptions { Name = "No data available" }).First.WaitForAsync(new LocatorWaitForOptions { Timeout = Timeout });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, "sockets-after-disconnect.png"), Timeout = Timeout });

        Assert.That(pageErrors, Is.Empty, "errors in the page");
        server.AssertNoErrors();
    }

    /// <summary>Clicks an entry of the navigation drawer.</summary>
    private static Task NavigateAsync(IPage page, string name) =>
        page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = name, Exact = true })
            .ClickAsync(new LocatorClickOptions { Timeout = Timeout });
}
