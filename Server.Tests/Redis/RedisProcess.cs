using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis;

/// <summary>A redis-server of the tests' own, on a free port, without persistence; killed at the end.</summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private readonly Process _process;

    private RedisProcess(Process process, int port, ConnectionMultiplexer connection)
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

    public static async Task<RedisProcess> StartAsync()
    {
        if (!File.Exists("/usr/bin/redis-server"))
        {
            Assert.Fail("redis-server is not installed (./test.sh installs it)");
        }
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            var process = Process.Start(new ProcessStartInfo("/usr/bin/redis-server",
                ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("Ready to accept connections", StringComparison.Ordinal) == true)
                {
                    ready.TrySetResult();
                }
            };
            process.EnableRaisingEvents = true;
            process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("redis-server exited"));
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await ready.Task.Within(TimeSpan.FromSeconds(10));
                var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}").Within();
                return new RedisProcess(process, port, connection);
            }
            catch (Exception) when (attempt < 3)
            {
                Kill(process);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        Kill(_process);
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One redis-server for every test of this namespace.</summary>
[SetUpFixture]
public sealed class RedisSetUp
{
    private static RedisProcess? s_redis;

    public static RedisProcess Redis => s_redis ?? throw new InvalidOperationException("redis-server not started");

    [OneTimeSetUp]
    public async Task StartAsync() => s_redis = await RedisProcess.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (s_redis is not null)
        {
            await s_redis.DisposeAsync();
        }
    }

    /// <summary>A key prefix of one's own, so tests do not see each other's rooms.</summary>
    public static string UniquePrefix() => "t" + Guid.NewGuid().ToString("N")[..12];
}
