using SocketIoSignal.EngineIO;

namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>
/// The one place tests turn their durations (milliseconds, as they write them) into option values, so a change
/// of how the options hold durations is an edit here. Options without a duration are set directly.
/// </summary>
public static class TestOptions
{
    public static EngineIoOptions WithPing(this EngineIoOptions options, int intervalMs, int timeoutMs)
    {
        options.PingInterval = TimeSpan.FromMilliseconds(intervalMs);
        options.PingTimeout = TimeSpan.FromMilliseconds(timeoutMs);
        return options;
    }

    public static EngineIoOptions WithUpgradeTimeout(this EngineIoOptions options, int ms)
    {
        options.UpgradeTimeout = TimeSpan.FromMilliseconds(ms);
        return options;
    }

    public static EngineIoOptions WithCloseTimeout(this EngineIoOptions options, int ms)
    {
        options.CloseTimeout = TimeSpan.FromMilliseconds(ms);
        return options;
    }

    /// <summary>How long a shutdown may wait for WebSocket close handshakes.</summary>
    public static TimeSpan CloseTimeout(this EngineIoOptions options) => options.CloseTimeout;
}
