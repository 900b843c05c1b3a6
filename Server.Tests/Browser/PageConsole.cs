using Microsoft.Playwright;

namespace SocketIoSignal.Tests.Browser;

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
