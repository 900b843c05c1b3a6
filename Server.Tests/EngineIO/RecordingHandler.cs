using System.Threading.Channels;
using SocketIoSignal.EngineIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>What an Engine.IO handler saw, in order, for the tests to await.</summary>
internal sealed class RecordingHandler : IEngineIoHandler
{
    private readonly Channel<string> _events = Channel.CreateUnbounded<string>();

    /// <summary>Send every message back as it came (text as text, binary as binary).</summary>
    public bool Echo { get; init; }

    public Dictionary<string, CloseReason> Closed { get; } = [];

    private readonly TaskCompletionSource<CloseReason> _firstClose = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<CloseReason> FirstClose => _firstClose.Task;

    public void OnConnect(EngineIoSession session) => _events.Writer.TryWrite("connect");

    public void OnMessage(EngineIoSession session, string text)
    {
        _events.Writer.TryWrite("text:" + text);
        if (Echo)
        {
            session.Send(text);
        }
    }

    public void OnBinary(EngineIoSession session, ReadOnlyMemory<byte> data)
    {
        _events.Writer.TryWrite("binary:" + Convert.ToHexString(data.Span));
        if (Echo)
        {
            session.SendBinary(data.ToArray());
        }
    }

    public void OnDisconnect(EngineIoSession session, CloseReason reason)
    {
        lock (Closed)
        {
            Closed[session.Id] = reason;
        }
        _firstClose.TrySetResult(reason);
        _events.Writer.TryWrite("close:" + reason);
    }

    /// <summary>The next event, skipping "connect".</summary>
    public async Task<string> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        while (true)
        {
            var e = await _events.Reader.ReadAsync(cts.Token);
            if (e != "connect")
            {
                return e;
            }
        }
    }

    /// <summary>True when no further event is queued right now.</summary>
    public bool IsQuiet => !_events.Reader.TryPeek(out _);
}
