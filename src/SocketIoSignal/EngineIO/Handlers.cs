namespace SocketIoSignal.EngineIO;

/// <summary>
/// The listeners of one event: added from any thread (copy on write), read without a lock, so raising an event
/// nobody listens to costs one read.
/// </summary>
internal sealed class Handlers<T> where T : Delegate
{
    private T[] _list = [];

    public bool Any => Volatile.Read(ref _list).Length > 0;

    public T[] List => Volatile.Read(ref _list);

    public void Add(T handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        while (true)
        {
            var current = Volatile.Read(ref _list);
            T[] next = [.. current, handler];
            if (Interlocked.CompareExchange(ref _list, next, current) == current)
            {
                return;
            }
        }
    }
}
