using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.SocketIOTests;

/// <summary>
/// What an idle connection holds, and what an event costs on its way to the handlers: nothing held for the
/// connection's life that served only its start (the connect timer, the set of namespaces being connected), the
/// codelab's handlers shared by every socket, and an event deferred to the end of its turn without allocating.
/// </summary>
[TestFixture]
internal sealed class IdleMemoryTests
{
    [Test]
    public async Task AConnectedClientHoldsNoConnectTimerNorConnectingSetAndCodelabSocketsShareTheirHandlers()
    {
        await using var server = await TestServer.StartAsync(["--mode", "codelab"]);
        var io = server.Get<SocketIoServer>();
        var sockets = System.Threading.Channels.Channel.CreateUnbounded<SocketIoSocket>();
        io.OnConnection(s => sockets.Writer.TryWrite(s));
        await using var first = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        await using var second = await RawSocketIoClient.ConnectAsync(server.BaseUri, 4);
        var a = await sockets.Reader.ReadAsync().AsTask().Within();
        var b = await sockets.Reader.ReadAsync().AsTask().Within();

        foreach (var socket in new[] { a, b })
        {
            Assert.That(socket.Client.Protocol, Is.EqualTo(5), "a protocol 5 client starts with a connect timer");
            Assert.That(socket.Client.HoldsConnectTimer, Is.False, "the connect timer is dropped once connected");
            await Eventually.UntilAsync(() => !socket.Client.HoldsConnectingSet, TimeSpan.FromSeconds(10), "the connecting set goes once the connect is over");
            Assert.That(socket.PendingAcks, Is.Zero);
        }

        var handlersA = a.HandlerLists();
        var handlersB = b.HandlerLists();
        Assert.That(handlersA.Select(h => h.Name), Is.EqualTo(new[] { "message", "create or join", "ipaddr", "bye" }));
        Assert.That(handlersB.Select(h => h.Name), Is.EqualTo(handlersA.Select(h => h.Name)));
        for (int i = 0; i < handlersA.Count; i++)
        {
            Assert.That(handlersA[i].Handlers, Has.Length.EqualTo(1));
            Assert.That(handlersB[i].Handlers[0], Is.SameAs(handlersA[i].Handlers[0]), $"one {handlersA[i].Name} handler for every socket");
        }

        // The shared handlers still act for the socket that sent the event.
        await first.SendAsync("2[\"message\",\"hello\"]");
        var relayed = await second.WaitForAsync("message");
        Assert.That(relayed.Args[0]!.GetValue<string>(), Is.EqualTo("hello"));
    }

    private sealed class Recorder : EngineIoSession.IEndOfTurn
    {
        public readonly List<(object? First, object? Second)> Ran = new(16);

        public bool Nest { get; set; }

        public void RunAtEndOfTurn(object? first, object? second)
        {
            Ran.Add((first, second));
            if (Nest && first is "b")
            {
                // Deferred while the turn's deferred work runs: still in this turn, after what was deferred before.
                EngineIoSession.AtEndOfTurn(this, "nested", null);
            }
        }

        public string[] Names => [.. Ran.Select(r => string.Concat((string?)r.First, (string?)r.Second))];
    }

    [Test]
    public void DeferredWorkRunsAtTheEndOfTheOutermostTurnInOrder()
    {
        var recorder = new Recorder { Nest = true };
        EngineIoSession.AtEndOfTurn(recorder, "outside", null);
        Assert.That(recorder.Names, Is.EqualTo(new[] { "outside" }), "outside a turn it runs at once");

        EngineIoSession.EnterTurn();
        try
        {
            EngineIoSession.AtEndOfTurn(recorder, "a", "1");
            EngineIoSession.EnterTurn();
            try
            {
                EngineIoSession.AtEndOfTurn(recorder, "b", "2");
            }
            finally
            {
                EngineIoSession.ExitTurn();
            }
            Assert.That(recorder.Names, Is.EqualTo(new[] { "outside" }), "an inner turn's end runs nothing");
            EngineIoSession.AtEndOfTurn(recorder, "c", "3");
        }
        finally
        {
            EngineIoSession.ExitTurn();
        }
        Assert.That(recorder.Names, Is.EqualTo(new[] { "outside", "a1", "b2", "c3", "nested" }));
    }

    [Test]
    public void DeferringToTheEndOfATurnAllocatesNothing()
    {
        var recorder = new Recorder();
        // The first turns make this thread's list (and compile the code); later turns reuse it.
        RunTurn(recorder);
        RunTurn(recorder);
        recorder.Ran.Clear();
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunTurn(recorder);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(recorder.Names, Is.EqualTo(new[] { "a1", "b2", "c3" }));
        Assert.That(allocated, Is.Zero, "deferring to the end of a turn allocates nothing");
    }

    private static void RunTurn(Recorder recorder)
    {
        EngineIoSession.EnterTurn();
        try
        {
            EngineIoSession.AtEndOfTurn(recorder, "a", "1");
            EngineIoSession.AtEndOfTurn(recorder, "b", "2");
            EngineIoSession.AtEndOfTurn(recorder, "c", "3");
        }
        finally
        {
            EngineIoSession.ExitTurn();
        }
    }
}
