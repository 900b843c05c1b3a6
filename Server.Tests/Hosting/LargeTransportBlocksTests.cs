using Microsoft.AspNetCore.Connections;
using NUnit.Framework;
using SocketIoSignal.Hosting;
using SocketIoSignal.Tests.Infrastructure;
using static SocketIoSignal.Tests.Infrastructure.RawSocketIoClient;

namespace SocketIoSignal.Tests.Hosting;

/// <summary>--LargeTransportBlocks (opt-in): Kestrel's connection buffers in 16 KB blocks from our pool, reused, bounded.</summary>
[TestFixture]
internal sealed class LargeTransportBlocksTests
{
    [Test]
    public void ABlockIsSixteenKilobytesAndIsReusedOnceReturned()
    {
        using var pool = new LargeBlockMemoryPool(maxRetained: 4);
        Assert.That(pool.MaxBufferSize, Is.EqualTo(LargeBlockMemoryPool.BlockSize));
        var first = pool.Rent(4096);
        Assert.That(first.Memory.Length, Is.EqualTo(16 * 1024));
        first.Memory.Span[0] = 42;
        first.Dispose();
        Assert.That(pool.Retained, Is.EqualTo(1));
        var again = pool.Rent();
        Assert.That(again, Is.SameAs(first), "a returned block is rented again");
        Assert.That(pool.Retained, Is.EqualTo(0));
        again.Dispose();
    }

    [Test]
    public void ABlockReturnedTwiceIsPooledOnce()
    {
        using var pool = new LargeBlockMemoryPool(maxRetained: 4);
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();
        Assert.That(pool.Retained, Is.EqualTo(1));
        var a = pool.Rent();
        var b = pool.Rent();
        Assert.That(b, Is.Not.SameAs(a), "two renters never share a block");
    }

    [Test]
    public void ThePoolKeepsAtMostItsLimitAndRefusesMoreThanABlock()
    {
        using var pool = new LargeBlockMemoryPool(maxRetained: 2);
        var blocks = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        blocks.ForEach(b => b.Dispose());
        Assert.That(pool.Retained, Is.EqualTo(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(LargeBlockMemoryPool.BlockSize + 1));
    }

    [Test]
    public async Task KestrelTakesItsBuffersFromThePoolAndMessagesOfEverySizeCrossIt()
    {
        await using var server = await TestServer.StartAsync(["--LargeTransportBlocks=true"]);
        var factory = server.Get<IMemoryPoolFactory<byte>>();
        Assert.That(factory, Is.InstanceOf<LargeBlockMemoryPoolFactory>());
        Assert.That(((LargeBlockMemoryPoolFactory)factory).Created, Is.GreaterThan(0), "Kestrel asked the factory for its pools");
        await using var a = await ConnectAsync(server.BaseUri, 4);
        await using var b = await ConnectAsync(server.BaseUri, 4);
        await a.EmitAsync("create or join", "blocks");
        await a.WaitForAsync("created");
        await b.EmitAsync("create or join", "blocks");
        await b.WaitForAsync("joined");
        // Under a block, a block's size with the framing around it, and several blocks.
        foreach (int size in new[] { 200, 3072, 16 * 1024, 100_000 })
        {
            string text = new('x', size);
            await a.EmitAsync("message", text);
            var got = await b.WaitForAsync("message");
            Assert.That(got.Data![1]!.GetValue<string>(), Has.Length.EqualTo(size));
        }
        server.AssertNoErrors();
    }

    [Test]
    public async Task ByDefaultKestrelKeepsItsOwnPool()
    {
        await using var server = await TestServer.StartAsync();
        Assert.That(server.App.Services.GetService(typeof(IMemoryPoolFactory<byte>)), Is.Not.InstanceOf<LargeBlockMemoryPoolFactory>());
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        Assert.That((int)(await http.GetAsync("/").Within()).StatusCode, Is.EqualTo(200));
    }
}
