using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SocketIoSignal.Hosting;

// The composition root: build the server from the command line, start it, say where it is.
var app = SignalServer.Build(args);
await app.StartAsync();
var options = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value;
var port = new Uri(app.Urls.First().Replace("0.0.0.0", "localhost").Replace("[::]", "localhost")).Port;
Console.WriteLine(options.Conformance
    ? $"SocketIoSignal conformance server on http://localhost:{port} (Socket.IO at /socket.io/, Engine.IO echo at /engine.io/)"
    : $"SocketIoSignal ({options.Mode.ToString().ToLowerInvariant()} mode) serving {SignalServer.ResolveRoot(options.Root)} on http://localhost:{port} — open it in two tabs");
await app.WaitForShutdownAsync();
