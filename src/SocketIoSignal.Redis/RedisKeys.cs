using System.Text;

namespace SocketIoSignal.Redis;

/// <summary>
/// Where the keys live on a Redis Cluster. A script may only touch keys of one hash slot, so a membership's
/// bookkeeping is kept beside its room: every slot has a key tag of its own (<c>{prefix}#{t}</c> hashing to that
/// slot), and a node's index of its members in that slot is <c>{prefix}#{t}#index#{owner}</c>. The node registry,
/// heartbeats and purge bookkeeping share the <c>{nodes}</c> tag, so they change together. On a single Redis the
/// same layout is used; slots then only spread the index.
/// </summary>
internal sealed class RedisKeys
{
    public const int SlotCount = 16384;

    private readonly string _prefix;
    private readonly Dictionary<int, string> _tags = [];

    public RedisKeys(string prefix)
    {
        _prefix = prefix;
        // The first tag (in a fixed order, so every node agrees) that lands in each slot. A prefix with a hash
        // tag of its own pins every key to one slot: then one tag is all there is.
        for (long n = 0; _tags.Count < SlotCount; n++)
        {
            string tag = n.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
            _tags.TryAdd(HashSlot(prefix + "#{" + tag + "}"), tag);
            if (n == 50_000 && _tags.Count == 1)
            {
                break;
            }
        }
        string nodes = prefix + "#{nodes}";
        Nodes = nodes;
        Purging = nodes + "#purging";
    }

    /// <summary>The registry of live owners (a set).</summary>
    public string Nodes { get; }

    /// <summary>Owners found dead whose purge has not finished (a set).</summary>
    public string Purging { get; }

    public string Heartbeat(string owner) => Nodes + "#hb#" + owner;

    /// <summary>A bitmap of the slots in which an owner may have members: only those need purging.</summary>
    public string Slots(string owner) => Nodes + "#slots#" + owner;

    /// <summary>Held by the node purging an owner, so the others do not repeat its work.</summary>
    public string Lease(string owner) => Nodes + "#lease#" + owner;

    /// <summary>An owner's members in one slot: entries <c>socketId roomKey</c>.</summary>
    public string Index(int slot, string owner) => SlotPrefix(slot) + "#index#" + owner;

    /// <summary>Set when an owner's members of a slot were purged: a late write of that owner is refused.</summary>
    public string Gone(int slot, string owner) => SlotPrefix(slot) + "#gone#" + owner;

    /// <summary>The slot whose tag stands for <paramref name="key"/>'s slot (its own when the prefix does not pin one).</summary>
    public int SlotOf(string key)
    {
        int slot = HashSlot(key);
        return _tags.ContainsKey(slot) ? slot : _tags.Keys.First();
    }

    private string SlotPrefix(int slot) => _prefix + "#{" + _tags[slot] + "}";

    /// <summary>Redis Cluster's key slot: CRC16 (XMODEM) of the key, or of its first non-empty <c>{…}</c> tag, modulo 16384.</summary>
    public static int HashSlot(string key)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(key);
        ReadOnlySpan<byte> span = bytes;
        int open = span.IndexOf((byte)'{');
        if (open >= 0)
        {
            int close = span[(open + 1)..].IndexOf((byte)'}');
            if (close > 0)
            {
                span = span.Slice(open + 1, close);
            }
        }
        return Crc16(span) & (SlotCount - 1);
    }

    private static int Crc16(ReadOnlySpan<byte> data)
    {
        int crc = 0;
        foreach (byte b in data)
        {
            crc ^= b << 8;
            for (int i = 0; i < 8; i++)
            {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
        }
        return crc & 0xFFFF;
    }
}
