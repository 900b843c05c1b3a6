using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace SocketIoSignal.Hosting;

/// <summary>
/// Kestrel's connection buffers in blocks of <see cref="BlockSize"/> instead of its own 4 KB: a relayed message of a
/// few kilobytes and the frames it makes then fit one block each way, so it takes one receive and one send, and one
/// rent and return of a block, instead of spanning two or three of each. Kestrel waits for data before it takes a
/// block to read into, but a connection's output pipe may keep the block it last wrote into while idle, which costs
/// four times as much here: opt-in (--LargeTransportBlocks).
/// </summary>
internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    /// <summary>The size of every block.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>Blocks kept for reuse; the rest go back to the GC once returned.</summary>
    private readonly int _maxRetained;
    private readonly ConcurrentQueue<Block> _free = new();
    private int _retained;
    private bool _disposed;

    public LargeBlockMemoryPool(int maxRetained) => _maxRetained = maxRetained;

    /// <summary>Blocks waiting in the pool for reuse (for tests).</summary>
    public int Retained => _free.Count;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _retained);
            block.Rented = true;
            return block;
        }
        return new Block(this);
    }

    private void Return(Block block)
    {
        if (!Volatile.Read(ref _disposed) && Interlocked.Increment(ref _retained) <= _maxRetained)
        {
            _free.Enqueue(block);
            return;
        }
        Interlocked.Decrement(ref _retained);
    }

    protected override void Dispose(bool disposing)
    {
        Volatile.Write(ref _disposed, true);
        _free.Clear();
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly LargeBlockMemoryPool _pool;

        public Block(LargeBlockMemoryPool pool)
        {
            _pool = pool;
            // On the pinned object heap, and wrapped as pinned: the socket pins it for each operation for free.
            var array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
            Memory = MemoryMarshal.CreateFromPinnedArray(array, 0, array.Length);
            Rented = true;
        }

        public Memory<byte> Memory { get; }

        public bool Rented { get; set; }

        public void Dispose()
        {
            // Kestrel returns a block once; a second return must not put it in the pool twice.
            if (Rented)
            {
                Rented = false;
                _pool.Return(this);
            }
        }
    }
}

/// <summary>Gives Kestrel's transport <see cref="LargeBlockMemoryPool"/>s.</summary>
internal sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    /// <summary>Blocks each pool keeps for reuse (16 KB each).</summary>
    public const int MaxRetainedPerPool = 256;

    private int _created;

    /// <summary>How many pools Kestrel has asked for (for tests).</summary>
    public int Created => Volatile.Read(ref _created);

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        Interlocked.Increment(ref _created);
        return new LargeBlockMemoryPool(MaxRetainedPerPool);
    }
}
