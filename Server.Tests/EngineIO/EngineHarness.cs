using System.Net;
using Microsoft.Extensions.Time.Testing;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>
/// The Engine.IO server alone (<see cref="EngineIoTestHost"/>) talking to a <see cref="RecordingHandler"/>, on
/// fake time, with a raw client for it.
/// </summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    private EngineHarness(EngineIoTestHost host, FakeTimeProvider time, RecordingHandler handler)
    {
        Host = host;
        Time = time;
        Handler = handler;
        Raw = new EngineIoRaw(host.BaseUri);
    }

    public EngineIoTestHost Host { get; }

    public FakeTimeProvider Time { get; }

    public RecordingHandler Handler { get; }

    public EngineIoRaw Raw { get; }

    public EngineIoServer Engine => Host.Engine;

    /// <summary>Starts the host; <paramref name="options"/> changes the defaults; <paramref name="echo"/> sends every message back.</summary>
    public static async Task<EngineHarness> StartAsync(Action<EngineIoOptions>? options = null, bool echo = true)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var handler = new RecordingHandler { Echo = echo };
        var host = await EngineIoTestHost.StartAsync(handler, options, time);
        return new EngineHarness(host, time, handler);
    }

    public EngineIoSession Session(string sid)
    {
        Assert.That(Engine.TryGetSession(sid, out var session), Is.True, "session " + sid);
        return session!;
    }

    /// <summary>A v3 JSONP handshake; returns the sid read out of the script.</summary>
    public async Task<string> JsonpHandshakeAsync(string j = "0")
    {
        var (status, script) = await Raw.GetTextAsync(Raw.Query(3, "polling", extra: "j=" + j));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), script);
        return System.Text.RegularExpressions.Regex.Match(script, "sid\\\\\":\\\\\"([A-Za-z0-9_-]{20})").Groups[1].Value;
    }

    public bool IsOpen(string sid) => Engine.TryGetSession(sid, out var s) && s!.IsOpen;

    public string Poll(int eio, string sid, string? extra = null) => Raw.Query(eio, "polling", sid, extra);

    public async ValueTask DisposeAsync()
    {
        Raw.Dispose();
        await Host.DisposeAsync();
    }
}
