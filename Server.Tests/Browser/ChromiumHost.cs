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

/// <summary>A page's console lines, with a way to wait for one.</summary>
public sealed class PageConsole
{
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _waiters = [];

    public PageConsole(IPage page) => page.Console += (_, message) => Add(message.Text);

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Waits for a line (already seen or still to come) that matches.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> match, string what, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            var seen = _lines.FirstOrDefault(match);
            if (seen is not null)
            {
                return seen;
            }
            _waiters.Add((match, done));
        }
        try
        {
            return await done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no console line {what}; the console had:\n  " + string.Join("\n  ", Lines));
        }
    }

    public Task<string> WaitForLineAsync(string line) => WaitForAsync(l => l == line, $"\"{line}\"");

    private void Add(string line)
    {
        lock (_lines)
        {
            _lines.Add(line);
            foreach (var waiter in _waiters.Where(w => w.Match(line)).ToArray())
            {
                waiter.Done.TrySetResult(line);
                _waiters.Remove(waiter);
            }
        }
    }
}
