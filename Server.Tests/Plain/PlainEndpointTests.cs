using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SocketIoSignal.Plain;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Plain;

/// <summary>
/// The plain WebSocket endpoint (/ws) beside Socket.IO: the same events and arguments, one room manager, the same
/// capacity, in each mode, with clients of both Engine.IO generations.
/// </summary>
[TestFixture]
internal sealed class PlainEndpointTests
{
    [TestCase("codelab", 3)]
    [TestCase("codelab", 4)]
    [TestCase("step6", 4)]
    [TestCase("rooms", 3)]
    [TestCase("rooms", 4)]
    public async Task APlainPeerCreatesASocketIoPeerJoinsAThirdOfEitherKindIsFull(string mode, int eio)
    {
        await using var server = await TestServer.StartAsync(["--mode", mode]);
        await using var plain = await PlainClient.ConnectAsync(server.BaseUri);
        await using var sio = await RawSocketIoClient.ConnectAsync(server.BaseUri, eio);

        await plain.EmitAsync("create or join", "foo");
        Assert.That((await plain.WaitForAsync("log")).ToJsonString(), Is.EqualTo("[\"log\",[\"Message from server:\",\"Received request to create or join room foo\"]]"));
        var created = await plain.WaitForAsync("created");
        Assert.That(created.ToJsonString(), Does.Match("^\\[\"created\",\"foo\",\"[A-Za-z0-9_-]{20}\"\\]$"));

        await sio.EmitAsync("create or join", "foo");
        // Rooms mode keeps events for connection state recovery: a Socket.IO peer's carry an offset as a last argument,
        // which the plain peer's do not (it cannot recover).
        Assert.That((await sio.WaitForAsync("joined")).Args.AsArray().Take(2).Select(a => a!.ToJsonString()), Is.EqualTo(new[] { "\"foo\"", $"\"{sio.Id}\"" }));
        await sio.WaitForAsync("ready");
        var ready = await plain.WaitForAsync("ready");
        if (mode == "step6")
        {
            Assert.That(ready.ToJsonString(), Is.EqualTo("[\"ready\",\"foo\"]"));
        }
        else
        {
            Assert.That(ready.ToJsonString(), Is.EqualTo("[\"ready\"]"));
            Assert.That((await plain.WaitForAsync("join")).ToJsonString(), Is.EqualTo("[\"join\",\"foo\"]"));
        }

        // Signaling both ways: the offer from the plain peer, the answer from the Socket.IO one.
        await plain.EmitAsync("message", new JsonObject { ["type"] = "offer", ["sdp"] = "v=0" });
        Assert.That((await sio.WaitForAsync("message")).Args[0]!.ToJsonString(), Is.EqualTo("{\"type\":\"offer\",\"sdp\":\"v=0\"}"));
        Assert.That((await plain.WaitForAsync("log", f => f.ToJsonString().Contains("Client said: "))).ToJsonString(),
            Is.EqualTo("[\"log\",[\"Message from server:\",\"Client said: \",{\"type\":\"offer\",\"sdp\":\"v=0\"}]]"));
        await sio.EmitAsync("message", new JsonObject { ["type"] = "answer" });
        Assert.That((await plain.WaitForAsync("message")).ToJsonString(), Is.EqualTo("[\"message\",{\"type\":\"answer\"}]"));

        // Capacity counts both kinds.
        await using var thirdPlain = await PlainClient.ConnectAsync(server.BaseUri);
        await thirdPlain.EmitAsync("create or join", "foo");
        Assert.That((await thirdPlain.WaitForAsync("full")).ToJsonString(), Is.EqualTo("[\"full\",\"foo\"]"));
        await using var thirdSio = await RawSocketIoClient.ConnectAsync(server.BaseUri, eio);
        await thirdSio.EmitAsync("create or join", "foo");
        await thirdSio.WaitForAsync("full");
        server.AssertNoErrors();
    }

    [Test]
    public async Task ASocketIoPeerCreatesAPlainPeerJoinsAndLeavingSaysBye()
    {
        await using var server = await TestServer.StartAsync(["--mode", "rooms"]);
        await using var sio = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var plain = await PlainClient.ConnectAsync(server.BaseUri);

        await sio.EmitAsync("create or join", "r1");
        await sio.WaitForAsync("created");
        await plain.EmitAsync("create or join", "r1");
        var joined = await plain.WaitForAsync("joined");
        Assert.That(joined[1]!.GetValue<string>(), Is.EqualTo("r1"));
        Assert.That(server.Get<SocketIoSignal.SocketIO.SocketIoServer>().Sockets.Sockets.ContainsKey(plain.Id!), Is.True, "the plain peer is a socket of \"/\"");
        await sio.WaitForAsync("ready");
        await plain.WaitForAsync("ready");

        // Rooms mode: the plain peer's message goes to its room only; its departure tells the peer.
        await plain.DisposeAsync();
        Assert.That((await sio.WaitForAsync("bye")).Args[0]!.ToJsonString(), Is.EqualTo("\"r1\""), "a plain peer cannot recover: its bye is not deferred");
        await using var again = await PlainClient.ConnectAsync(server.BaseUri);
        await again.EmitAsync("create or join", "r1");
        await again.WaitForAsync("joined");
        server.AssertNoErrors();
    }

    [Test]
    public async Task IpAddrAndByeAreHandledAsOverSocketIo()
    {
        await using var server = await TestServer.StartAsync(["--mode", "codelab"]);
        await using var plain = await PlainClient.ConnectAsync(server.BaseUri);
        await plain.EmitAsync("bye", "foo");
        await plain.EmitAsync("ipaddr");
        await plain.EmitAsync("create or join", "x");
        await plain.WaitForAsync("created");
        Assert.That(plain.CloseStatus, Is.Null, "known events keep the connection open");
        server.AssertNoErrors();
    }

