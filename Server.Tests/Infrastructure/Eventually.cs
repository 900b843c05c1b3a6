namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>
/// The one bounded wait for a state no event announces (a poll now waiting, a counter back to zero, a key gone
/// from Redis): checks the condition, yielding briefly between checks, until it holds or the timeout passes.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(5);

    /// <summary>Returns once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string because) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, because);

    /// <summary>Returns once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string because)
    {
        long start = TimeProvider.System.GetTimestamp();
        while (!await condition().Within(timeout))
        {
            if (TimeProvider.System.GetElapsedTime(start) > timeout)
            {
                throw new TimeoutException($"not within {timeout.TotalSeconds:0.###} s: {because}");
            }
            await Task.Delay(Pause);
        }
    }
}
