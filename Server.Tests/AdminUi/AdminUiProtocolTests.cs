using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NUnit.Framework;
using SocketIoSignal.AdminUi;
using SocketIoSignal.Hosting;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.AdminUi;

/// <summary>
/// Item 5: the /admin namespace of @socket.io/admin-ui 0.5.x, spoken to by socket.io-client 4.8.1 in Node as the
/// official UI speaks it: login, the reports (all_sockets, socket_connected/disconnected, room_joined/left,
/// server_stats, event_received/sent) and the actions (join, leave, _disconnect, emit).
/// </summary>
[TestFixture]
public sealed class AdminUiProtocolTests
{
    private static readonly object Credentials = new { username = "admin", password = "secret" };

    private static Task<TestServer> StartAsync(params string[] extra) => TestServer.StartAsync(
        ["--AdminUi:Enabled=true", "--AdminUi:Username=admin", "--AdminUi:Password=secret", "--AdminUi:ServerStatsInterval=200", .. extra]);

    private static SocketIoNamespace MainNamespace(TestServer server) => server.Get<SocketIoServer>().Of("/");

    [Test]
    public async Task MissingOrWrongCredentialsAreRefused()
    {
        await using var server = await StartAsync();
        await using var driver = SioDriver.Start();
        var admin = server.Url + "/admin";

        await driver.ConnectAsync("none", admin);
        await driver.ConnectAsync("wrong-password", admin, new { username = "admin", password = "secret!" });
        await driver.ConnectAsync("wrong-user", admin, new { username = "root", password = "secret" });
        await driver.ConnectAsync("no-password", admin, new { username = "admin" });
        await driver.ConnectAsync("bad-session", admin, new { sessionId = "0123456789abcdef" });

        foreach (var name in new[] { "none", "wrong-password", "wrong-user", "no-password", "bad-session" })
        {
            var refused = await driver.WaitForAsync(name, "connect_error");
            Assert.That(refused.Message, Is.EqualTo("invalid credentials"), name);
        }
        Assert.That(driver.Lines.Where(l => l.Event == "connect"), Is.Empty);
        Assert.That(server.Get<SocketIoServer>().Of("/admin").Sockets, Is.Empty);
        server.AssertNoErrors();
    }

    [Test]
    public async Task RightCredentialsGetASessionTheConfigAndEverySocketWithItsRooms()
    {
        await using var server = await StartAsync();
        await using var driver = SioDriver.Start();
        var userId = await driver.ConnectedAsync("user", server.Url + "/", transports: ["websocket"]);
        await MainNamespace(server).Sockets[userId].JoinAsync("lobby").AsTask().Within();

        var adminId = await driver.ConnectedAsync("admin", server.Url + "/admin", Credentials);
        var session = await driver.WaitForAsync("admin", "session");
        var config = await driver.WaitForAsync("admin", "config");
        var all = await driver.WaitForAsync("admin", "all_sockets");

        Assert.That(session.Text(0), Does.Match("^[0-9a-f]{16}$"));
        Assert.That(Strings(config.Arg(0)!["supportedFeatures"]), Is.EqualTo(new[]
        {
            "EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS",
        }));
        var sockets = all.Arg(0)!.AsArray();
        var user = sockets.Single(s => s!["id"]!.GetValue<string>() == userId)!;
        Assert.Multiple(() =>
        {
            Assert.That(user["nsp"]!.GetValue<string>(), Is.EqualTo("/"));
            Assert.That(Strings(user["rooms"]), Is.EquivalentTo(new[] { userId, "lobby" }));
            Assert.That(user["transport"]!.GetValue<string>(), Is.EqualTo("websocket"));
            Assert.That(user["clientId"]!.GetValue<string>(), Has.Length.EqualTo(12));
            Assert.That(user["handshake"]!["address"]!.GetValue<string>(), Is.EqualTo("127.0.0.1"));
            Assert.That(user["handshake"]!["query"]!["EIO"]!.GetValue<string>(), Is.EqualTo("4"));
            Assert.That(user["handshake"]!["issued"]!.GetValue<long>(), Is.GreaterThan(0));
            Assert.That(user["data"], Is.InstanceOf<JsonObject>());
        });
        // As in Node, the admin namespace's own sockets are listed too.
        Assert.That(sockets.Select(s => s!["nsp"]!.GetValue<string>()), Is.EquivalentTo(new[] { "/", "/admin" }));
        Assert.That(sockets.Single(s => s!["nsp"]!.GetValue<string>() == "/admin")!["id"]!.GetValue<string>(), Is.EqualTo(adminId));

        // The UI reconnects with the session id it was given, without the password.
        await driver.ConnectedAsync("again", server.Url + "/admin", new { sessionId = session.Text(0) });
        server.AssertNoErrors();
    }

