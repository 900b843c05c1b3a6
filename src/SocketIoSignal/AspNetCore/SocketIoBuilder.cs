using Microsoft.Extensions.DependencyInjection;

namespace SocketIoSignal.AspNetCore;

internal sealed class SocketIoBuilder(IServiceCollection services) : ISocketIoBuilder
{
    public IServiceCollection Services { get; } = services;
}