    [Test]
    public async Task TheEndpointPathIsAnOption()
    {
        await using var server = await TestServer.StartAsync(["--Signaling:PlainWebSocketPath", "/signal"]);
        await using var plain = await PlainClient.ConnectAsync(server.BaseUri, "/signal");
        await plain.EmitAsync("create or join", "p");
        await plain.WaitForAsync("created");
        using var http = new HttpClient();
        var page = await http.GetStringAsync(server.Url + "/plain/js/main.js").Within();
        Assert.That(page, Does.Contain("\"/signal\""));
        var notWs = await http.GetAsync(server.Url + "/signal").Within();
        Assert.That(notWs.StatusCode, Is.EqualTo(HttpStatusCode.UpgradeRequired));
    }

    [Test]
    public void ABadEndpointPathStopsTheStart()
    {
        var ex = Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => TestServer.StartAsync(["--Signaling:PlainWebSocketPath", "ws"]));
        Assert.That(ex!.Message, Does.Contain("Signaling:PlainWebSocketPath"));
    }

    [Test]
    public async Task ACrossOriginHandshakeIsRefusedAsForSocketIo()
    {
        await using var server = await TestServer.StartAsync();
        var ex = Assert.ThrowsAsync<WebSocketException>(() => PlainClient.ConnectAsync(server.BaseUri, origin: "http://evil.example"));
        Assert.That(ex!.Message, Does.Contain("403"));
        await using var same = await PlainClient.ConnectAsync(server.BaseUri, origin: server.Url);
        await same.EmitAsync("create or join", "o");
        await same.WaitForAsync("created");
    }

    [Test]
    public async Task AStoppingServerClosesPlainConnectionsWith1001()
    {
        var server = await TestServer.StartAsync();
        await using var plain = await PlainClient.ConnectAsync(server.BaseUri);
        await plain.EmitAsync("create or join", "s");
        await plain.WaitForAsync("created");
        await server.DisposeAsync();
        var (status, reason) = await plain.ExpectClosedAsync();
        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
        Assert.That(reason, Is.EqualTo("server shutting down"));
    }

    [Test]
    public async Task ThePageUnderPlainIsTheRootsPageWithANewWebSocketInsteadOfIoConnect()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var root = RepoPaths.Combine("public");
        Assert.That(await http.GetStringAsync(server.Url + "/plain/").Within(), Is.EqualTo(File.ReadAllText(Path.Combine(root, "index.html"))));
        Assert.That(await http.GetStringAsync(server.Url + "/plain/css/main.css").Within(), Is.EqualTo(File.ReadAllText(Path.Combine(root, "css", "main.css"))));
        var redirect = await http.GetAsync(server.Url + "/plain").Within();
        Assert.That(redirect.Headers.Location?.ToString(), Is.EqualTo("/plain/"));

        var original = File.ReadAllText(Path.Combine(root, "js", "main.js"));
        var plain = await http.GetStringAsync(server.Url + "/plain/js/main.js").Within();
        Assert.That(plain, Does.Contain("new WebSocket(").And.Not.Contain("io.connect"));
        Assert.That(plain, Is.EqualTo(PlainPage.Transform(original, "/ws")));
        // Nothing else differs: take the inserted function out and put io.connect() back, and it is the original.
        int start = plain.IndexOf("// Served at /plain/js/main.js", StringComparison.Ordinal);
        int end = plain.IndexOf("\n}\n", start, StringComparison.Ordinal) + 3;
        var back = (plain[..start] + plain[end..]).Replace("\n\n\n", "\n\n").Replace("plainSocket()", "io.connect()");
        Assert.That(back.Replace("\n", ""), Is.EqualTo(original.Replace("\n", "")));
        // The seed's page at / is untouched.
        Assert.That(await http.GetStringAsync(server.Url + "/js/main.js").Within(), Is.EqualTo(original));
        Assert.That((await http.GetAsync(server.Url + "/plain/../index.html").Within()).StatusCode, Is.Not.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That((await http.GetAsync(server.Url + "/plain/nothing.js").Within()).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        server.AssertNoErrors();
    }

    [Test]
    public async Task WithRecoveryThePlainPeerGetsTheArgumentsWithoutTheOffsetAndAnArgumentShapedLikeOneIntact()
    {
        // Rooms mode: recovery on, so the relayed event carries its offset, which the packet itself knows; the plain
        // peer gets the handler's arguments, the last of which here merely looks like an offset.
        await using var server = await TestServer.StartAsync(["--mode", "rooms"]);
        await using var plain = await PlainClient.ConnectAsync(server.BaseUri);
        await using var sio = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        await plain.EmitAsync("create or join", "foo");
        await plain.WaitForAsync("created");
        await sio.EmitAsync("create or join", "foo");
        await plain.WaitForAsync("ready");
        await sio.EmitAsync("message", "AbCd-_12.345");
        Assert.That((await plain.WaitForAsync("message")).ToJsonString(), Is.EqualTo("[\"message\",\"AbCd-_12.345\"]"));
        await plain.EmitAsync("message", "AbCd-_12.345");
        var toSio = await sio.WaitForAsync("message");
        Assert.That(toSio.Args[0]!.GetValue<string>(), Is.EqualTo("AbCd-_12.345"));
        Assert.That(toSio.Args.AsArray(), Has.Count.EqualTo(2), "the Socket.IO peer's copy carries the offset");
        server.AssertNoErrors();
    }
}
