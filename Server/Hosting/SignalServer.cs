using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.FileProviders;
using SocketIoSignal.Plain;
using SocketIoSignal.Signaling;

namespace SocketIoSignal.Hosting;

/// <summary>Builds the whole server from command-line arguments; Program.cs and the tests both use it.</summary>
public static class SignalServer
{
    /// <summary>Options that may be given without a value on the command line.</summary>
    private static readonly string[] Flags = ["--conformance"];

    /// <summary>The runtime's switch that runs socket completions on the socket engine's own thread.</summary>
    public const string InlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Socket completions run on the socket engine's thread instead of being handed to the thread pool first: Kestrel
    /// queues its own work onward anyway, so that hop was one more thread switch per completion (bench/profile.md).
    /// Only the process's entry point calls this, before its first socket; a value already in the environment wins.
    /// </summary>
    public static void PreferInlineSocketCompletions()
    {
        if (Environment.GetEnvironmentVariable(InlineSocketCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletions, "1");
        }
    }

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        args = ExpandFlags(args);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = Directory.GetCurrentDirectory(),
        });
        // Kestrel's connection caps, under everything else: appsettings, environment and command line override them.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = KestrelLimitDefaults });
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = AppDefaults });
        var probe = builder.Configuration.Get<ServerOptions>() ?? new ServerOptions();
        if (probe.Mode == SignalingMode.Rooms)
        {
            // Rooms mode keeps a dropped peer's room and the signaling sent to it for 2 minutes (Node's default
            // window), under anything configured.
            builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = RoomsModeDefaults });
        }
        if (probe.Conformance)
        {
            // The suites' settings, under whatever the command line says.
            builder.Configuration.AddInMemoryCollection(ConformanceHost.Settings);
            builder.Configuration.AddCommandLine(args);
        }
        builder.Services.Configure<ServerOptions>(builder.Configuration);
        var server = builder.Configuration.Get<ServerOptions>() ?? new ServerOptions();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // The web host binds endpoints from "Kestrel", not its limits: bind "Kestrel:Limits" here.
            builder.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);
            Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> listen = server.ConnectionLevelWebSockets
                ? endpoint => endpoint.Use(next => new SocketIoSignal.AspNetCore.WebSocketConnectionTakeover(next, endpoint.ApplicationServices,
                    builder.Configuration["EngineIo:Path"] ?? "/socket.io", kestrel.Limits.MaxConcurrentUpgradedConnections,
                    kestrel.Limits.KeepAliveTimeout).OnConnectionAsync)
                : _ => { };
            if (string.IsNullOrEmpty(server.Host))
            {
                kestrel.ListenAnyIP(server.Port, listen);
            }
            else
            {
                kestrel.Listen(IPAddress.Parse(server.Host), server.Port, listen);
            }
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // Hosting logs only request start/finish (Information and below); while any of its levels is enabled it
        // creates an Activity and a log scope for every request, which a WebSocket keeps for its whole life.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        ScopelessConsole.Apply(builder.Services, builder.Configuration);
        if (!ClientVersions.TryGetValue(server.Client, out var clientVersion))
        {
            throw new OptionsValidationException(nameof(ServerOptions.Client), typeof(ServerOptions), [$"--client must be 1, 2 or 4, not {server.Client}"]);
        }
        var socketIo = builder.Services.AddSocketIo(o =>
        {
            o.ServeClient = !server.Conformance;
            o.ClientVersion = clientVersion;
        });
        var health = builder.Services.AddHealthChecks().AddSocketIo();
        bool adminUi = AdminUiSite.IsEnabled(builder.Configuration);
        if (adminUi)
        {
            // Username, Password and the other options from the "AdminUi" section (--AdminUi:Username=…).
            socketIo.AddAdminUi();
        }
        if (!string.IsNullOrWhiteSpace(server.Redis) || !string.IsNullOrWhiteSpace(builder.Configuration["Redis:Configuration"]))
        {
            socketIo.AddRedis(o =>
            {
                if (string.IsNullOrWhiteSpace(o.Configuration))
                {
                    o.Configuration = server.Redis;
                }
            });
            health.AddSocketIoRedis();
        }
        builder.Services.Configure<SignalingOptions>(builder.Configuration.GetSection(SignalingOptions.Section));
        builder.Services.PostConfigure<SignalingOptions>(o => o.Mode = server.Mode);
        builder.Services.AddSingleton<CodelabSignaling>();
        builder.Services.AddPlainWebSocket();
        if (server.LargeTransportBlocks)
        {
            builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        }
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            ResponseWriter = (context, report) =>
            {
                context.Response.ContentType = "text/plain";
                context.Response.Headers.CacheControl = "no-store";
                return context.Response.WriteAsync(report.Status == HealthStatus.Healthy
                    ? "ok"
                    : string.Join("; ", report.Entries.Values.Where(e => e.Status != HealthStatus.Healthy).Select(e => e.Description)));
            },
        });
        if (builder.Configuration.GetValue<bool>(Diagnostics.EnabledKey))
        {
            app.UseDiagnostics();
        }
        app.MapSocketIo(builder.Configuration["EngineIo:Path"] ?? "/socket.io");
        if (server.Conformance)
        {
            app.UseConformance();
            return app;
        }
        var signaling = app.Services.GetRequiredService<CodelabSignaling>();
        signaling.Attach();
        app.Lifetime.ApplicationStopping.Register(signaling.Dispose);
        var plainPath = app.Services.GetRequiredService<IOptions<SignalingOptions>>().Value.PlainWebSocketPath;
        if (plainPath.Length > 0 && (plainPath[0] != '/' || plainPath.StartsWith(PlainPage.Prefix + "/", StringComparison.Ordinal)))
        {
            throw new OptionsValidationException(nameof(SignalingOptions.PlainWebSocketPath), typeof(SignalingOptions),
                [$"Signaling:PlainWebSocketPath must start with / (and not be under {PlainPage.Prefix}/), or be empty, not {plainPath}"]);
        }
        app.MapPlainWebSocket(plainPath);
        if (adminUi)
        {
            app.UseAdminUiFiles();
        }
        IFileProvider files = FindRoot(server.Root) is { } root ? new SafeFileProvider(root) : EmbeddedSiteFileProvider.ForServer();
        if (plainPath.Length > 0)
        {
            app.UsePlainPage(files, plainPath);
        }
        app.UseCodelabStaticFiles(files);
        return app;
    }

    /// <summary>Defaults of <c>--mode rooms</c>: connection state recovery on (120 s).</summary>
    public static readonly IReadOnlyDictionary<string, string?> RoomsModeDefaults = new Dictionary<string, string?>
    {
        ["SocketIo:ConnectionStateRecovery:MaxDisconnectionDuration"] = "120000",
    };

    /// <summary>The bundles <c>--client</c> chooses from: 1 = socket.io-client 1.7.4 (what the seed's <c>socket.io ^1.2.0</c> served).</summary>
    public static readonly IReadOnlyDictionary<int, string> ClientVersions = new Dictionary<int, string>
    {
        [1] = "1.7.4",
        [2] = "2.5.0",
        [4] = "4.8.1",
    };

    /// <summary>
    /// Safe defaults for the "Kestrel:Limits" section, which the web host binds: Kestrel sets no cap on
    /// connections. Header size/count limits, request-line size, header timeout and the minimum body data rate
    /// stay Kestrel's own defaults.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> KestrelLimitDefaults = new Dictionary<string, string?>
    {
        ["Kestrel:Limits:MaxConcurrentConnections"] = "120000",
        ["Kestrel:Limits:MaxConcurrentUpgradedConnections"] = "100000",
    };

    /// <summary>
    /// The app's own defaults, under everything configured: it accepts Engine.IO 3 (socket.io-client 1.x and 2.x,
    /// the codelab's pages with --client 1 or 2, and the seed's clients), which the library refuses by default as
    /// Node does.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> AppDefaults = new Dictionary<string, string?>
    {
        ["EngineIo:AllowEIO3"] = "true",
    };

    /// <summary>A listening address as a browser on this machine would open it: any or loopback address → localhost.</summary>
    public static string Browsable(string url)
    {
        var uri = new Uri(url.Replace("://+", "://0.0.0.0").Replace("://*", "://0.0.0.0"));
        bool local = IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip)
            && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(ip));
        return local ? $"{uri.Scheme}://localhost:{uri.Port}" : $"{uri.Scheme}://{uri.Authority}";
    }

    /// <summary>What the start-up line names as the root: <see cref="FindRoot"/>'s folder, or the built-in page.</summary>
    public static string ResolveRoot(string root) => FindRoot(root) ?? EmbeddedSiteFileProvider.Description;

    /// <summary>
    /// --root, or public/ in the working folder, or the repository's public/ above the binary; null when there is
    /// no such folder with an index.html (then the page built into the program is served).
    /// </summary>
    public static string? FindRoot(string root)
    {
        if (!string.IsNullOrEmpty(root))
        {
            return Path.GetFullPath(root);
        }
        var here = Path.Combine(Directory.GetCurrentDirectory(), "public");
        if (File.Exists(Path.Combine(here, "index.html")))
        {
            return here;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "public");
            if (File.Exists(Path.Combine(candidate, "index.html")))
            {
                return candidate;
            }
        }
        return EmbeddedSiteFileProvider.ForServer().HasIndex ? null : here;
    }

    private static string[] ExpandFlags(string[] args)
    {
        var result = new List<string>(args.Length);
        for (int i = 0; i < args.Length; i++)
        {
            bool isFlag = Flags.Contains(args[i]) && (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal));
            result.Add(isFlag ? args[i] + "=true" : args[i]);
        }
        return [.. result];
    }
}