    [Test]
    public async Task ConnectsRoomsAndDisconnectsAreReportedAsTheyHappen()
    {
        await using var server = await StartAsync();
        await using var driver = SioDriver.Start();
        await driver.ConnectedAsync("admin", server.Url + "/admin", Credentials);
        await driver.WaitForAsync("admin", "all_sockets");

        var userId = await driver.ConnectedAsync("user", server.Url + "/");
        var connected = await driver.WaitForAsync("admin", "socket_connected", l => l.Arg(0)!["id"]!.GetValue<string>() == userId);
        Assert.That(connected.Arg(0)!["nsp"]!.GetValue<string>(), Is.EqualTo("/"));
        Assert.That(Strings(connected.Arg(0)!["rooms"]), Does.Contain(userId));
        Assert.That(connected.Text(1), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"), "a timestamp as JSON.stringify(new Date())");

        await MainNamespace(server).Sockets[userId].JoinAsync("lobby").AsTask().Within();
        var joined = await driver.WaitForAsync("admin", "room_joined", l => l.Text(1) == "lobby");
        Assert.That(new[] { joined.Text(0), joined.Text(2) }, Is.EqualTo(new[] { "/", userId }));

        // Rooms joined by the application through the adapter (the codelab's capacity-bounded join) too.
        await driver.EmitAsync("user", "create or join", "foo");
        await driver.WaitForAsync("admin", "room_joined", l => l.Text(1) == "foo" && l.Text(2) == userId);

        await MainNamespace(server).Sockets[userId].LeaveAsync("lobby").AsTask().Within();
        var left = await driver.WaitForAsync("admin", "room_left", l => l.Text(1) == "lobby");
        Assert.That(new[] { left.Text(0), left.Text(2) }, Is.EqualTo(new[] { "/", userId }));

        await driver.DisconnectAsync("user");
        var gone = await driver.WaitForAsync("admin", "socket_disconnected", l => l.Text(1) == userId);
        Assert.That(new[] { gone.Text(0), gone.Text(2) }, Is.EqualTo(new[] { "/", "client namespace disconnect" }));
        // Its rooms are left, so the UI drops them.
        await driver.WaitForAsync("admin", "room_left", l => l.Text(1) == "foo" && l.Text(2) == userId);
        await driver.WaitForAsync("admin", "room_left", l => l.Text(1) == userId && l.Text(2) == userId);
        server.AssertNoErrors();
    }

    [Test]
    public async Task ASocketThatWasThereBeforeTheUiIsReportedWhenItLeaves()
    {
        await using var server = await StartAsync();
        await using var driver = SioDriver.Start();
        var userId = await driver.ConnectedAsync("user", server.Url + "/");
        await MainNamespace(server).Sockets[userId].JoinAsync("lobby").AsTask().Within();
        await driver.ConnectedAsync("admin", server.Url + "/admin", Credentials);
        await driver.WaitForAsync("admin", "all_sockets");

        await driver.DisconnectAsync("user");
        await driver.WaitForAsync("admin", "socket_disconnected", l => l.Text(1) == userId);
        await driver.WaitForAsync("admin", "room_left", l => l.Text(1) == "lobby" && l.Text(2) == userId);
        server.AssertNoErrors();
    }

    [Test]
    public async Task AnUpgradeToWebSocketIsReported()
    {
        await using var server = await StartAsync();
        await using var driver = SioDriver.Start();
        await driver.ConnectedAsync("admin", server.Url + "/admin", Credentials, ["websocket"]);
        var userId = await driver.ConnectedAsync("user", server.Url + "/", transports: ["polling", "websocket"]);
        await driver.WaitForAsync("user", "upgrade");

        // Listed on polling, then updated; or, when the upgrade came first, listed on WebSocket.
        var seen = await driver.WaitForAsync(l => l.Name == "admin"
            && ((l.Event == "socket_connected" && l.Arg(0)!["id"]!.GetValue<string>() == userId && l.Arg(0)!["transport"]!.GetValue<string>() == "websocket")
                || (l.Event == "socket_updated" && l.Arg(0)!["id"]!.GetValue<string>() == userId)), "the socket on websocket");
        Assert.That(seen.Arg(0)!["transport"]!.GetValue<string>(), Is.EqualTo("websocket"));
        Assert.That(seen.Arg(0)!["nsp"]!.GetValue<string>(), Is.EqualTo("/"));
        server.AssertNoErrors();
    }

    [Test]
    public async Task ServerStatsCountClientsPollingClientsAndSocketsPerNamespace()
    {
        await using var server = await StartAsync();
        await using var driver = SioDriver.Start();
        await driver.ConnectedAsync("admin", server.Url + "/admin", Credentials, ["websocket"]);
        await driver.ConnectedAsync("ws", server.Url + "/", transports: ["websocket"]);
        await driver.ConnectedAsync("polling", server.Url + "/", transports: ["polling"]);

        // The first report after all three joined their namespaces (an earlier tick may see the sessions before the joins).
        var stats = await driver.WaitForAsync("admin", "server_stats", l =>
            l.Arg(0)!["clientsCount"]!.GetValue<int>() == 3 && l.Arg(0)!["pollingClientsCount"]!.GetValue<int>() == 1
            && l.Arg(0)!["namespaces"]!.AsArray().Sum(n => n!["socketsCount"]!.GetValue<int>()) == 3);
        var s = stats.Arg(0)!;
        Assert.Multiple(() =>
        {
            Assert.That(s["serverId"]!.GetValue<string>(), Is.EqualTo(Environment.MachineName));
            Assert.That(s["hostname"]!.GetValue<string>(), Is.EqualTo(Environment.MachineName));
            Assert.That(s["pid"]!.GetValue<int>(), Is.EqualTo(Environment.ProcessId));
            Assert.That(s["uptime"]!.GetValue<double>(), Is.GreaterThan(0));
            Assert.That(s["aggregatedEvents"], Is.InstanceOf<JsonArray>());
        });
        var namespaces = s["namespaces"]!.AsArray().ToDictionary(n => n!["name"]!.GetValue<string>(), n => n!["socketsCount"]!.GetValue<int>());
        Assert.That(namespaces, Is.EquivalentTo(new Dictionary<string, int> { ["/"] = 2, ["/admin"] = 1 }));

        // The connections are counted per second, for the dashboard's histograms.
        await driver.WaitForAsync(l => l.Name == "admin" && l.Event == "server_stats"
            && l.Arg(0)!["aggregatedEvents"]!.AsArray().Any(e => e!["type"]!.GetValue<string>() == "rawConnection"), "rawConnection counted");
        server.AssertNoErrors();
    }

    [Test]
    public async Task JoinLeaveAndDisconnectActOnTheSocketsTheyName()
    {
        await using var server = await StartAsync();
        await using var driver = SioDriver.Start();
        await driver.ConnectedAsync("admin", server.Url + "/admin", Credentials);
        var a = await driver.ConnectedAsync("a", server.Url + "/");
        var b = await driver.ConnectedAsync("b", server.Url + "/");
        var main = MainNamespace(server);

        // join(nsp, room, socket id): that socket only.
        await driver.EmitAsync("admin", "join", "/", "r1", a);
        await driver.WaitForAsync("admin", "room_joined", l => l.Text(1) == "r1" && l.Text(2) == a);
        // join(nsp, room): every socket of the namespace.
        await driver.EmitAsync("admin", "join", "/", "r2");
        await driver.WaitForAsync("admin", "room_joined", l => l.Text(1) == "r2" && l.Text(2) == a);
        await driver.WaitForAsync("admin", "room_joined", l => l.Text(1) == "r2" && l.Text(2) == b);
        Assert.That(main.Sockets[a].Rooms, Is.EquivalentTo(new[] { a, "r1", "r2" }));
        Assert.That(main.Sockets[b].Rooms, Is.EquivalentTo(new[] { b, "r2" }));

        // leave(nsp, room, filter) where the filter is a room: the sockets in r1 leave r2.
        await driver.EmitAsync("admin", "leave", "/", "r2", "r1");
        await driver.WaitForAsync("admin", "room_left", l => l.Text(1) == "r2" && l.Text(2) == a);
        Assert.That(main.Sockets[a].Rooms, Is.EquivalentTo(new[] { a, "r1" }));
        Assert.That(main.Sockets[b].Rooms, Does.Contain("r2"));

        // _disconnect(nsp, false, socket id): that socket leaves the namespace.
        await driver.EmitAsync("admin", "_disconnect", "/", false, a);
        var disconnected = await driver.WaitForAsync("a", "disconnect");
        Assert.That(disconnected.Text(0), Is.EqualTo("io server disconnect"));
        await driver.WaitForAsync("admin", "socket_disconnected", l => l.Text(1) == a && l.Text(2) == "server namespace disconnect");
        Assert.That(main.Sockets.ContainsKey(b), Is.True, "b stays");

        // _disconnect(nsp, true, room): the sockets in the room, their whole connection closed.
        await driver.EmitAsync("admin", "_disconnect", "/", true, "r2");
        await driver.WaitForAsync("b", "disconnect");
        await driver.WaitForAsync("admin", "socket_disconnected", l => l.Text(1) == b);
        Assert.That(main.Sockets, Is.Empty);
        server.AssertNoErrors();
    }

    [Test]
    public async Task EmitSendsToTheNamespaceOrARoom()
    {
        await using var server = await StartAsync();
        await using var driver = SioDriver.Start();
        await driver.ConnectedAsync("admin", server.Url + "/admin", Credentials);
        var a = await driver.ConnectedAsync("a", server.Url + "/");
        await driver.ConnectedAsync("b", server.Url + "/");

        await driver.EmitAsync("admin", "emit", "/", a, "notice", "only a", 1);
        var got = await driver.WaitForAsync("a", "notice");
        Assert.That(got.Args.ToJsonString(), Is.EqualTo("""["only a",1]"""));
        await driver.EmitAsync("admin", "emit", "/", null, "notice", "all");
        await driver.WaitForAsync("b", "notice");
        Assert.That(driver.Lines.Where(l => l.Name == "b" && l.Event == "notice").Select(l => l.Text(0)), Is.EqualTo(new[] { "all" }));
        server.AssertNoErrors();
    }

    [Test]
    public async Task EventsReceivedAndSentAreReported()
    {
        await using var server = await StartAsync();
        await using var driver = SioDriver.Start();
        await driver.ConnectedAsync("admin", server.Url + "/admin", Credentials);
        var user = await driver.ConnectedAsync("user", server.Url + "/");

        await driver.EmitAsync("user", "create or join", "foo");
        var received = await driver.WaitForAsync("admin", "event_received", l => l.Text(1) == user);
        Assert.That(received.Text(0), Is.EqualTo("/"));
        Assert.That(received.Arg(2)!.ToJsonString(), Is.EqualTo("""["create or join","foo"]"""));
        var sent = await driver.WaitForAsync("admin", "event_sent", l => l.Text(1) == user && l.Arg(2)![0]!.GetValue<string>() == "created");
        Assert.That(sent.Arg(2)!.ToJsonString(), Is.EqualTo($"""["created","foo","{user}"]"""));
        // The admin namespace's own traffic is not reported.
        Assert.That(driver.Lines.Where(l => l.Event is "event_received" or "event_sent").Select(l => l.Text(0)), Has.All.EqualTo("/"));
        server.AssertNoErrors();
    }

    [Test]
    public async Task ReadOnlyProductionModeOnlyShowsStatistics()
    {
        await using var server = await StartAsync("--AdminUi:ReadOnly=true", "--AdminUi:Mode=production");
        await using var driver = SioDriver.Start();
        var user = await driver.ConnectedAsync("user", server.Url + "/");
        await driver.ConnectedAsync("admin", server.Url + "/admin", Credentials);

        var config = await driver.WaitForAsync("admin", "config");
        Assert.That(Strings(config.Arg(0)!["supportedFeatures"]), Is.EqualTo(new[] { "AGGREGATED_EVENTS" }));
        await driver.EmitAsync("admin", "join", "/", "r1", user);
        await driver.EmitAsync("admin", "_disconnect", "/", true, user);
        // Two statistics ticks after the actions: they were not acted on, and nothing but statistics was sent.
        int mark = driver.Count;
        await driver.WaitForAsync(l => l.Name == "admin" && l.Event == "server_stats", "a tick", after: mark);
        await driver.WaitForAsync(l => l.Name == "admin" && l.Event == "server_stats", "a second tick", after: driver.Count);
        Assert.That(MainNamespace(server).Sockets[user].Rooms, Is.EqualTo(new[] { user }));
        Assert.That(driver.Lines.Where(l => l.Name == "admin" && l.Event != "upgrade").Select(l => l.Event).Distinct(),
            Is.EquivalentTo(new[] { "connect", "session", "config", "server_stats" }));
        server.AssertNoErrors();
    }

    [Test]
    public async Task AllowAnonymousNeedsNoCredentials()
    {
        await using var server = await TestServer.StartAsync(["--AdminUi:Enabled=true", "--AdminUi:AllowAnonymous=true"]);
        await using var driver = SioDriver.Start();
        await driver.ConnectedAsync("admin", server.Url + "/admin");
        await driver.WaitForAsync("admin", "all_sockets");
        Assert.That(driver.Lines.Where(l => l.Event == "session"), Is.Empty, "no login, no session");
        Assert.That(server.Logs.Lines, Has.Some.Contains("authentication is disabled"));
        server.AssertNoErrors();
    }

    [TestCase(new string[0], "AdminUi:Username must be set")]
    [TestCase(new[] { "--AdminUi:Username=admin" }, "AdminUi:Password must be set")]
    [TestCase(new[] { "--AdminUi:AllowAnonymous=true", "--AdminUi:Password=x" }, "AdminUi:AllowAnonymous must be false")]
    [TestCase(new[] { "--AdminUi:Username=a", "--AdminUi:Password=b", "--AdminUi:Namespace=/" }, "AdminUi:Namespace must be")]
    [TestCase(new[] { "--AdminUi:Username=a", "--AdminUi:Password=b", "--AdminUi:Mode=dev" }, "AdminUi:Mode must be \"development\" or \"production\"")]
    [TestCase(new[] { "--AdminUi:Username=a", "--AdminUi:Password=b", "--AdminUi:ServerStatsInterval=0" }, "AdminUi:ServerStatsInterval must be")]
    public async Task BadOptionsStopTheStartWithAMessageNamingTheOption(string[] args, string message)
    {
        // The options as the start validates them (ValidateOnStart), without starting the server.
        await using var app = SignalServer.Build(["--port", "0", "--host", "127.0.0.1", "--AdminUi:Enabled=true", .. args]);
        var ex = Assert.Throws<OptionsValidationException>(() => _ = app.Services.GetRequiredService<IOptions<AdminUiOptions>>().Value);
        Assert.That(ex!.Message, Does.Contain(message));
        Assert.That(ex.Message, Does.Not.Contain("=b"), "the password is never shown");
    }

    [Test]
    public async Task TheStartFailsWithoutCredentials()
    {
        await using var app = SignalServer.Build(["--port", "0", "--host", "127.0.0.1", "--AdminUi:Enabled=true"]);
        var ex = Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.That(ex!.Message, Does.Contain("AdminUi:Username must be set"));
    }

    [Test]
    public async Task TheUiIsServedAtSlashAdmin()
    {
        await using var server = await StartAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseUri };

        using var redirect = await http.GetAsync("/admin").Within();
        Assert.That((int)redirect.StatusCode, Is.EqualTo(302));
        Assert.That(redirect.Headers.Location?.ToString(), Is.EqualTo("/admin/"));

        using var index = await http.GetAsync("/admin/").Within();
        var html = await index.Content.ReadAsStringAsync().Within();
        Assert.That(html, Does.Contain("<title>Socket.IO Admin UI</title>"));
        Assert.That(index.Headers.GetValues("X-Frame-Options"), Is.EqualTo(new[] { "DENY" }));
        var script = System.Text.RegularExpressions.Regex.Match(html, "src=\"(js/app\\.[0-9a-f]+\\.js)\"").Groups[1].Value;
        using var js = await http.GetAsync("/admin/" + script).Within();
        Assert.That((int)js.StatusCode, Is.EqualTo(200));
        Assert.That(js.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/javascript").Or.EqualTo("application/javascript"));
    }

    [Test]
    public void FeaturesFollowTheOptionsAsNodes()
    {
        Assert.That(AdminUiInstrumentation.Features(new AdminUiOptions { ReadOnly = true, Mode = "development" }),
            Is.EqualTo(new[] { "AGGREGATED_EVENTS", "ALL_EVENTS" }));
        Assert.That(AdminUiInstrumentation.Features(new AdminUiOptions { Mode = "production" }),
            Is.EqualTo(new[] { "EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS" }));
    }

    private static string[] Strings(JsonNode? array) => [.. array!.AsArray().Select(n => n!.GetValue<string>())];
}
