using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>Item 1 and 7: the open packet over polling and WebSocket, session ids, the io cookie, options binding.</summary>
[TestFixture]
public sealed class HandshakeTests
{
    private static JsonElement OpenJson(string packet)
    {
        Assert.That(packet, Does.StartWith("0{"));
        using var doc = JsonDocument.Parse(packet[1..]);
        return doc.RootElement.Clone();
    }

    private static string[] Keys(JsonElement e) => [.. e.EnumerateObject().Select(p => p.Name)];

    [TestCase(3)]
    [TestCase(4)]
    public async Task PollingHandshakeSendsTheOpenPacketWithReferenceDefaults(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        using var response = await h.Raw.GetAsync(h.Raw.Query(eio, "polling"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.ToString(), Is.EqualTo("text/plain; charset=UTF-8"));
        string packet = body;
        if (eio == 3)
        {
            var m = Regex.Match(body, "^(\\d+):(.*)$", RegexOptions.Singleline);
            Assert.That(m.Success, Is.True, body);
            packet = m.Groups[2].Value;
            Assert.That(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(packet.Length), "v3 length prefix");
        }
        var open = OpenJson(packet);
        Assert.That(open.GetProperty("upgrades").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "websocket" }));
        Assert.That(open.GetProperty("pingInterval").GetInt32(), Is.EqualTo(25000));
        Assert.That(open.GetProperty("pingTimeout").GetInt32(), Is.EqualTo(20000));
        if (eio == 4)
        {
            Assert.That(Keys(open), Is.EquivalentTo(new[] { "sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload" }));
            Assert.That(open.GetProperty("maxPayload").GetInt32(), Is.EqualTo(1_000_000));
        }
        else
        {
            Assert.That(Keys(open), Is.EquivalentTo(new[] { "sid", "upgrades", "pingInterval", "pingTimeout" }));
        }
        var sid = open.GetProperty("sid").GetString()!;
        Assert.That(sid, Does.Match("^[A-Za-z0-9_-]{20}$"));
        Assert.That(h.IsOpen(sid), Is.True);
        Assert.That(h.Session(sid).Protocol, Is.EqualTo(eio));
        h.Host.AssertNoErrors();
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task WebSocketOnlyHandshakeSendsOpenWithNoUpgrades(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        using var ws = await h.Raw.ConnectWebSocketAsync(eio);
        var open = OpenJson(await ws.ReceiveTextAsync());
        Assert.That(open.GetProperty("upgrades").GetArrayLength(), Is.Zero);
        Assert.That(open.GetProperty("pingInterval").GetInt32(), Is.EqualTo(25000));
        Assert.That(open.TryGetProperty("maxPayload", out _), Is.EqualTo(eio == 4));
        var sid = open.GetProperty("sid").GetString()!;
        Assert.That(h.Session(sid).Transport, Is.EqualTo(TransportKind.WebSocket));
        await ws.SendTextAsync("4hi");
        Assert.That(await h.Handler.NextAsync(), Is.EqualTo("text:hi"));
        Assert.That(await ws.ReceiveTextAsync(), Is.EqualTo("4hi"));
        h.Host.AssertNoErrors();
    }

    [Test]
    public async Task SessionIdsAreTwentyUrlSafeCharactersAndDistinct()
    {
        await using var h = await EngineHarness.StartAsync();
        var ids = new HashSet<string>();
        for (int i = 0; i < 50; i++)
        {
            var (sid, _) = await h.Raw.HandshakeAsync(4);
            Assert.That(sid, Does.Match("^[A-Za-z0-9_-]{20}$"));
            ids.Add(sid);
        }
        for (int i = 0; i < 2000; i++)
        {
            var id = SessionId.New();
            Assert.That(id, Does.Match("^[A-Za-z0-9_-]{20}$"));
            ids.Add(id);
        }
        Assert.That(ids, Has.Count.EqualTo(2050));
    }

