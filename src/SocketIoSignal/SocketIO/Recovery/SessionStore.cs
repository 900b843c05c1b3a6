using System.Globalization;
using System.Security.Cryptography;
using SocketIoSignal.SocketIO.Adapter;
using SocketIoSignal.SocketIO.Protocol;

namespace SocketIoSignal.SocketIO.Recovery;

/// <summary>
/// Connection state recovery for one namespace, the in-memory part socket.io-adapter's SessionAwareAdapter holds:
/// the events emitted lately (each with its offset, appended as the last argument as Node does) and the sessions of
/// sockets that dropped for a transport reason. Everything is bounded: by age (the recovery window), by count per
/// namespace (oldest first) and by what one session may have missed.
/// </summary>
/// <remarks>
/// One lock orders everything: an event gets its offset, is kept and is delivered under it (the in-memory adapter
/// delivers synchronously), so every socket receives the namespace's kept events in offset order; a socket stops
/// receiving and its session is kept under it, and a recovered socket rejoins its rooms and gets what it missed
/// under it, so no event falls between the two.
/// </remarks>
internal sealed class SessionStore : IDisposable
{
    private readonly object _gate = new();
    private readonly string _nsp;
    private readonly ConnectionStateRecoveryOptions _options;
    private readonly TimeProvider _time;
    private readonly long _window;
    // An offset this store did not write (another process, another namespace, a forgery) never parses.
    private readonly string _prefix = RandomPrefix();
    private readonly Dictionary<string, KeptSession> _sessions = new(StringComparer.Ordinal);
    private readonly LinkedList<KeptSession> _byAge = new();
    private readonly ITimer _sweep;

    // The kept events: a ring in offset order. Offsets are consecutive, so the event with offset s is at s - _firstSeq.
    private Entry[] _ring = new Entry[16];
    private int _head;
    private int _count;
    private long _seq;

    public SessionStore(string nsp, ConnectionStateRecoveryOptions options, TimeProvider time, IClusterRecovery? cluster = null)
    {
        _nsp = nsp;
        Cluster = cluster;
        _options = options;
        _time = time;
        _window = ToTicks(options.MaxDisconnectionDuration, time);
        var period = TimeSpan.FromTicks(Math.Clamp(options.MaxDisconnectionDuration.Ticks / 2, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 30));
        _sweep = time.CreateTimer(static s => ((SessionStore)s!).Sweep(), this, period, period);
    }

    /// <summary>
    /// When set, sessions and events are kept by the cluster (every node can recover a client) and this store only
    /// hands the calls over; the in-memory ring and sessions stay empty.
    /// </summary>
    public IClusterRecovery? Cluster { get; }

    /// <summary>Emits a kept event through the cluster, which appends the offset it gives the event.</summary>
    public ValueTask EmitThroughCluster(IClusterRecovery cluster, string eventName, IReadOnlyList<object?> args, BroadcastTarget target)
    {
        var packet = SocketIoEncoder.EncodeEvent(_nsp, eventName, args);
        packet.EventName = eventName;
        packet.EventArgs = args;
        return cluster.BroadcastKeptAsync(packet, target);
    }

