using System.Collections.Concurrent;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>Records what a room adapter delivers to the local sockets of its node.</summary>
internal sealed class RecordingDelivery : ILocalDelivery
{
    private readonly SemaphoreSlim _signal = new(0);

    /// <summary>The sockets of this node.</summary>
    public ConcurrentBag<string> Connected { get; } = [];

    public ConcurrentQueue<(string SocketId, string Text)> Delivered { get; } = new();

    public IEnumerable<string> LocalSocketIds => Connected;

    public void Deliver(IEnumerable<string> socketIds, EncodedPacket packet)
    {
        foreach (var id in socketIds)
        {
            Delivered.Enqueue((id, packet.Text));
        }
        _signal.Release();
    }

    /// <summary>Every socket that got a packet, once per packet, in order of id.</summary>
    public string[] Receivers => [.. Delivered.Select(d => d.SocketId).Order(StringComparer.Ordinal)];

    /// <summary>The sockets that got a packet whose text contains <paramref name="marker"/>.</summary>
    public string[] ReceiversOf(string marker) =>
        [.. Delivered.Where(d => d.Text.Contains(marker, StringComparison.Ordinal)).Select(d => d.SocketId).Order(StringComparer.Ordinal)];

    /// <summary>Waits until some socket got a packet containing <paramref name="marker"/>.</summary>
    public async Task WaitForAsync(string marker)
    {
        using var cts = new CancellationTokenSource(TaskTimeouts.Default);
        while (!Delivered.Any(d => d.Text.Contains(marker, StringComparison.Ordinal)))
        {
            try
            {
                await _signal.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"nothing containing {marker} was delivered");
            }
        }
    }
}
