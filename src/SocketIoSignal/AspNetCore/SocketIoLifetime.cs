using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;

namespace SocketIoSignal.AspNetCore;

/// <summary>
/// Starts the server's connection handlers before the first request, and at shutdown closes every session (clients
/// are told, as Node's <c>io.close()</c> does) before Kestrel stops: that is the graceful shutdown.
/// </summary>
internal sealed partial class SocketIoLifetime(
    IServiceProvider services,
    SocketIoServer server,
    EngineIoServer engine,
    IOptions<EngineIoOptions> options,
    IEnumerable<ConnectionHandlerRegistration> handlers) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        foreach (var registration in handlers)
        {
            var factory = ActivatorUtilities.CreateFactory(registration.HandlerType, Type.EmptyTypes);
            server.Of(registration.Namespace).OnConnection(socket => Connect(factory, socket));
        }
        return Task.CompletedTask;
    }

    /// <summary>Makes the handler in a scope of its own, disposed when the socket leaves; a failure is logged.</summary>
    private void Connect(ObjectFactory factory, SocketIoSocket socket)
    {
        var scope = services.CreateAsyncScope();
        socket.OnDisconnect(reason => scope.DisposeAsync().AsTask());
        Task connected;
        try
        {
            connected = ((ISocketIoConnectionHandler)factory(scope.ServiceProvider, null)).OnConnectedAsync(socket);
        }
        catch (Exception ex)
        {
            connected = Task.FromException(ex);
        }
        if (!connected.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(connected, socket);
        }
    }

    private async Task ObserveAsync(Task connected, SocketIoSocket socket)
    {
        try
        {
            await connected;
        }
        catch (Exception ex)
        {
            server.LogHandlerError(ex, socket.Id, "connection");
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs before any hosted service (Kestrel included) stops.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => engine.ShutdownAsync(options.Value.CloseTimeout);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Every session is closed by now: the recovery stores' timers go.</summary>
    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        server.StopRecovery();
        return Task.CompletedTask;
    }
}
