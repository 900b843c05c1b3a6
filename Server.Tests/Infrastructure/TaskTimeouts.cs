namespace SocketIoSignal.Tests.Infrastructure;

public static class TaskTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);

    /// <summary>Every await in the tests has a bound.</summary>
    public static Task<T> Within<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    public static Task Within(this Task task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    public static Task<T> Within<T>(this ValueTask<T> task, TimeSpan? timeout = null) => task.AsTask().WaitAsync(timeout ?? Default);
}
