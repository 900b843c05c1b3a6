using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

[TestFixture]
public sealed class HandshakeSmokeTests
{
    [Test]
    public async Task V3PollingHandshakeCarriesOpenAndSocketIoConnect()
    {
        await using var host = await EngineIoTestHost.StartAsync(services => services.GetRequiredService<SocketIoServer>());
        using var raw = new EngineIoRaw(host.BaseUri);
        var (status, body) = await raw.GetTextAsync(raw.Query(3, "polling"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body, Does.Match(new Regex("^97:0\\{\"sid\":\"[A-Za-z0-9_-]{20}\",\"upgrades\":\\[\"websocket\"\\],\"pingInterval\":25000,\"pingTimeout\":20000\\}2:40$")));
        host.AssertNoErrors();
    }
}
