namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>
/// A mutable set of strings (ordinal) for the in-memory adapter's maps: a socket's rooms and a room's members are
/// mostly one or two (its own room, its room pair), so up to <see cref="InlineLimit"/> live in a small array searched
/// in order, and only a bigger set becomes a hash set. Enumerates in insertion order, as long as it stays small.
/// </summary>
internal sealed class SmallSet
{
    internal const int InlineLimit = 8;

    private string?[]? _few;
    private int _count;
    private HashSet<string>? _many;

    public int Count => _many?.Count ?? _count;

    public bool Contains(string item)
    {
        if (_many is not null)
        {
            return _many.Contains(item);
        }
        return IndexOf(item) >= 0;
    }

    public bool Add(string item)
    {
        if (_many is not null)
        {
            return _many.Add(item);
        }
        if (IndexOf(item) >= 0)
        {
            return false;
        }
        if (_count == InlineLimit)
        {
            _many = new HashSet<string>(InlineLimit * 2, StringComparer.Ordinal);
            for (int i = 0; i < _count; i++)
            {
                _many.Add(_few![i]!);
            }
            _many.Add(item);
            _few = null;
            _count = 0;
            return true;
        }
        if (_few is null || _count == _few.Length)
        {
            Array.Resize(ref _few, _few is null ? 1 : Math.Min(_few.Length * 2, InlineLimit));
        }
        _few[_count++] = item;
        return true;
    }

    public bool Remove(string item)
    {
        if (_many is not null)
        {
            return _many.Remove(item);
        }
        int at = IndexOf(item);
        if (at < 0)
        {
            return false;
        }
        _count--;
        Array.Copy(_few!, at + 1, _few!, at, _count - at);
        _few![_count] = null;
        return true;
    }

    public string[] ToArray()
    {
        if (_many is not null)
        {
            return [.. _many];
        }
        var items = new string[_count];
        for (int i = 0; i < _count; i++)
        {
            items[i] = _few![i]!;
        }
        return items;
    }

    /// <summary>Whether any of this set's items is in <paramref name="other"/>.</summary>
    public bool Overlaps(IReadOnlySet<string> other)
    {
        if (_many is not null)
        {
            foreach (var item in _many)
            {
                if (other.Contains(item))
                {
                    return true;
                }
            }
            return false;
        }
        for (int i = 0; i < _count; i++)
        {
            if (other.Contains(_few![i]!))
            {
                return true;
            }
        }
        return false;
    }

    public Enumerator GetEnumerator() => new(this);

    private int IndexOf(string item)
    {
        for (int i = 0; i < _count; i++)
        {
            if (string.Equals(_few![i], item, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Enumerates without allocating; the set must not change meanwhile (the adapter holds its lock).</summary>
    public struct Enumerator
    {
        private readonly SmallSet _set;
        private HashSet<string>.Enumerator _many;
        private int _index;

        internal Enumerator(SmallSet set)
        {
            _set = set;
            _many = set._many?.GetEnumerator() ?? default;
            _index = -1;
        }

        public readonly string Current => _set._many is not null ? _many.Current : _set._few![_index]!;

        public bool MoveNext()
        {
            if (_set._many is not null)
            {
                return _many.MoveNext();
            }
            return ++_index < _set._count;
        }
    }
}
