using SocketIOClient;
using SocketIOClient.Transport;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Interop;

/// <summary>
/// What <see cref="DotNetClientTests"/> and <see cref="MatrixDotNetTests"/> share about SocketIOClient 3.0.6: its
/// options per transport, and bounded waits.
/// </summary>
public static class DotNetClientKit
{
    /// <summary>
    /// A client on "polling" (no upgrade), "websocket" (WebSocket only) or "upgrade" (polling, AutoUpgrade on:
    /// this client then opens a fresh WebSocket session rather than probing an upgrade of the polling one).
    /// </summary>
    public static SocketIOClient.SocketIO Client(string url, int eio, string transport, bool reconnect = false) =>
        new(url, new SocketIOOptions
        {
            EIO = eio,
            Transport = transport == "websocket" ? TransportProtocol.WebSocket : TransportProtocol.Polling,
            AutoUpgrade = transport == "upgrade",
            Reconnection = reconnect,
            ReconnectionDelay = 100,
            ReconnectionDelayMax = 200,
            RandomizationFactor = 0,
            ConnectionTimeout = TimeSpan.FromSeconds(10),
            Query = [new("token", "abc")],
        });

    public static TaskCompletionSource<T> Tcs<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static Task<T> Wait<T>(TaskCompletionSource<T> tcs) => tcs.Task.Within(TimeSpan.FromSeconds(10));
}
