using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NUnit.Framework;
using SocketIOClient;
using SocketIoSignal.AspNetCore;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Library;

/// <summary>The library in the ASP.NET shape, in an application of its own: routing, auth, DI, errors.</summary>
[TestFixture]
public sealed class LibraryShapeTests
{
    private static TaskCompletionSource<T> Tcs<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Test]
    public async Task MapSocketIoServesClientsAndTheBundleInAPlainApp()
    {
        await using var host = await LibraryHost.StartAsync(
            b => b.Services.AddSocketIo(),
            app =>
            {
                app.MapSocketIo();
                app.Services.GetRequiredService<SocketIoServer>().OnConnection(s => s.On("hi", e => e.Ack("hello " + e.Arg(0))));
            });
        var client = await host.ConnectAsync();
        var ack = Tcs<SocketIOResponse>();
        await client.EmitAsync("hi", r => ack.TrySetResult(r), "you").Within();
        Assert.That((await ack.Task.Within()).GetValue<string>(0), Is.EqualTo("hello you"));
        await client.DisconnectAsync().Within();

        using var http = new HttpClient();
        var bundle = await http.GetStringAsync(host.Url + "/socket.io/socket.io.min.js").Within();
        Assert.That(bundle, Does.Contain("4.8.1"), "the default bundle is socket.io-client 4.8.1");
    }

    [Test]
    public async Task ConventionsApplyAndTheHandshakeSeesTheUser()
    {
        var seen = Tcs<string?>();
        await using var host = await LibraryHost.StartAsync(
            b =>
            {
                b.Services.AddSocketIo();
                b.Services.AddAuthentication(HeaderAuth.SchemeName).AddScheme<AuthenticationSchemeOptions, HeaderAuth>(HeaderAuth.SchemeName, null);
                b.Services.AddAuthorization();
            },
            app =>
            {
                app.UseAuthentication();
                app.UseAuthorization();
                app.MapSocketIo().RequireAuthorization();
                app.Services.GetRequiredService<SocketIoServer>().Sockets.Use(socket =>
                {
                    if (socket.Handshake.User.Identity?.IsAuthenticated != true)
                    {
                        throw new ConnectRejectedException("not signed in");
                    }
                    seen.TrySetResult(socket.Handshake.User.Identity.Name);
                });
            });
        using var http = new HttpClient();
        using var anonymous = await http.GetAsync(host.Url + "/socket.io/?EIO=4&transport=polling").Within();
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "RequireAuthorization applies to the handshake");
        using var bundle = await http.GetAsync(host.Url + "/socket.io/socket.io.js").Within();
        Assert.That(bundle.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "and to the client bundle mapped beside it");

        var client = await host.ConnectAsync(new() { [HeaderAuth.Header] = "alice" });
        Assert.That(await seen.Task.Within(), Is.EqualTo("alice"));
        await client.DisconnectAsync().Within();
    }

    [Test]
    public async Task WithoutAuthenticationTheHandshakeUserIsTheAnonymousOneOfHttpContext()
    {
        var users = new System.Collections.Concurrent.ConcurrentQueue<System.Security.Claims.ClaimsPrincipal>();
        bool sameEveryTime = true;
        var two = Tcs<bool>();
        await using var host = await LibraryHost.StartAsync(
            b => b.Services.AddSocketIo(),
            app =>
            {
                app.MapSocketIo();
                app.Services.GetRequiredService<SocketIoServer>().Sockets.Use(socket =>
                {
                    users.Enqueue(socket.Handshake.User);
                    sameEveryTime &= ReferenceEquals(socket.Handshake.User, socket.Handshake.User);
                    if (users.Count == 2)
                    {
                        two.TrySetResult(true);
                    }
                });
            });
        var first = await host.ConnectAsync();
        var second = await host.ConnectAsync();
        await two.Task.Within();
        var both = users.ToArray();
        foreach (var user in both)
        {
            // As HttpContext.User of a request no authentication ran on: one identity, not authenticated.
            Assert.That(user.Identities.Count(), Is.EqualTo(1));
            Assert.That(user.Identity!.IsAuthenticated, Is.False);
            Assert.That(user.Identity.Name, Is.Null);
        }
        Assert.That(both[0], Is.Not.SameAs(both[1]), "each socket has its own");
        Assert.That(sameEveryTime, Is.True, "and the same one every time it is asked for");
        await first.DisconnectAsync().Within();
        await second.DisconnectAsync().Within();
    }

    [Test]
    public async Task ConnectionHandlersAreMadePerConnectionWithAScopeThatEndsAtDisconnect()
    {
        var disposed = Tcs<int>();
        await using var host = await LibraryHost.StartAsync(
            b =>
            {
                b.Services.AddScoped(_ => new ScopedCounter(disposed));
                b.Services.AddSocketIo().AddConnectionHandler<CountingHandler>();
            },
            app => app.MapSocketIo());
        var first = await host.ConnectAsync();
        var second = await host.ConnectAsync();
        var a = Tcs<SocketIOResponse>();
        var b = Tcs<SocketIOResponse>();
        await first.EmitAsync("whoami", r => a.TrySetResult(r)).Within();
        await second.EmitAsync("whoami", r => b.TrySetResult(r)).Within();
        int idA = (await a.Task.Within()).GetValue<int>(0);
        int idB = (await b.Task.Within()).GetValue<int>(0);
        Assert.That(idA, Is.Not.EqualTo(idB), "one scoped service per connection");
        await first.DisconnectAsync().Within();
        Assert.That(await disposed.Task.Within(), Is.EqualTo(idA), "the first connection's scope is disposed when it leaves");
        await second.DisconnectAsync().Within();
    }

    [Test]
    public async Task CodeThatOnlyEmitsResolvesTheServerAsAnInterface()
    {
        await using var host = await LibraryHost.StartAsync(
            b => b.Services.AddSocketIo(),
            app =>
            {
                app.MapSocketIo();
                app.Services.GetRequiredService<SocketIoServer>().OnConnection(s => s.On("subscribe", e => { s.Join("news"); e.Ack(); }));
                app.MapPost("/publish", (ISocketIoServer io) =>
                {
                    io.To("news").Emit("headline", "hello from an endpoint");
                    return Results.NoContent();
                });
            });
        var client = await host.ConnectAsync();
        var headline = Tcs<string>();
        client.On("headline", r => headline.TrySetResult(r.GetValue<string>(0)));
        var subscribed = Tcs<bool>();
        await client.EmitAsync("subscribe", _ => subscribed.TrySetResult(true)).Within();
        await subscribed.Task.Within();
        using var http = new HttpClient();
        using var response = await http.PostAsync(host.Url + "/publish", null).Within();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(await headline.Task.Within(), Is.EqualTo("hello from an endpoint"));
        await client.DisconnectAsync().Within();
    }

    [Test]
    public async Task AThrowingHandlerFailsThatEventAloneAndIsLoggedOnce()
    {
        await using var host = await LibraryHost.StartAsync(
            b => b.Services.AddSocketIo(),
            app =>
            {
                app.MapSocketIo();
                app.Services.GetRequiredService<SocketIoServer>().OnConnection(s =>
                {
                    s.On("boom", e => throw new InvalidOperationException("secret detail"));
                    s.On("boom-async", async e =>
                    {
                        await Task.Yield();
                        throw new InvalidOperationException("secret detail");
                    });
                    s.On("ping", e => e.Ack("pong"));
                });
            });
        var client = await host.ConnectAsync();
        var bystander = await host.ConnectAsync();
        foreach (var name in new[] { "boom", "boom-async" })
        {
            var failed = Tcs<SocketIOResponse>();
            await client.EmitAsync(name, r => failed.TrySetResult(r)).Within();
            var error = (await failed.Task.Within()).GetValue(0);
            Assert.That(error.GetRawText(), Is.EqualTo("{\"error\":\"internal server error\"}"), "the waiting acknowledgement gets an error, not the exception");
        }
        Assert.That(host.Logs.Errors.Count(l => l.Contains("event boom ")), Is.EqualTo(1), "logged once");
        Assert.That(host.Logs.Errors.Count(l => l.Contains("event boom-async ")), Is.EqualTo(1), "logged once");
        foreach (var c in new[] { client, bystander })
        {
            var pong = Tcs<SocketIOResponse>();
            await c.EmitAsync("ping", r => pong.TrySetResult(r)).Within();
            Assert.That((await pong.Task.Within()).GetValue<string>(0), Is.EqualTo("pong"), "the connection and the others go on");
        }
        Assert.That(client.Connected && bystander.Connected, Is.True);
        await client.DisconnectAsync().Within();
        await bystander.DisconnectAsync().Within();
    }

    [TestCase("EngineIo:PingTimeout", "-5", "EngineIo:PingTimeout must be a duration above zero")]
    [TestCase("EngineIo:PingInterval", "soon", "EngineIo:PingInterval must be a number of milliseconds or a duration such as 00:00:25, not \"soon\"")]
    [TestCase("EngineIo:MaxHttpBufferSize", "0", "EngineIo:MaxHttpBufferSize must be a number above zero, not 0")]
    [TestCase("EngineIo:Transports:0", "carrier-pigeon", "EngineIo:Transports must be")]
    [TestCase("SocketIo:MaxJsonDepth", "0", "SocketIo:MaxJsonDepth must be from 1 to 1000, not 0")]
    [TestCase("SocketIo:ClientVersion", "3.0.0", "SocketIo:ClientVersion must be 1.7.4, 2.5.0, 4.8.1, not \"3.0.0\"")]
    [TestCase("Redis:Configuration", "localhost:99999", "Redis:Configuration must be a Redis address")]
    [TestCase("Redis:NodeTimeout", "1000", "Redis:NodeTimeout must be longer than HeartbeatInterval, not 00:00:01")]
    public void ABadOptionStopsTheStartNamingIt(string key, string value, string message)
    {
        var ex = Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await LibraryHost.StartAsync(
                b =>
                {
                    b.Configuration[key] = value;
                    if (!key.StartsWith("Redis:Configuration", StringComparison.Ordinal))
                    {
                        b.Configuration["Redis:Configuration"] = "127.0.0.1:6379";
                    }
                    b.Services.AddSocketIo().AddRedis(o => o.ConnectTimeout = TimeSpan.FromMilliseconds(200));
                },
                app => app.MapSocketIo());
        });
        Assert.That(ex!.Failures, Has.Some.StartsWith(message));
    }

    [Test]
    public async Task DurationsAreMillisecondsAsInNodeOrTimeSpans()
    {
        await using var host = await LibraryHost.StartAsync(
            b =>
            {
                b.Configuration["EngineIo:PingInterval"] = "1500";
                b.Configuration["EngineIo:PingTimeout"] = "00:00:02";
                b.Services.AddSocketIo().ConfigureEngineIo(o => o.UpgradeTimeout = TimeSpan.FromSeconds(3));
            },
            app => app.MapSocketIo());
        var options = host.App.Services.GetRequiredService<IOptions<SocketIoSignal.EngineIO.EngineIoOptions>>().Value;
        Assert.That(options.PingInterval, Is.EqualTo(TimeSpan.FromMilliseconds(1500)));
        Assert.That(options.PingTimeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(options.UpgradeTimeout, Is.EqualTo(TimeSpan.FromSeconds(3)), "code runs after the configuration");
        using var http = new HttpClient();
        var open = await http.GetStringAsync(host.Url + "/socket.io/?EIO=4&transport=polling").Within();
        using var json = JsonDocument.Parse(open[1..]);
        Assert.That(json.RootElement.GetProperty("pingInterval").GetInt32(), Is.EqualTo(1500));
        Assert.That(json.RootElement.GetProperty("pingTimeout").GetInt32(), Is.EqualTo(2000));
    }

    [Test]
    public async Task HealthChecksSayWhetherTheServerTakesConnections()
    {
        await using var host = await LibraryHost.StartAsync(
            b =>
            {
                b.Services.AddSocketIo();
                b.Services.AddHealthChecks().AddSocketIo();
            },
            app =>
            {
                app.MapSocketIo();
                app.MapHealthChecks("/health");
            });
        using var http = new HttpClient();
        Assert.That(await http.GetStringAsync(host.Url + "/health").Within(), Is.EqualTo("Healthy"));
        await host.App.Services.GetRequiredService<SocketIoSignal.EngineIO.EngineIoServer>().ShutdownAsync(TimeSpan.FromSeconds(1)).Within();
        using var after = await http.GetAsync(host.Url + "/health").Within();
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
    }

    [Test]
    public void MapSocketIoWithoutAddSocketIoSaysWhatToCall()
    {
        var ex = Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var host = await LibraryHost.StartAsync(_ => { }, app => app.MapSocketIo());
        });
        Assert.That(ex!.Message, Does.Contain("AddSocketIo()"));
    }

    /// <summary>Authenticates whoever names themselves in a header: enough to prove the handshake sees the user.</summary>
    private sealed class HeaderAuth(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "Header";
        public const string Header = "X-Test-User";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(Header, out var name) || string.IsNullOrEmpty(name))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name!)], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }

    private sealed class ScopedCounter(TaskCompletionSource<int> disposed) : IDisposable
    {
        private static int _next;

        public int Id { get; } = Interlocked.Increment(ref _next);

        public void Dispose() => disposed.TrySetResult(Id);
    }

    private sealed class CountingHandler(ScopedCounter counter) : ISocketIoConnectionHandler
    {
        public Task OnConnectedAsync(SocketIoSocket socket)
        {
            socket.On("whoami", e => e.Ack(counter.Id));
            return Task.CompletedTask;
        }
    }
}
