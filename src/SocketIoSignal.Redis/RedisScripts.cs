namespace SocketIoSignal.Redis;

/// <summary>
/// The Lua scripts: each runs atomically in Redis, so membership, the capacity check and the purge of dead
/// nodes are single steps for the whole cluster. Room sets hold <c>nodeId:socketId</c>; each node's index
/// set holds <c>socketId roomKey</c> for every membership it owns, so a survivor can remove a dead node's.
/// </summary>
internal static class RedisScripts
{
    /// <summary>KEYS: node index, room keys…; ARGV: member, socket id.</summary>
    public const string Add = """
        for i = 2, #KEYS do
          redis.call('SADD', KEYS[i], ARGV[1])
          redis.call('SADD', KEYS[1], ARGV[2] .. ' ' .. KEYS[i])
        end
        return #KEYS - 1
        """;

    /// <summary>KEYS: node index, room keys…; ARGV: member, socket id.</summary>
    public const string Delete = """
        for i = 2, #KEYS do
          redis.call('SREM', KEYS[i], ARGV[1])
          redis.call('SREM', KEYS[1], ARGV[2] .. ' ' .. KEYS[i])
        end
        return #KEYS - 1
        """;

    /// <summary>KEYS: node index, room key; ARGV: member, socket id, capacity. Returns {count before, joined, was member}.</summary>
    public const string JoinIfBelow = """
        local count = redis.call('SCARD', KEYS[2])
        local was = redis.call('SISMEMBER', KEYS[2], ARGV[1])
        local joined = 0
        if was == 1 or count < tonumber(ARGV[3]) then
          redis.call('SADD', KEYS[2], ARGV[1])
          redis.call('SADD', KEYS[1], ARGV[2] .. ' ' .. KEYS[2])
          joined = 1
        end
        return {count, joined, was}
        """;

    /// <summary>KEYS: include keys…, except keys…; ARGV: number of include keys. Returns the members.</summary>
    public const string Members = """
        local n = tonumber(ARGV[1])
        local seen = {}
        local result = {}
        for i = 1, n do
          for _, m in ipairs(redis.call('SMEMBERS', KEYS[i])) do
            if not seen[m] then
              seen[m] = true
              local excluded = false
              for j = n + 1, #KEYS do
                if redis.call('SISMEMBER', KEYS[j], m) == 1 then
                  excluded = true
                  break
                end
              end
              if not excluded then
                result[#result + 1] = m
              end
            end
          end
        end
        return result
        """;

    /// <summary>
    /// KEYS: heartbeat key, nodes set; ARGV: node id, ttl ms. Refreshes the heartbeat; returns 1 when it had
    /// expired (the node may have been purged meanwhile and must publish its memberships again).
    /// </summary>
    public const string Heartbeat = """
        local alive = redis.call('SET', KEYS[1], '1', 'PX', ARGV[2], 'XX')
        redis.call('SADD', KEYS[2], ARGV[1])
        if alive then
          return 0
        end
        redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
        return 1
        """;

    /// <summary>
    /// KEYS: nodes set; ARGV: key prefix, a node id to purge unconditionally (or ''). Purges every node whose
    /// heartbeat is gone: removes its members from every room, its index and its registration. Returns the
    /// number of memberships removed.
    /// </summary>
    public const string Sweep = """
        local prefix = ARGV[1]
        local purged = 0
        local function purge(node)
          local idx = prefix .. '#index#' .. node
          for _, e in ipairs(redis.call('SMEMBERS', idx)) do
            local sp = string.find(e, ' ', 1, true)
            if sp then
              purged = purged + redis.call('SREM', string.sub(e, sp + 1), node .. ':' .. string.sub(e, 1, sp - 1))
            end
          end
          redis.call('DEL', idx)
          redis.call('SREM', KEYS[1], node)
        end
        if ARGV[2] ~= '' then
          redis.call('DEL', prefix .. '#hb#' .. ARGV[2])
          purge(ARGV[2])
        end
        for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if redis.call('EXISTS', prefix .. '#hb#' .. node) == 0 then
            purge(node)
          end
        end
        return purged
        """;
}
