using NUnit.Framework;
using SocketIoSignal.Signaling;

namespace SocketIoSignal.Tests.Codelab;

[TestFixture]
public sealed class RoomPolicyTests
{
    [TestCase(0, 2, RoomDecision.Created)]
    [TestCase(1, 2, RoomDecision.Joined)]
    [TestCase(2, 2, RoomDecision.Full)]
    [TestCase(3, 2, RoomDecision.Full)]
    [TestCase(0, 1, RoomDecision.Created)]
    [TestCase(1, 1, RoomDecision.Full)]
    [TestCase(3, 5, RoomDecision.Joined)]
    [TestCase(5, 5, RoomDecision.Full)]
    [TestCase(0, 0, RoomDecision.Full)]
    public void DecidesFromCountAndCapacity(int members, int capacity, RoomDecision expected) =>
        Assert.That(RoomPolicy.Decide(members, capacity), Is.EqualTo(expected));
}