    [Test]
    public async Task V3HandshakeSetsTheIoCookieV4DoesNot()
    {
        await using var h = await EngineHarness.StartAsync();
        using (var v3 = await h.Raw.GetAsync(h.Raw.Query(3, "polling")))
        {
            var sid = EngineIoRaw.SidOf(await v3.Content.ReadAsStringAsync());
            Assert.That(v3.Headers.TryGetValues("Set-Cookie", out var cookies), Is.True);
            Assert.That(cookies, Is.EqualTo(new[] { $"io={sid}; Path=/; HttpOnly; SameSite=Strict" }));
        }
        using (var v4 = await h.Raw.GetAsync(h.Raw.Query(4, "polling")))
        {
            Assert.That(v4.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(v4.Headers.Contains("Set-Cookie"), Is.False);
        }
    }

    [Test]
    public async Task CookieV3CanBeTurnedOffAndCookieV4On()
    {
        await using var h = await EngineHarness.StartAsync(o =>
        {
            o.CookieV3 = false;
            o.CookieV4 = true;
        });
        using (var v3 = await h.Raw.GetAsync(h.Raw.Query(3, "polling")))
        {
            Assert.That(v3.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(v3.Headers.Contains("Set-Cookie"), Is.False);
        }
        using (var v4 = await h.Raw.GetAsync(h.Raw.Query(4, "polling")))
        {
            Assert.That(v4.Headers.GetValues("Set-Cookie").Single(), Does.StartWith("io=").And.EndWith("; Path=/; HttpOnly; SameSite=Strict"));
        }
    }

    [Test]
    public async Task OptionsComeFromTheCommandLine()
    {
        // The app binds the "EngineIo" section: the whole app, not the Engine.IO host.
        await using var server = await TestServer.StartAsync(
            ["--EngineIo:PingInterval=1234", "--EngineIo:PingTimeout=567", "--EngineIo:MaxHttpBufferSize=4321", "--EngineIo:Path=/eio/", "--EngineIo:UpgradeTimeout=999"]);
        using var raw = new EngineIoRaw(server.BaseUri, "/eio/");
        var (_, body) = await raw.HandshakeAsync(4);
        var open = OpenJson(body);
        Assert.That(open.GetProperty("pingInterval").GetInt32(), Is.EqualTo(1234));
        Assert.That(open.GetProperty("pingTimeout").GetInt32(), Is.EqualTo(567));
        Assert.That(open.GetProperty("maxPayload").GetInt32(), Is.EqualTo(4321));
        Assert.That(server.Get<EngineIoServer>().Options.UpgradeTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(999)), "a number is milliseconds, as in Node");
        var (status, _) = await raw.GetTextAsync("/socket.io/?EIO=4&transport=polling");
        Assert.That(status, Is.Not.EqualTo(HttpStatusCode.OK), "the default path is not served once another is configured");
    }

    [Test]
    [NonParallelizable]
    public async Task OptionsComeFromTheEnvironment()
    {
        Environment.SetEnvironmentVariable("EngineIo__PingTimeout", "4321");
        try
        {
            await using var server = await TestServer.StartAsync();
            using var raw = new EngineIoRaw(server.BaseUri);
            var (_, body) = await raw.HandshakeAsync(4);
            Assert.That(OpenJson(body).GetProperty("pingTimeout").GetInt32(), Is.EqualTo(4321));
        }
        finally
        {
            Environment.SetEnvironmentVariable("EngineIo__PingTimeout", null);
        }
    }

    [Test]
    public void DefaultsAreTheReferenceServers()
    {
        var o = new EngineIoOptions();
        Assert.Multiple(() =>
        {
            Assert.That(o.PingInterval, Is.EqualTo(TimeSpan.FromMilliseconds(25000)));
            Assert.That(o.PingTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(20000)));
            Assert.That(o.UpgradeTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(10000)));
            Assert.That(o.MaxHttpBufferSize, Is.EqualTo(1_000_000));
            Assert.That(o.CookieV3, Is.True);
            Assert.That(o.CookieV4, Is.False);
            Assert.That(o.AllowedOrigins, Is.Empty);
        });
    }

    [Test]
    public async Task MaxSessionsRefusesFurtherHandshakesWith403Code4()
    {
        await using var h = await EngineHarness.StartAsync(o => o.MaxSessions = 2);
        await h.Raw.HandshakeAsync(4);
        await h.Raw.HandshakeAsync(3);
        var (status, body) = await h.Raw.GetTextAsync(h.Raw.Query(4, "polling"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(body, Is.EqualTo("{\"code\":4,\"message\":\"Forbidden\"}"));
    }

    [TestCase(3)]
    [TestCase(4)]
    public async Task WebSocketHandshakeIsAcceptedWithoutUpgradeOnlyAsWebSocket(int eio)
    {
        await using var h = await EngineHarness.StartAsync();
        var (status, body) = await h.Raw.GetTextAsync(h.Raw.Query(eio, "websocket"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body, Is.EqualTo("{\"code\":3,\"message\":\"Bad request\"}"));
        Assert.That(h.Engine.SessionCount, Is.Zero);
        using var ws = await h.Raw.ConnectWebSocketAsync(eio);
        Assert.That(ws.State, Is.EqualTo(WebSocketState.Open));
    }
}
