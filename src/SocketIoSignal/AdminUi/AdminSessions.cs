using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace SocketIoSignal.AdminUi;

/// <summary>
/// The logins of the UI, as Node's in-memory store: a random id the UI keeps and reconnects with instead of the
/// password, valid for <see cref="AdminUiOptions.SessionDuration"/>. At most <see cref="MaxSessions"/> are kept.
/// </summary>
internal sealed class AdminSessions(TimeProvider time, TimeSpan duration)
{
    public const int MaxSessions = 10_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _expiries = new(StringComparer.Ordinal);

    public string Create()
    {
        var now = time.GetUtcNow();
        if (_expiries.Count >= MaxSessions)
        {
            foreach (var (id, expiry) in _expiries)
            {
                if (expiry <= now)
                {
                    _expiries.TryRemove(id, out _);
                }
            }
            while (_expiries.Count >= MaxSessions && _expiries.MinBy(p => p.Value) is { Key: { } oldest })
            {
                _expiries.TryRemove(oldest, out _);
            }
        }
        // Node's: 8 random bytes in hex.
        var session = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        _expiries[session] = now + duration;
        return session;
    }

    public bool IsValid(string session)
    {
        if (!_expiries.TryGetValue(session, out var expiry))
        {
            return false;
        }
        if (expiry > time.GetUtcNow())
        {
            return true;
        }
        _expiries.TryRemove(session, out _);
        return false;
    }
}
