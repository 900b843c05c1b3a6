using System.Globalization;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis;

/// <summary>A redis-server of the tests' own, on a free port, without persistence; killed at the end.</summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private RedisProcess(ChildProcess process, int port, ConnectionMultiplexer connection)
    {
        _process = process;
        Port = port;
        Connection = connection;
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>A connection for the tests to look into Redis.</summary>
    public ConnectionMultiplexer Connection { get; }

    public IDatabase Db => Connection.GetDatabase();

    /// <summary>SIGKILL: Redis gone at once, with everything it held (no persistence).</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>A redis-server on this very port (after <see cref="KillAsync"/>): the same address, empty.</summary>
    public Task<RedisProcess> RestartAsync() => StartAsync(Port);

    public static Task<RedisProcess> StartAsync() => StartAsync(null);

    private static async Task<RedisProcess> StartAsync(int? fixedPort)
    {
        if (!File.Exists("/usr/bin/redis-server"))
        {
            Assert.Fail("redis-server is not installed (./test.sh installs it)");
        }
        for (int attempt = 0; ; attempt++)
        {
            int port = fixedPort ?? FreePort.Find();
            var process = ChildProcess.Start("/usr/bin/redis-server",
                ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
            try
            {
                await process.WaitForLineAsync(l => l.Contains("Ready to accept connections", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
                var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}").Within();
                return new RedisProcess(process, port, connection);
            }
            catch (Exception) when (attempt < 3 && fixedPort is null)
            {
                // Most likely the port was taken between the probe and the start: another port.
                await process.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await _process.DisposeAsync();
    }
}