    /// <summary>Events kept right now (for counters and tests).</summary>
    public int KeptPackets
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>Disconnected sessions kept right now.</summary>
    public int KeptSessions
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Count;
            }
        }
    }

    private long FirstSeq => _seq - _count + 1;

    /// <summary>
    /// Emits an event that is kept: its offset appended as the last argument, encoded once, kept, then handed to
    /// <paramref name="send"/> (the adapter's broadcast, or one socket's send) under the lock.
    /// </summary>
    public TResult Emit<TResult>(string eventName, IReadOnlyList<object?> args, BroadcastTarget target, Func<EncodedPacket, TResult> send)
    {
        lock (_gate)
        {
            long seq = _seq + 1;
            var withOffset = new object?[args.Count + 1];
            for (int i = 0; i < args.Count; i++)
            {
                withOffset[i] = args[i];
            }
            string offset = _prefix + seq.ToString(CultureInfo.InvariantCulture);
            withOffset[^1] = offset;
            var packet = SocketIoEncoder.EncodeEvent(_nsp, eventName, withOffset);
            packet.RecoverySeq = seq;
            // The offset is the last argument, JSON as it is (URL-safe base64, a dot, digits): ,"…" before the ].
            packet.RecoveryOffsetLength = offset.Length + 3;
            System.Diagnostics.Debug.Assert(packet.Text.EndsWith($",\"{offset}\"]", StringComparison.Ordinal));
            long now = _time.GetTimestamp();
            DropExpiredLocked(now);
            if (_count == _options.MaxPackets)
            {
                DropOldestLocked();
            }
            if (_count == _ring.Length)
            {
                Grow();
            }
            _ring[(_head + _count) % _ring.Length] = new Entry(seq, packet, target, now);
            _count++;
            _seq = seq;
            return send(packet);
        }
    }

    /// <summary>
    /// Keeps the session of a socket that dropped for a transport reason. <paramref name="leaveRooms"/> takes the
    /// socket out of its rooms; under the lock, so every event after this point is kept for the session.
    /// </summary>
    public void Persist(SocketIoSocket socket, Action leaveRooms)
    {
        if (Cluster is { } cluster)
        {
            var kept = socket.Rooms.ToArray();
            leaveRooms();
            if (socket.Pid is { } clusterPid)
            {
                cluster.PersistSession(socket.Id, clusterPid, kept, socket.Data, _options.MaxDisconnectionDuration);
            }
            return;
        }
        lock (_gate)
        {
            var rooms = new HashSet<string>(socket.Rooms, StringComparer.Ordinal);
            leaveRooms();
            if (socket.Pid is not { } pid || IsDisposed)
            {
                return;
            }
            long now = _time.GetTimestamp();
            ExpireSessionsLocked(now);
            while (_sessions.Count >= _options.MaxSessions && _byAge.First is { } oldest)
            {
                RemoveLocked(oldest.Value);
            }
            var session = new KeptSession(socket.Id, pid, rooms, socket.Data, socket.LastSeq, _seq, now);
            session.Node = _byAge.AddLast(session);
            _sessions[pid] = session;
        }
    }

    /// <summary>
    /// Takes the session <paramref name="pid"/> names, when it is known, not expired, and can be recovered from
    /// <paramref name="offset"/> without a gap and within the per-session cap; null otherwise (the client gets a fresh
    /// session). A session is taken once: whatever the outcome, its pid is spent.
    /// </summary>
    public async ValueTask<RestoredSession?> TryRestoreAsync(string pid, string offset)
    {
        if (Cluster is not { } cluster)
        {
            return TryRestore(pid, offset);
        }
        var taken = await cluster.RestoreSessionAsync(pid, offset, _options.MaxPacketsPerSession).ConfigureAwait(false);
        if (taken is null)
        {
            return null;
        }
        var session = new KeptSession(taken.Sid, taken.Pid, new HashSet<string>(taken.Rooms, StringComparer.Ordinal), taken.Data, 0, 0, _time.GetTimestamp());
        return new RestoredSession(session, [.. taken.Missed], 0);
    }

    /// <inheritdoc cref="TryRestoreAsync"/>
    public RestoredSession? TryRestore(string pid, string offset)
    {
        lock (_gate)
        {
            if (!_sessions.TryGetValue(pid, out var session))
            {
                return null;
            }
            RemoveLocked(session);
            long now = _time.GetTimestamp();
            if (now - session.DisconnectedAt > _window || !TryParseOffset(offset, out long from) || from > session.LastSeq)
            {
                return null;
            }
            // Events before the drop are needed from the client's offset on (unless it had them all); events after it
            // all of them: none of either may have been dropped.
            long needFrom = from < session.LastSeq ? from + 1 : session.DisconnectSeq + 1;
            if (FirstSeq > needFrom)
            {
                return null;
            }
            var missed = new List<EncodedPacket>();
            if (!CollectLocked(session, from, missed))
            {
                return null;
            }
            return new RestoredSession(session, missed, _seq);
        }
    }

    /// <summary>
    /// Brings a recovered socket back: under the lock, <paramref name="rejoin"/> puts it back in its rooms (from now on
    /// it receives), then what it missed goes out, the CONNECT last, as Node sends them.
    /// </summary>
    public void Resume(SocketIoSocket socket, RestoredSession restored, Action rejoin, EncodedPacket connect)
    {
        if (Cluster is not null)
        {
            rejoin();
            foreach (var packet in restored.Missed)
            {
                socket.Client.Send(packet);
            }
            socket.Client.Send(connect);
            return;
        }
        lock (_gate)
        {
            // Events kept while the middlewares ran.
            CollectAfterLocked(restored.Session, restored.UpTo, restored.Missed);
            rejoin();
            long last = restored.Session.LastSeq;
            foreach (var packet in restored.Missed)
            {
                socket.Client.Send(packet);
                last = Math.Max(last, packet.RecoverySeq);
            }
            socket.LastSeq = last;
            socket.Client.Send(connect);
        }
    }

    /// <summary>The missed events: those before the drop after the client's offset, and every one after the drop, that the session's rooms select.</summary>
    private bool CollectLocked(KeptSession session, long from, List<EncodedPacket> missed)
    {
        long start = Math.Max(from + 1, FirstSeq);
        for (long seq = start; seq <= _seq; seq++)
        {
            if (seq > session.LastSeq && seq <= session.DisconnectSeq)
            {
                // Not delivered to the socket while it was connected: not its.
                continue;
            }
            ref var entry = ref _ring[(_head + (int)(seq - FirstSeq)) % _ring.Length];
            if (Selects(session.Rooms, entry.Target))
            {
                if (missed.Count == _options.MaxPacketsPerSession)
                {
                    return false;
                }
                missed.Add(entry.Packet);
            }
        }
        return true;
    }

    private void CollectAfterLocked(KeptSession session, long after, List<EncodedPacket> missed)
    {
        for (long seq = Math.Max(after + 1, FirstSeq); seq <= _seq; seq++)
        {
            ref var entry = ref _ring[(_head + (int)(seq - FirstSeq)) % _ring.Length];
            if (Selects(session.Rooms, entry.Target))
            {
                missed.Add(entry.Packet);
            }
        }
    }

    /// <summary>Node's shouldIncludePacket: in one of the target's rooms (or it names none), in none of its excepted ones.</summary>
    private static bool Selects(HashSet<string> rooms, BroadcastTarget target)
    {
        if (target.Rooms.Count > 0 && !RoomSet.Overlaps(target.Rooms, rooms))
        {
            return false;
        }
        return !RoomSet.Overlaps(target.Except, rooms);
    }

    private bool TryParseOffset(string offset, out long seq)
    {
        seq = 0;
        return offset.StartsWith(_prefix, StringComparison.Ordinal)
            && offset.Length - _prefix.Length is > 0 and <= 19
            && long.TryParse(offset.AsSpan(_prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out seq)
            && seq > 0 && seq <= _seq;
    }

    private void Sweep()
    {
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            ExpireSessionsLocked(now);
            DropExpiredLocked(now);
            if (_count == 0 && _ring.Length > 16)
            {
                // An idle namespace gives back what a burst made the ring grow to.
                _ring = new Entry[16];
                _head = 0;
            }
        }
    }

    private void ExpireSessionsLocked(long now)
    {
        while (_byAge.First is { } oldest && now - oldest.Value.DisconnectedAt > _window)
        {
            RemoveLocked(oldest.Value);
        }
    }

    private void DropExpiredLocked(long now)
    {
        while (_count > 0 && now - _ring[_head].At > _window)
        {
            DropOldestLocked();
        }
    }

    private void DropOldestLocked()
    {
        _ring[_head] = default;
        _head = (_head + 1) % _ring.Length;
        _count--;
    }

    private void RemoveLocked(KeptSession session)
    {
        _sessions.Remove(session.Pid);
        if (session.Node is { List: not null } node)
        {
            _byAge.Remove(node);
        }
    }

    private void Grow()
    {
        var bigger = new Entry[Math.Min(_ring.Length * 2, Math.Max(_options.MaxPackets, 16))];
        for (int i = 0; i < _count; i++)
        {
            bigger[i] = _ring[(_head + i) % _ring.Length];
        }
        _ring = bigger;
        _head = 0;
    }

    private static long ToTicks(TimeSpan span, TimeProvider time) => (long)(span.TotalSeconds * time.TimestampFrequency);

    private static string RandomPrefix()
    {
        Span<byte> bytes = stackalloc byte[6];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_') + ".";
    }

    /// <summary>Whether <see cref="Dispose"/> ran (for tests).</summary>
    internal bool IsDisposed { get; private set; }

    /// <summary>Stops the sweep timer and drops every kept session and event.</summary>
    public void Dispose()
    {
        _sweep.Dispose();
        lock (_gate)
        {
            IsDisposed = true;
            _sessions.Clear();
            _byAge.Clear();
            _ring = new Entry[16];
            _head = 0;
            _count = 0;
        }
    }

    private readonly record struct Entry(long Seq, EncodedPacket Packet, BroadcastTarget Target, long At);
}

/// <summary>A disconnected socket's state, kept for its recovery.</summary>
internal sealed class KeptSession(string sid, string pid, HashSet<string> rooms, object? data, long lastSeq, long disconnectSeq, long disconnectedAt)
{
    public string Sid { get; } = sid;

    /// <summary>The private session id: the secret a client shows to recover, never the socket id.</summary>
    public string Pid { get; } = pid;

    public HashSet<string> Rooms { get; } = rooms;

    public object? Data { get; } = data;

    /// <summary>The offset of the last kept event delivered to the socket while it was connected.</summary>
    public long LastSeq { get; } = lastSeq;

    /// <summary>The last offset given before the socket stopped receiving.</summary>
    public long DisconnectSeq { get; } = disconnectSeq;

    public long DisconnectedAt { get; } = disconnectedAt;

    public LinkedListNode<KeptSession>? Node { get; set; }
}

/// <summary>A session taken for recovery, with the events it missed up to <see cref="UpTo"/>.</summary>
internal sealed record RestoredSession(KeptSession Session, List<EncodedPacket> Missed, long UpTo);
