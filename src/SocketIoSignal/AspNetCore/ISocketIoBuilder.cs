using Microsoft.Extensions.DependencyInjection;

namespace SocketIoSignal.AspNetCore;

/// <summary>
/// What <see cref="SocketIoServiceCollectionExtensions.AddSocketIo"/> returns: the place where the server is
/// configured further (engine options, connection handlers) and where other packages add to it (Redis, the admin UI).
/// </summary>
public interface ISocketIoBuilder
{
    /// <summary>The application's services.</summary>
    IServiceCollection Services { get; }
}
