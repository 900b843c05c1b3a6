using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SocketIoSignal.AspNetCore;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;

namespace Microsoft.AspNetCore.Builder;

/// <summary><c>app.MapSocketIo()</c>: the Socket.IO endpoint in endpoint routing.</summary>
public static class SocketIoEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the Socket.IO endpoint at <paramref name="path"/> (Node's <c>path</c>, <c>/socket.io</c> by default):
    /// every request under it, polling and WebSocket, and, when <see cref="SocketIoOptions.ServeClient"/> is on, the
    /// client bundle at <c>{path}/socket.io.js</c> (and the files socket.io serves beside it). Conventions (<c>RequireCors</c>, <c>RequireAuthorization</c>,
    /// <c>RequireHost</c>, rate limiting) apply to all of them; the handshake sees <c>HttpContext.User</c>.
    /// </summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="path">The endpoint path; clients connect with the same <c>path</c> option.</param>
    /// <returns>A builder for conventions that apply to every endpoint mapped here.</returns>
    public static IEndpointConventionBuilder MapSocketIo(this IEndpointRouteBuilder endpoints, string path = "/socket.io")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var engine = services.GetService<EngineIoServer>()
            ?? throw new InvalidOperationException("MapSocketIo needs the Socket.IO services: call builder.Services.AddSocketIo() first.");
        if (string.IsNullOrWhiteSpace(path) || !path.StartsWith('/') || path.Contains('?') || path.Contains('{'))
        {
            throw new ArgumentException($"the Socket.IO path must start with '/' and name no route parameter, not \"{path}\"", nameof(path));
        }
        path = path.TrimEnd('/');

        // WebSockets are accepted inside the endpoint, so the application needs no UseWebSockets() of its own.
        var pipeline = endpoints.CreateApplicationBuilder();
        pipeline.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        pipeline.Run(engine.HandleAsync);
        var engineEndpoint = endpoints.Map(path + "/{**rest}", pipeline.Build()).WithDisplayName("Socket.IO " + path);
        var conventions = new List<IEndpointConventionBuilder> { engineEndpoint };

        var options = services.GetRequiredService<IOptions<SocketIoOptions>>().Value;
        if (options.ServeClient)
        {
            var bundles = new ClientBundles(options.ClientVersion, path + "/", services.GetRequiredService<IOptions<EngineIoOptions>>().Value);
            foreach (var file in bundles.Paths)
            {
                conventions.Add(endpoints.MapMethods(file, [HttpMethods.Get, HttpMethods.Head],
                    context => bundles.TryServe(context, out var served) ? served : Results.NotFound().ExecuteAsync(context))
                    .WithDisplayName("socket.io-client " + bundles.Version));
            }
        }
        return new CompositeConventionBuilder(conventions);
    }

    private sealed class CompositeConventionBuilder(List<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var builder in builders)
            {
                builder.Add(convention);
            }
        }

        public void Finally(Action<EndpointBuilder> finallyConvention)
        {
            foreach (var builder in builders)
            {
                builder.Finally(finallyConvention);
            }
        }
    }
}
