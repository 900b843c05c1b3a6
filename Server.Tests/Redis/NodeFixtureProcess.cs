using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Redis;

/// <summary>The Node fixture nodes' scripts (cluster, suite, streams) all read commands as JSON lines.</summary>
internal static class NodeFixtureProcess
{
    /// <summary>Asks the script to quit and waits for it, then disposes the process.</summary>
    public static async Task QuitAndDisposeAsync(this ChildProcess process)
    {
        try
        {
            await process.SendLineAsync("{\"cmd\":\"quit\",\"seq\":0}");
            await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
        {
            // Already gone (a test killed it): disposing the process is enough.
        }
        await process.DisposeAsync();
    }
}
