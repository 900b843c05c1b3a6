using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>Records every response with a 5xx status and every exception that escapes the pipeline.</summary>
public sealed class ServerErrorWatch : IStartupFilter
{
    public ConcurrentQueue<string> Failures { get; } = new();

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, inner) =>
        {
            try
            {
                await inner(context);
            }
            catch (Exception ex)
            {
                Failures.Enqueue($"{context.Request.Path}{context.Request.QueryString}: unhandled {ex.GetType().Name}: {ex.Message}");
                throw;
            }
            if (context.Response.StatusCode >= 500)
            {
                Failures.Enqueue($"{context.Request.Path}{context.Request.QueryString}: {context.Response.StatusCode}");
            }
        });
        next(app);
    };
}
