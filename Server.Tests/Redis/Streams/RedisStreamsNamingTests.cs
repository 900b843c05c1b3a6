using NUnit.Framework;
using SocketIoSignal.Redis;
using SocketIoSignal.Redis.Streams;

namespace SocketIoSignal.Tests.Redis.Streams;

/// <summary>
/// With several streams, a namespace goes to the stream Node's adapter picks (<c>computeStreamName</c>: its Java-style
/// string hash, wrapped to 32 bits, modulo the count, a negative hash keeping its sign); the values are Node's own.
/// </summary>
[TestFixture]
internal sealed class RedisStreamsNamingTests
{
    [TestCase("/", "socket.io-2")]
    [TestCase("/chat", "socket.io-1")]
    [TestCase("/a-very-long-namespace-name-that-overflows-int32", "socket.io-0")]
    [TestCase("/é", "socket.io-1")]
    [TestCase("/namespace-2", "socket.io--2")]
    public void ANamespaceGoesToTheStreamNodePicks(string nsp, string stream) =>
        Assert.That(StreamsRequests.StreamFor(nsp, new RedisStreamsOptions { StreamCount = 3 }), Is.EqualTo(stream));

    [Test]
    public void OneStreamIsTheStreamName() =>
        Assert.That(StreamsRequests.StreamFor("/chat", new RedisStreamsOptions { StreamName = "s" }), Is.EqualTo("s"));
}
