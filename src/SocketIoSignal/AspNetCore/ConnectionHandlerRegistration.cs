namespace SocketIoSignal.AspNetCore;

/// <summary>A namespace's connection handler class, as registered.</summary>
internal sealed record ConnectionHandlerRegistration(string Namespace, Type HandlerType);
