using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;
using SocketIoSignal.Tests.NodeSuite.Support;

namespace SocketIoSignal.Tests.NodeSuite;

/// <summary>socket.io 4.8 test/v2-compatibility.ts, against our server, with socket.io-client 2.5.0.</summary>
[TestFixture]
public sealed class V2CompatibilityTests : NodeSuiteFixture
{
    [Test(Description = "should connect if `allowEIO3` is true")]
    public async Task ShouldConnectIfAllowEio3IsTrue()
    {
        var server = await StartAsync(engineIo: o => o.AllowEIO3 = true);
        var connections = server.Connections();
        await Clients.RunAsync("""
            const io2 = require("socket.io-client-2");
            const s = io2.connect(args[0], { multiplex: false, reconnection: false });
            watch("v2", s);
            """, server.Url);
        var connected = await Clients.WaitForAsync(e => e.Client == "v2" && e.Event == "connect", "the v2 client to connect");
        var socket = await connections.NextAsync();
        Assert.That(socket.Id, Is.EqualTo(connected.Text(0)));
        Assert.That(socket.Protocol, Is.EqualTo(4));
    }

    [Test(Description = "should be able to connect to a namespace with a query")]
    public async Task ShouldBeAbleToConnectToANamespaceWithAQuery()
    {
        var server = await StartAsync(engineIo: o => o.AllowEIO3 = true);
        var connections = server.Connections("/the-namespace");
        await Clients.RunAsync("""
            const io2 = require("socket.io-client-2");
            const s = io2.connect(args[0], { multiplex: false, reconnection: false });
            s.query = { test: "123" };
            watch("v2", s);
            """, server.Url + "/the-namespace");
        await Clients.WaitForAsync(e => e.Client == "v2" && e.Event == "connect", "the v2 client to connect");
        var socket = await connections.NextAsync();
        Assert.That(socket.Handshake.Auth!.ToJsonString(), Is.EqualTo("""{"test":"123"}"""));
    }

    [Test(Description = "should not connect if `allowEIO3` is false (default)")]
    public async Task ShouldNotConnectIfAllowEio3IsFalseDefault()
    {
        var server = await StartAsync();
        var connections = server.Connections();
        await Clients.RunAsync("""
            const io2 = require("socket.io-client-2");
            const s = io2.connect(args[0], { multiplex: false, reconnection: false });
            watch("v2", s);
            """, server.Url);
        var error = await Clients.WaitForAsync(e => e.Client == "v2" && e.Event is "connect_error" or "connect", "the v2 client to be refused");
        Assert.That(error.Event, Is.EqualTo("connect_error"));
        Assert.That(connections.All, Is.Empty);
        // what the client was told: Node's 400 and code 5
        using var http = new HttpClient();
        using var response = await http.GetAsync($"{server.Url}/socket.io/?EIO=3&transport=polling").Within();
        Assert.That((int)response.StatusCode, Is.EqualTo(400));
        Assert.That(await response.Content.ReadAsStringAsync().Within(), Is.EqualTo("""{"code":5,"message":"Unsupported protocol version"}"""));
        // a 4.x client is welcome on the same server
        var client = await ClientAsync(server);
        await client.ConnectedAsync();
        Assert.That(connections.All, Has.Count.EqualTo(1));
    }
}
