using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;
using StackExchange.Redis;

namespace SocketIoSignal.Tests.Redis;

/// <summary>
/// A Redis Cluster of the tests' own: three masters (<c>redis-server --cluster-enabled yes</c>, each on a free
/// port whose cluster-bus port, +10000, is free too, in a temporary directory), joined by
/// <c>redis-cli --cluster create … --cluster-replicas 0</c>; killed and their directories removed at the end.
/// </summary>
public sealed class RedisClusterProcess : IAsyncDisposable
{
    private readonly List<ChildProcess> _servers;
    private readonly string _dir;

    private RedisClusterProcess(List<ChildProcess> servers, IReadOnlyList<int> ports, string dir, ConnectionMultiplexer connection)
    {
        _servers = servers;
        Ports = ports;
        _dir = dir;
        Connection = connection;
    }

    public IReadOnlyList<int> Ports { get; }

    /// <summary>Every master, as a StackExchange.Redis configuration (which discovers the slots from any of them).</summary>
    public string Configuration => string.Join(",", Ports.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The first master, <c>host:port</c>, for a client that discovers the rest.</summary>
    public string FirstAddress => "127.0.0.1:" + Ports[0].ToString(CultureInfo.InvariantCulture);

    /// <summary>A cluster connection for the tests to look into Redis (keys are routed by slot).</summary>
    public ConnectionMultiplexer Connection { get; }

    public IDatabase Db => Connection.GetDatabase();

    /// <summary>The masters, for commands that go to each (PUBSUB SHARDNUMSUB sums over them).</summary>
    public IEnumerable<IServer> Masters => Ports.Select(p => Connection.GetServer("127.0.0.1", p));

    public static async Task<RedisClusterProcess> StartAsync()
    {
        if (!File.Exists("/usr/bin/redis-server") || !File.Exists("/usr/bin/redis-cli"))
        {
            Assert.Fail("redis-server / redis-cli are not installed (./test.sh installs them)");
        }
        string dir = Directory.CreateTempSubdirectory("redis-cluster-").FullName;
        var servers = new List<ChildProcess>();
        try
        {
            var ports = new List<int>();
            for (int i = 0; i < 3; i++)
            {
                var (server, port) = await StartMasterAsync(Path.Combine(dir, i.ToString(CultureInfo.InvariantCulture)));
                servers.Add(server);
                ports.Add(port);
            }
            List<string> create = ["--cluster", "create", .. ports.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture)), "--cluster-replicas", "0", "--cluster-yes"];
            await using (var cli = ChildProcess.Start("/usr/bin/redis-cli", create))
            {
                await cli.WaitForLineAsync(l => l.Contains("All 16384 slots covered", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            }
            var config = ConfigurationOptions.Parse(string.Join(",", ports.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture))));
            config.AllowAdmin = true;
            var connection = await ConnectionMultiplexer.ConnectAsync(config).Within();
            var cluster = new RedisClusterProcess(servers, ports, dir, connection);
            // Every master must agree that the cluster is up before a client can rely on its slot map.
            await Eventually.UntilAsync(async () =>
            {
                foreach (var master in cluster.Masters)
                {
                    string info = (await master.ExecuteAsync("CLUSTER", "INFO")).ToString();
                    if (!info.Contains("cluster_state:ok", StringComparison.Ordinal))
                    {
                        return false;
                    }
                }
                return true;
            }, TimeSpan.FromSeconds(30), "the three masters agree the cluster is up");
            return cluster;
        }
        catch
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
            Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    private static async Task<(ChildProcess, int)> StartMasterAsync(string dir)
    {
        Directory.CreateDirectory(dir);
        for (int attempt = 0; ; attempt++)
        {
            int port = ClusterPort();
            var process = ChildProcess.Start("/usr/bin/redis-server",
                ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(dir, "nodes.conf"), "--cluster-node-timeout", "5000", "--dir", dir],
                workingDirectory: dir);
            try
            {
                await process.WaitForLineAsync(l => l.Contains("Ready to accept connections", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
                return (process, port);
            }
            catch (Exception) when (attempt < 3)
            {
                await process.DisposeAsync();
            }
        }
    }

    /// <summary>A free port whose cluster-bus port (port + 10000) is free as well.</summary>
    private static int ClusterPort()
    {
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort.Find();
            if (port + 10000 <= IPEndPoint.MaxPort && IsFree(port + 10000))
            {
                return port;
            }
            if (attempt > 50)
            {
                throw new InvalidOperationException("no port pair (port, port + 10000) free");
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
