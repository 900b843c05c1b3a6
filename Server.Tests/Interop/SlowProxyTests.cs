using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Interop;

/// <summary>The proxy itself: bytes arrive intact and in order, but torn into more writes than reads.</summary>
[TestFixture]
public sealed class SlowProxyTests
{
    [Test]
    public async Task RelaysEveryByteInOrderInSmallerChunks()
    {
        using var echo = new TcpListener(IPAddress.Loopback, 0);
        echo.Start();
        var echoing = Task.Run(async () =>
        {
            using var s = await echo.AcceptSocketAsync();
            var buffer = new byte[4096];
            int n;
            while ((n = await s.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                await s.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            }
            s.Shutdown(SocketShutdown.Send);
        });
        await using var proxy = SlowProxy.Start(((IPEndPoint)echo.LocalEndpoint).Port, seed: 1234);
        var data = new byte[20000];
        new Random(5).NextBytes(data);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port).Within();
        var sending = Task.Run(async () =>
        {
            for (int i = 0; i < data.Length; i += 5000)
            {
                await client.SendAsync(data.AsMemory(i, 5000), SocketFlags.None);
            }
            client.Shutdown(SocketShutdown.Send);
        });
        var received = new MemoryStream();
        var chunk = new byte[8192];
        int got;
        while ((got = await client.ReceiveAsync(chunk, SocketFlags.None).Within()) > 0)
        {
            received.Write(chunk, 0, got);
        }
        await sending.Within();
        await echoing.Within();

        Assert.That(received.ToArray(), Is.EqualTo(data), "every byte, in order, both ways");
        Assert.That(proxy.Writes, Is.GreaterThan(proxy.Reads * 2), $"the proxy split its reads ({proxy.Reads} reads, {proxy.Writes} writes)");
    }

    [Test]
    public async Task ClosesTheClientWhenTheUpstreamIsDown()
    {
        int downPort = FreePort.Find();
        await using var proxy = SlowProxy.Start(downPort, seed: 1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port).Within();
        int read;
        try
        {
            read = await client.ReceiveAsync(new byte[16], SocketFlags.None).Within();
        }
        catch (SocketException)
        {
            read = 0;  // a reset is a close too
        }
        Assert.That(read, Is.Zero);
    }
}
