using System.Net;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Codelab;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.EngineIO;

/// <summary>
/// The seed's server on Node (socket.io 2.5.1, engine.io 3.6) and ours in codelab mode answer the same polling
/// exchange — a 1,000-character room name makes the poll's log packets pass the 1024-byte threshold — with the same
/// compression headers for each <c>Accept-Encoding</c>, and the same payload once inflated.
/// </summary>
[TestFixture]
public sealed class HttpCompressionDifferentialTests
{
    [OneTimeSetUp]
    public void RequireNode() => NodeScripts.RequireNodeModules();

    private static readonly string[] AcceptEncodings =
        ["", "gzip", "deflate", "gzip, deflate", "deflate, gzip", "*", "br", "identity", "gzip;q=0, deflate", "gzip;q=0.5, *", "gzip;q=0, deflate;q=0"];

    [Test]
    public async Task CompressionHeadersAndInflatedPayloadsMatchTheReference()
    {
        await using var reference = await ReferenceServer.StartAsync();
        await using var ours = await TestServer.StartAsync();
        var differences = new List<string>();
        for (int i = 0; i < AcceptEncodings.Length; i++)
        {
            // A room of its own per case, so each exchange creates one.
            string room = i + new string('r', 1000);
            var theirs = await ExchangeAsync(new Uri(reference.Url), AcceptEncodings[i], room);
            var mine = await ExchangeAsync(ours.BaseUri, AcceptEncodings[i], room);
            if (theirs.Handshake != mine.Handshake || theirs.Poll != mine.Poll)
            {
                differences.Add($"Accept-Encoding \"{AcceptEncodings[i]}\":\n  reference {theirs.Handshake} {theirs.Poll}\n  ours      {mine.Handshake} {mine.Poll}");
            }
            if (theirs.Inflated != mine.Inflated)
            {
                differences.Add($"Accept-Encoding \"{AcceptEncodings[i]}\": the payloads differ once inflated:\n  reference {theirs.Inflated}\n  ours      {mine.Inflated}");
            }
        }
        Assert.That(differences, Is.Empty, string.Join("\n", differences));
        // Not vacuous: the reference compressed with both codings and left some responses alone.
        var all = new List<Exchange>();
        foreach (var acceptEncoding in new[] { "gzip", "deflate", "" })
        {
            all.Add(await ExchangeAsync(new Uri(reference.Url), acceptEncoding, "again" + new string('r', 1000)));
        }
        Assert.That(all.Select(e => e.Poll.ContentEncoding), Is.EqualTo(new[] { "gzip", "deflate", null }));
        ours.AssertNoErrors();
    }

    /// <summary>What one server answered, with each side's own sid replaced so the two compare.</summary>
    internal sealed record Exchange(Answer Handshake, Answer Poll, string Inflated);

    internal sealed record Answer(HttpStatusCode Status, string? ContentType, string? ContentEncoding, bool LengthIsTheBodys, string? Vary, bool Chunked);

    private static async Task<Exchange> ExchangeAsync(Uri server, string acceptEncoding, string room)
    {
        using var raw = new EngineIoRaw(server);
        string? ae = acceptEncoding.Length == 0 ? null : acceptEncoding;
        var open = await HttpCompressionTests.PollAsync(raw, raw.Query(3, "polling"), ae);
        string sid = EngineIoRaw.SidOf(Encoding.UTF8.GetString(open.Body));
        string packet = $"42[\"create or join\",\"{room}\"]";
        var (status, body) = await raw.PostTextAsync(raw.Query(3, "polling", sid), $"{packet.Length}:{packet}");
        Assert.That((status, body), Is.EqualTo((HttpStatusCode.OK, "ok")), server.ToString());
        var poll = await HttpCompressionTests.PollAsync(raw, raw.Query(3, "polling", sid), ae);
        var inflated = poll.ContentEncoding is { } coding ? HttpCompressionTests.Decompress(poll.Body, coding) : poll.Body;
        return new Exchange(AnswerOf(open), AnswerOf(poll), Encoding.UTF8.GetString(inflated).Replace(sid, "<sid>", StringComparison.Ordinal));
    }

    private static Answer AnswerOf(HttpCompressionTests.Poll p) =>
        new(p.Status, p.ContentType, p.ContentEncoding, p.ContentLength == p.Body.Length, p.Vary, p.Chunked);
}
