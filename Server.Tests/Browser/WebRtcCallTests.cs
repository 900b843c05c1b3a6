using Microsoft.Playwright;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Browser;

/// <summary>
/// Item 10: a real WebRTC call signaled through our server. Two Chromium pages load a small page that signals
/// as the codelab's later steps do (create or join; the one that got 'created' is the initiator and offers when
/// 'ready' arrives; 'message' carries the offer, the answer and {type:'candidate',…}); a data channel opens and
/// a message crosses it each way.
/// </summary>
[TestFixture]
public sealed class WebRtcCallTests
{
    private const string CallHtml = """
        <!DOCTYPE html>
        <html>
        <head><title>data channel call</title></head>
        <body>
          <script src="/socket.io/socket.io.js"></script>
          <script src="js/call.js"></script>
        </body>
        </html>

        """;

    internal const string CallJs = """
        'use strict';

        var room = 'call';
        var isInitiator = false;
        var pc = null;
        var pendingCandidates = [];
        window.received = [];
        window.trace = [];

        function note(what) { window.trace.push(what); }

        var socket = io.connect();

        function sendMessage(message) { socket.emit('message', message); }

        socket.on('created', function () { isInitiator = true; note('created'); });
        socket.on('joined', function () { note('joined'); });
        socket.on('full', function () { note('full'); });
        socket.on('ready', function () {
          note('ready');
          if (isInitiator && !pc) {
            createPeerConnection();
            wire(pc.createDataChannel('chat'));
            pc.createOffer()
              .then(function (offer) { return pc.setLocalDescription(offer); })
              .then(function () { sendMessage({ type: pc.localDescription.type, sdp: pc.localDescription.sdp }); note('offer sent'); })
              .catch(function (e) { note('offer failed: ' + e); });
          }
        });

        socket.on('message', function (message) {
          if (message.type === 'offer') {
            note('offer received');
            if (!pc) { createPeerConnection(); }
            pc.setRemoteDescription(message)
              .then(addPendingCandidates)
              .then(function () { return pc.createAnswer(); })
              .then(function (answer) { return pc.setLocalDescription(answer); })
              .then(function () { sendMessage({ type: pc.localDescription.type, sdp: pc.localDescription.sdp }); note('answer sent'); })
              .catch(function (e) { note('answer failed: ' + e); });
          } else if (message.type === 'answer' && pc) {
            note('answer received');
            pc.setRemoteDescription(message).then(addPendingCandidates).catch(function (e) { note('answer rejected: ' + e); });
          } else if (message.type === 'candidate') {
            var candidate = new RTCIceCandidate({ sdpMLineIndex: message.label, sdpMid: message.id, candidate: message.candidate });
            if (pc && pc.remoteDescription) {
              pc.addIceCandidate(candidate).catch(function (e) { note('candidate rejected: ' + e); });
            } else {
              pendingCandidates.push(candidate);
            }
          }
        });

        function addPendingCandidates() {
          var all = pendingCandidates;
          pendingCandidates = [];
          return Promise.all(all.map(function (c) { return pc.addIceCandidate(c); }));
        }

        function createPeerConnection() {
          pc = new RTCPeerConnection({ iceServers: [] });
          pc.onicecandidate = function (event) {
            if (event.candidate) {
              sendMessage({ type: 'candidate', label: event.candidate.sdpMLineIndex, id: event.candidate.sdpMid, candidate: event.candidate.candidate });
            }
          };
          pc.oniceconnectionstatechange = function () { note('ice ' + pc.iceConnectionState); };
          pc.ondatachannel = function (event) { wire(event.channel); };
        }

        function wire(channel) {
          var hello = isInitiator ? 'hello from the initiator' : 'hello from the joiner';
          var sent = 0;
          // Said again every half second while open: a hello that reaches a page before its handler is set is
          // dropped, and the test is about the signaling that opened the channel, not about one message on it.
          function sayHello() {
            if (channel.readyState !== 'open' || sent >= 40) { return; }
            channel.send(hello);
            if (++sent === 1) { note('hello sent'); }
            setTimeout(sayHello, 500);
          }
          channel.onopen = function () { note('channel open'); sayHello(); };
          channel.onclose = function () { note('channel closed'); };
          channel.onmessage = function (event) {
            if (window.received.indexOf(event.data) < 0) { note('received ' + event.data); }
            window.received.push(event.data);
          };
        }

        socket.emit('create or join', room);

        """;

    private ChromiumHost _chromium = null!;
    private string _root = null!;

    [OneTimeSetUp]
    public async Task LaunchAsync()
    {
        _root = Directory.CreateTempSubdirectory("codelab-call-").FullName;
        Directory.CreateDirectory(Path.Combine(_root, "js"));
        File.WriteAllText(Path.Combine(_root, "call.html"), CallHtml);
        File.WriteAllText(Path.Combine(_root, "js", "call.js"), CallJs);
        _chromium = await ChromiumHost.LaunchForCallsAsync();
    }

    [OneTimeTearDown]
    public async Task CloseAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }
        Directory.Delete(_root, recursive: true);
    }

    [TestCase("step6", "4")]
    [TestCase("codelab", "2")]
    public async Task DataChannelMessageCrossesBetweenTwoPages(string mode, string client)
    {
        await using var server = await TestServer.StartAsync(["--root", _root, "--mode", mode, "--client", client]);
        await using var context = await _chromium.Browser.NewContextAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var initiator = await OpenAsync(context, server.Url + "/call.html");
        await initiator.WaitForFunctionAsync("() => window.trace.includes('created')", null, new PageWaitForFunctionOptions { Timeout = 15000 });
        var joiner = await OpenAsync(context, server.Url + "/call.html");

        try
        {
            await joiner.WaitForFunctionAsync("() => window.received.includes('hello from the initiator')", null, new PageWaitForFunctionOptions { Timeout = 20000 });
            await initiator.WaitForFunctionAsync("() => window.received.includes('hello from the joiner')", null, new PageWaitForFunctionOptions { Timeout = 20000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail("no data channel message crossed.\ninitiator: " + await TraceAsync(initiator) + "\njoiner: " + await TraceAsync(joiner));
        }
        Assert.That(await joiner.EvaluateAsync<bool>("() => isInitiator"), Is.False);
        server.AssertNoErrors();
    }

    private static async Task<IPage> OpenAsync(IBrowserContext context, string url)
    {
        var page = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var response = await page.GotoAsync(url, new PageGotoOptions { Timeout = 15000 });
        Assert.That(response?.Status, Is.EqualTo(200), url);
        return page;
    }

    private static Task<string> TraceAsync(IPage page) => page.EvaluateAsync<string>("() => JSON.stringify(window.trace)").WaitAsync(TimeSpan.FromSeconds(5));
}
