using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SocketIoSignal.SocketIO;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>
/// The in-memory adapter of "/", with the first capacity-bounded join of one room held until the test releases
/// it (as a slow cluster adapter would hold it), and signals for what happens to the joining socket around it.
/// </summary>
internal sealed class GatedRoomAdapterFactory(string gatedRoom) : IRoomAdapterFactory
{
    private readonly TaskCompletionSource _release = New();
    private int _gateUsed;
    private volatile string? _gatedSocket;
    private volatile bool _joinDone;

    public InMemoryRoomAdapter Inner { get; private set; } = null!;

    public TaskCompletionSource JoinEnteredSource { get; } = New();

    public Task JoinEntered => JoinEnteredSource.Task;

    private readonly TaskCompletionSource _socketRemoved = New();
    private readonly TaskCompletionSource _joinCompleted = New();
    private readonly TaskCompletionSource _removedAfterJoin = New();

    /// <summary>The gated socket was taken out of its rooms before its join landed.</summary>
    public Task SocketRemoved => _socketRemoved.Task;

    public Task JoinCompleted => _joinCompleted.Task;

    /// <summary>The gated socket was taken out of the room after its join landed.</summary>
    public Task RemovedAfterJoin => _removedAfterJoin.Task;

    public static void Install(WebApplicationBuilder builder, GatedRoomAdapterFactory factory) =>
        builder.Services.AddSingleton<IRoomAdapterFactory>(factory);

    public void ReleaseJoin() => _release.TrySetResult();

    public IRoomAdapter Create(string namespaceName, ILocalDelivery delivery)
    {
        var inner = new InMemoryRoomAdapter(delivery);
        if (namespaceName == "/")
        {
            Inner = inner;
            return new Gated(this, inner);
        }
        return inner;
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Removed(string socketId, string? room)
    {
        if (socketId != _gatedSocket || (room is not null && room != gatedRoom))
        {
            return;
        }
        if (_joinDone)
        {
            _removedAfterJoin.TrySetResult();
        }
        else
        {
            _socketRemoved.TrySetResult();
        }
    }

    private sealed class Gated(GatedRoomAdapterFactory owner, InMemoryRoomAdapter inner) : IRoomAdapter
    {
        public int LocalRoomCount => inner.LocalRoomCount;

        public ValueTask AddAllAsync(string socketId, IReadOnlyCollection<string> rooms) => inner.AddAllAsync(socketId, rooms);

        public async ValueTask DeleteAsync(string socketId, string room)
        {
            await inner.DeleteAsync(socketId, room);
            owner.Removed(socketId, room);
        }

        public async ValueTask DeleteAllAsync(string socketId)
        {
            await inner.DeleteAllAsync(socketId);
            owner.Removed(socketId, null);
        }

        public async ValueTask<RoomJoin> JoinIfBelowAsync(string socketId, string room, int capacity)
        {
            if (room != owner.GatedRoom || Interlocked.Exchange(ref owner._gateUsed, 1) != 0)
            {
                return await inner.JoinIfBelowAsync(socketId, room, capacity);
            }
            owner._gatedSocket = socketId;
            owner.JoinEnteredSource.TrySetResult();
            await owner._release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var result = await inner.JoinIfBelowAsync(socketId, room, capacity);
            owner._joinDone = true;
            owner._joinCompleted.TrySetResult();
            return result;
        }

        public ValueTask BroadcastAsync(EncodedPacket packet, BroadcastTarget target) => inner.BroadcastAsync(packet, target);

        public ValueTask<int> RoomSizeAsync(string room) => inner.RoomSizeAsync(room);

        public ValueTask BroadcastWithAckAsync(EncodedPacket packet, BroadcastTarget target, BroadcastAck ack) => inner.BroadcastWithAckAsync(packet, target, ack);

        public ValueTask<IReadOnlyList<SocketDetails>> FetchSocketsAsync(BroadcastTarget target) => inner.FetchSocketsAsync(target);

        public ValueTask AddSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms) => inner.AddSocketsAsync(target, rooms);

        public ValueTask DelSocketsAsync(BroadcastTarget target, IReadOnlyCollection<string> rooms) => inner.DelSocketsAsync(target, rooms);

        public ValueTask DisconnectSocketsAsync(BroadcastTarget target, bool close) => inner.DisconnectSocketsAsync(target, close);

        public ValueTask ServerSideEmitAsync(string eventName, IReadOnlyList<object?> args, ServerSideAck? ack) => inner.ServerSideEmitAsync(eventName, args, ack);

        public ValueTask<int> ServerCountAsync() => inner.ServerCountAsync();

        public IReadOnlyCollection<string> LocalSocketIds(BroadcastTarget target) => inner.LocalSocketIds(target);

        public ValueTask<IReadOnlyCollection<string>> SocketIdsAsync(BroadcastTarget target) => inner.SocketIdsAsync(target);

        public IReadOnlyCollection<string> RoomsOf(string socketId) => inner.RoomsOf(socketId);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private string GatedRoom => gatedRoom;
}
