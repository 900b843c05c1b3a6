using Microsoft.Extensions.DependencyInjection;

using SocketIoSignal.SocketIO;

namespace SocketIoSignal.AspNetCore;

/// <summary>
/// A class that handles the sockets of one namespace, made by dependency injection: one instance per connection,
/// in a service scope of its own that lives as long as the socket (scoped services are per connection) and is
/// disposed when it disconnects. Register it with
/// <see cref="SocketIoBuilderExtensions.AddConnectionHandler{THandler}(ISocketIoBuilder, string)"/>.
/// </summary>
public interface ISocketIoConnectionHandler
{
    /// <summary>A socket joined the namespace: register its event handlers here (<c>socket.On(…)</c>).</summary>
    /// <param name="socket">The new socket.</param>
    Task OnConnectedAsync(SocketIoSocket socket);
}
