using System.Collections;

namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>
/// Small immutable room sets for broadcast targets: most broadcasts name no room or one (<c>socket.broadcast</c>
/// excludes the sender's own room), and these cost one small object instead of a hash set each.
/// </summary>
internal static class RoomSet
{
    public static readonly IReadOnlySet<string> Empty = new Many([]);

    /// <summary><paramref name="set"/> with <paramref name="room"/> added (a new set; the argument is not changed).</summary>
    public static IReadOnlySet<string> With(IReadOnlySet<string> set, string room)
    {
        if (set.Count == 0)
        {
            return new One(room);
        }
        if (set.Contains(room))
        {
            return set;
        }
        var copy = new HashSet<string>(set, StringComparer.Ordinal) { room };
        return new Many(copy);
    }

    /// <summary>Whether any room of <paramref name="rooms"/> is in <paramref name="set"/>, without allocating for one room.</summary>
    public static bool Overlaps(IReadOnlySet<string> set, IReadOnlySet<string> rooms)
    {
        switch (set)
        {
            case { Count: 0 }:
                return false;
            case One one:
                return rooms.Contains(one.Room);
            case Many many:
                foreach (var room in many.Rooms)
                {
                    if (rooms.Contains(room))
                    {
                        return true;
                    }
                }
                return false;
            default:
                foreach (var room in set)
                {
                    if (rooms.Contains(room))
                    {
                        return true;
                    }
                }
                return false;
        }
    }

    private sealed class One(string room) : IReadOnlySet<string>
    {
        public string Room { get; } = room;

        public int Count => 1;

        public bool Contains(string item) => string.Equals(item, Room, StringComparison.Ordinal);

        public IEnumerator<string> GetEnumerator()
        {
            yield return Room;
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public bool IsProperSubsetOf(IEnumerable<string> other) => Set.IsProperSubsetOf(other);

        public bool IsProperSupersetOf(IEnumerable<string> other) => Set.IsProperSupersetOf(other);

        public bool IsSubsetOf(IEnumerable<string> other) => other.Contains(Room, StringComparer.Ordinal);

        public bool IsSupersetOf(IEnumerable<string> other) => Set.IsSupersetOf(other);

        public bool Overlaps(IEnumerable<string> other) => other.Contains(Room, StringComparer.Ordinal);

        public bool SetEquals(IEnumerable<string> other) => Set.SetEquals(other);

        private HashSet<string> Set => new(StringComparer.Ordinal) { Room };
    }

    private sealed class Many(HashSet<string> rooms) : IReadOnlySet<string>
    {
        public HashSet<string> Rooms { get; } = rooms;

        public int Count => Rooms.Count;

        public bool Contains(string item) => Rooms.Contains(item);

        public IEnumerator<string> GetEnumerator() => Rooms.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public bool IsProperSubsetOf(IEnumerable<string> other) => Rooms.IsProperSubsetOf(other);

        public bool IsProperSupersetOf(IEnumerable<string> other) => Rooms.IsProperSupersetOf(other);

        public bool IsSubsetOf(IEnumerable<string> other) => Rooms.IsSubsetOf(other);

        public bool IsSupersetOf(IEnumerable<string> other) => Rooms.IsSupersetOf(other);

        public bool Overlaps(IEnumerable<string> other) => Rooms.Overlaps(other);

        public bool SetEquals(IEnumerable<string> other) => Rooms.SetEquals(other);
    }
}
