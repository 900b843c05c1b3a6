using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SocketIoSignal.Hosting;

// The composition root: build the server from the command line, start it, say where it is.
SignalServer.PreferInlineSocketCompletions();
WebApplication app;
try
{
    app = SignalServer.Build(args);
    await app.StartAsync();
}
catch (OptionsValidationException ex)
{
    // A bad option stops the start with what is wrong, not a stack trace.
    foreach (var failure in ex.Failures)
    {
        Console.Error.WriteLine($"SocketIoSignal: {failure}");
    }
    return 2;
}
var options = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value;
var addresses = string.Join(" and ", app.Urls.Select(SignalServer.Browsable));
Console.WriteLine(options.Conformance
    ? $"SocketIoSignal conformance server on {addresses} (Socket.IO at /socket.io/, Engine.IO echo at /engine.io/)"
    : $"SocketIoSignal ({options.Mode.ToString().ToLowerInvariant()} mode) serving {SignalServer.ResolveRoot(options.Root)} on {addresses} — open it in two tabs");
await app.WaitForShutdownAsync();
return 0;
