using Microsoft.Playwright;

namespace SocketIoSignal.Tests.Browser;

/// <summary>
/// Headless Chromium from the system (/usr/bin/chromium) through Playwright's driver, which ships in the
/// Microsoft.Playwright package (.playwright/ in the build output); no browser is ever downloaded.
/// </summary>
public sealed class ChromiumHost : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string[] BaseArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private ChromiumHost(IPlaywright playwright, IBrowser browser)
    {
        Playwright = playwright;
        Browser = browser;
    }

    public IPlaywright Playwright { get; }

    public IBrowser Browser { get; }

    /// <summary>A browser for WebRTC calls between pages: fake camera and microphone, no permission prompt, host candidates as IPs.</summary>
    public static Task<ChromiumHost> LaunchForCallsAsync() => LaunchAsync(
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        // Two pages of one call run side by side; neither may be throttled as a background tab.
        "--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows");

    public static async Task<ChromiumHost> LaunchAsync(params string[] extraArgs)
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(ExecutablePath + " is missing: install chromium (test.sh does)");
        }
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync().WaitAsync(TimeSpan.FromSeconds(30));
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = [.. BaseArgs, .. extraArgs],
                Timeout = 30000,
            }).WaitAsync(TimeSpan.FromSeconds(40));
            return new ChromiumHost(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync().WaitAsync(TimeSpan.FromSeconds(15));
        Playwright.Dispose();
    }
}
