package dev.roster.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** A Lua script and its SHA-1, so it runs by EVALSHA and falls back to EVAL after a script flush. */
record LuaScript(String name, byte[] source, String sha) {

    static LuaScript of(String name, String source) {
        byte[] bytes = source.getBytes(StandardCharsets.UTF_8);
        try {
            String sha =
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
            return new LuaScript(name, bytes, sha);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required by every Java platform", e);
        }
    }

    /**
     * KEYS: retired, counter, epoch, active. Returns {version, epoch}, or {-1, 0} when retired. A counter
     * below the active version (lost to a delete or an eviction) is first raised to it. A missing epoch
     * starts at the server's clock in microseconds, not at 0: after the store lost its data (a flush, a
     * restart without persistence) its counters count again from 1, and a ticket allocated before the
     * loss, with a version above them, would otherwise still activate and stay active over every newer
     * publish; its epoch now differs, so it is fenced.
     */
    static final LuaScript ALLOCATE = of("allocate", """
            if redis.call('EXISTS', KEYS[1]) == 1 then return {-1, 0} end
            local active = tonumber(redis.call('GET', KEYS[4]) or '0') or 0
            local c = tonumber(redis.call('GET', KEYS[2]) or '0')
            if c and c < active then redis.call('SET', KEYS[2], active) end
            local v = redis.call('INCR', KEYS[2])
            local e = redis.call('GET', KEYS[3])
            if not e then
              local t = redis.call('TIME')
              e = t[1] .. string.format('%06d', tonumber(t[2]))
              redis.call('SET', KEYS[3], e)
            end
            return {v, tonumber(e)}
            """);

    /**
     * KEYS: snap, active, epoch, retired. ARGV: version, epoch, value, graceMs, channel, message.
     * The superseded key is derived from KEYS[1]; it shares KEYS[1]'s hash tag, so the same slot.
     */
    static final LuaScript PUBLISH = of("publish", """
            if redis.call('EXISTS', KEYS[4]) == 1 then return 'RETIRED' end
            if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[2] then return 'FENCED' end
            local cur = redis.call('GET', KEYS[2])
            if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 'SUPERSEDED' end
            if cur and redis.call('EXISTS', KEYS[1]) == 1 then
              local old = KEYS[1] .. '@' .. cur
              redis.call('RENAME', KEYS[1], old)
              redis.call('PEXPIRE', old, ARGV[4])
            end
            redis.call('SET', KEYS[1], ARGV[3])
            redis.call('SET', KEYS[2], ARGV[1])
            redis.call('PUBLISH', ARGV[5], ARGV[6])
            return 'ACTIVATED'
            """);

    /**
     * KEYS: retired, epoch, snap, active. ARGV: graceMs, channel, message. Returns 1 if it retired (and
     * published the retire notice), 0 if already retired (nothing written, nothing published).
     */
    static final LuaScript RETIRE = of("retire", """
            if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
            redis.call('SET', KEYS[1], '1')
            redis.call('INCR', KEYS[2])
            local cur = redis.call('GET', KEYS[4])
            if cur and redis.call('EXISTS', KEYS[3]) == 1 then
              local old = KEYS[3] .. '@' .. cur
              redis.call('RENAME', KEYS[3], old)
              redis.call('PEXPIRE', old, ARGV[1])
            end
            redis.call('DEL', KEYS[3], KEYS[4])
            redis.call('PUBLISH', ARGV[2], ARGV[3])
            return 1
            """);

    /**
     * KEYS: card1, lu1, card2, lu2, ... ARGV: ms1, ms2, ... Sets each last-used to the max of stored and
     * given, only where the card exists. Returns how many moved.
     */
    static final LuaScript MARK_USED = of("markUsed", """
            local n = 0
            for i = 1, #ARGV do
              if redis.call('EXISTS', KEYS[2 * i - 1]) == 1 then
                local cur = redis.call('GET', KEYS[2 * i])
                if not cur or tonumber(cur) < tonumber(ARGV[i]) then
                  redis.call('SET', KEYS[2 * i], ARGV[i])
                  n = n + 1
                end
              end
            end
            return n
            """);

    /**
     * KEYS: replayer lease, watermark. ARGV: token, value (canonical decimal). Compares as decimal
     * strings (length first) because Lua numbers are doubles and watermarks may exceed 2^53.
     */
    static final LuaScript ADVANCE_WATERMARK = of("advanceWatermark", """
            if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'FENCED' end
            local cur = redis.call('GET', KEYS[2])
            if cur and (#cur > #ARGV[2] or (#cur == #ARGV[2] and cur >= ARGV[2])) then return 'NOT_NEWER' end
            redis.call('SET', KEYS[2], ARGV[2])
            return 'ADVANCED'
            """);

    /**
     * KEYS: serving. ARGV: instance id, digest, ttl ms. Stores the digest as field {@code d:<id>} and its
     * expiry (server time) as {@code e:<id>}, drops every instance's expired pair, and keeps the hash
     * itself alive at least {@code ttl} (so it vanishes when every instance is gone). Per-field expiry
     * of its own because hash field TTLs need Redis 7.4.
     */
    static final LuaScript PUT_SERVING = of("putServing", """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local ttl = tonumber(ARGV[3])
            redis.call('HSET', KEYS[1], 'd:' .. ARGV[1], ARGV[2], 'e:' .. ARGV[1], tostring(now + ttl))
            for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
              if string.sub(f, 1, 2) == 'e:' then
                local e = tonumber(redis.call('HGET', KEYS[1], f))
                if e == nil or e <= now then
                  redis.call('HDEL', KEYS[1], f, 'd:' .. string.sub(f, 3))
                end
              end
            end
            if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
            return 1
            """);

    /** KEYS: serving. Returns the digests whose expiry (server time) has not passed. */
    static final LuaScript SERVING = of("serving", """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local out = {}
            for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
              if string.sub(f, 1, 2) == 'e:' then
                local e = tonumber(redis.call('HGET', KEYS[1], f))
                if e ~= nil and e > now then
                  local d = redis.call('HGET', KEYS[1], 'd:' .. string.sub(f, 3))
                  if d then out[#out + 1] = d end
                end
              end
            end
            return out
            """);

    /**
     * KEYS: origin. Returns {stamped origin or nil, run_id of this server or nil}, read in one step on
     * one server, so a reconnect to another server between two reads cannot mix them.
     */
    static final LuaScript ORIGIN = of("origin", """
            local id = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
            return {redis.call('GET', KEYS[1]) or false, id or false}
            """);

    /**
     * KEYS: generation, origin. ARGV: generation value, origin (empty: this server's run_id). Writes
     * both together, so a generation is never stored without the process it was built on.
     */
    static final LuaScript PUT_GENERATION = of("putGeneration", """
            local o = ARGV[2]
            if o == '' then o = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') or '' end
            redis.call('SET', KEYS[1], ARGV[1])
            if o == '' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], o) end
            return 1
            """);

    /** KEYS: lease. ARGV: token, ttlMs. */
    static final LuaScript RENEW = of("renewLease", """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              return redis.call('PEXPIRE', KEYS[1], ARGV[2])
            end
            return 0
            """);

    /** KEYS: lease. ARGV: token. */
    static final LuaScript RELEASE = of("releaseLease", """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              return redis.call('DEL', KEYS[1])
            end
            return 0
            """);
}
