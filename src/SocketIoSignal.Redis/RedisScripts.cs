namespace SocketIoSignal.Redis;

/// <summary>
/// The Lua scripts. Each runs atomically in Redis and touches one hash slot only (see <see cref="RedisKeys"/>), so
/// they run unchanged on a Redis Cluster. Room sets hold <c>owner:socketId</c>; beside them, in the same slot,
/// each owner's index holds <c>socketId roomKey</c> for every membership it has there, so a survivor can remove a
/// dead owner's members slot by slot, each slot in one step.
/// </summary>
internal static class RedisScripts
{
    /// <summary>
    /// KEYS: index, gone, room keys… (one slot); ARGV: member, socket id. Returns the rooms written, or -1 when
    /// this owner was purged from the slot (the node is taken for dead and rejoins as a new owner).
    /// </summary>
    public const string Add = """
        if redis.call('EXISTS', KEYS[2]) == 1 then
          return -1
        end
        for i = 3, #KEYS do
          redis.call('SADD', KEYS[i], ARGV[1])
          redis.call('SADD', KEYS[1], ARGV[2] .. ' ' .. KEYS[i])
        end
        return #KEYS - 2
        """;

    /// <summary>KEYS: index, room keys… (one slot); ARGV: member, socket id.</summary>
    public const string Delete = """
        for i = 2, #KEYS do
          redis.call('SREM', KEYS[i], ARGV[1])
          redis.call('SREM', KEYS[1], ARGV[2] .. ' ' .. KEYS[i])
        end
        return #KEYS - 1
        """;

    /// <summary>
    /// KEYS: index, gone, room key (one slot); ARGV: member, socket id, capacity. Returns {count before, joined,
    /// was member}, or {-1, 0, 0} when this owner was purged from the slot.
    /// </summary>
    public const string JoinIfBelow = """
        if redis.call('EXISTS', KEYS[2]) == 1 then
          return {-1, 0, 0}
        end
        local count = redis.call('SCARD', KEYS[3])
        local was = redis.call('SISMEMBER', KEYS[3], ARGV[1])
        local joined = 0
        if was == 1 or count < tonumber(ARGV[3]) then
          redis.call('SADD', KEYS[3], ARGV[1])
          redis.call('SADD', KEYS[1], ARGV[2] .. ' ' .. KEYS[3])
          joined = 1
        end
        return {count, joined, was}
        """;

    /// <summary>
    /// KEYS: heartbeat, nodes, slots bitmap ({nodes} slot); ARGV: owner, ttl ms, create (0/1). Refreshes the
    /// heartbeat and returns 0; with create 0 and the heartbeat gone, changes nothing and returns 1: the owner
    /// may have been purged meanwhile and must not come back under the same name.
    /// </summary>
    public const string Heartbeat = """
        if ARGV[3] == '1' then
          redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
          redis.call('SADD', KEYS[2], ARGV[1])
          redis.call('DEL', KEYS[3])
          return 0
        end
        if redis.call('SET', KEYS[1], '1', 'PX', ARGV[2], 'XX') then
          redis.call('SADD', KEYS[2], ARGV[1])
          return 0
        end
        return 1
        """;

    /// <summary>
    /// KEYS: heartbeat, slots bitmap ({nodes} slot); ARGV: slot. Records that the owner is about to write in the
    /// slot, unless its heartbeat is gone (returns 0): after a purge has read the bitmap, no new slot is added.
    /// </summary>
    public const string MarkSlot = """
        if redis.call('EXISTS', KEYS[1]) == 0 then
          return 0
        end
        redis.call('SETBIT', KEYS[2], ARGV[1], 1)
        return 1
        """;

    /// <summary>
    /// KEYS: nodes, purging ({nodes} slot); ARGV: key prefix of the {nodes} slot, an owner leaving (or '').
    /// Moves every owner whose heartbeat is gone (and the leaving one) from the registry to the purge list;
    /// returns the purge list.
    /// </summary>
    public const string Claim = """
        local base = ARGV[1]
        local function claim(owner)
          redis.call('SREM', KEYS[1], owner)
          redis.call('SADD', KEYS[2], owner)
        end
        if ARGV[2] ~= '' then
          redis.call('DEL', base .. '#hb#' .. ARGV[2])
          claim(ARGV[2])
        end
        for _, owner in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if redis.call('EXISTS', base .. '#hb#' .. owner) == 0 then
            claim(owner)
          end
        end
        return redis.call('SMEMBERS', KEYS[2])
        """;

    /// <summary>
    /// KEYS: index, gone (one slot); ARGV: owner, tombstone ms. Removes the owner's members from every room of
    /// the slot, drops its index there and leaves a tombstone so that a write of it still in flight is refused.
    /// Returns the number of memberships removed.
    /// </summary>
    public const string PurgeSlot = """
        local purged = 0
        for _, e in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local sp = string.find(e, ' ', 1, true)
          if sp then
            purged = purged + redis.call('SREM', string.sub(e, sp + 1), ARGV[1] .. ':' .. string.sub(e, 1, sp - 1))
          end
        end
        redis.call('DEL', KEYS[1])
        redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
        return purged
        """;

    /// <summary>KEYS: purging, slots bitmap, lease ({nodes} slot); ARGV: owner. The purge of the owner is complete.</summary>
    public const string Purged = """
        redis.call('SREM', KEYS[1], ARGV[1])
        redis.call('DEL', KEYS[2], KEYS[3])
        return 1
        """;
}
