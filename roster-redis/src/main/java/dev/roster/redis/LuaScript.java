package dev.roster.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** A Lua script and its SHA-1, so it runs by EVALSHA and falls back to EVAL after a script flush. */
// Carries a script's source bytes; never compared or hashed.
@SuppressWarnings("ArrayRecordComponent")
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
     * The Lua function {@code partIds(v)}: the part ids listed by a snapshot index value, none for an
     * inline value or anything else. The ids are the last {@code 32 * n} bytes before the four-byte
     * count {@code n} at the end of an index (see {@link ProjectionCodec}).
     */
    private static final String PART_IDS = """
            local function partIds(v)
              local ids = {}
              if type(v) ~= 'string' or #v < 8 or string.sub(v, 1, 4) ~= 'RS' .. string.char($FORMAT) .. 'P' then
                return ids
              end
              local b1, b2, b3, b4 = string.byte(v, -4, -1)
              local n = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
              local from = #v - 4 - $ID * n
              if from < 4 then return ids end
              for i = 0, n - 1 do
                ids[#ids + 1] = string.sub(v, from + $ID * i + 1, from + $ID * i + $ID)
              end
              return ids
            end
            """.replace("$FORMAT", Integer.toString(ProjectionCodec.SNAPSHOT_FORMAT))
            .replace("$ID", Integer.toString(ProjectionCodec.PART_ID_LENGTH));

    /**
     * KEYS: snap, active, epoch, retired. ARGV: version, epoch, value, graceMs, channel, message,
     * partKeyPrefix, then (partId, partValue) pairs of the new snapshot. The superseded key and the part
     * keys are derived from KEYS[1] and ARGV[7]; they share KEYS[1]'s hash tag, so the same slot. A part
     * sent with its value is written (which repairs a damaged copy); one sent with an empty value is one
     * the publisher knows it stored before under that content id: it must exist, else the script returns
     * {@code MISSING} before writing anything and the publisher sends every part. Either way a part the
     * new snapshot names loses any expiry; a part of the previous snapshot that the new one does not name
     * expires with the grace period, as the superseded snapshot does.
     */
    static final LuaScript PUBLISH = of("publish", PART_IDS + """
            if redis.call('EXISTS', KEYS[4]) == 1 then return 'RETIRED' end
            if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[2] then return 'FENCED' end
            local cur = redis.call('GET', KEYS[2])
            if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 'SUPERSEDED' end
            for i = 8, #ARGV, 2 do
              if ARGV[i + 1] == '' and redis.call('EXISTS', ARGV[7] .. ARGV[i]) == 0 then return 'MISSING' end
            end
            local keep = {}
            for i = 8, #ARGV, 2 do
              keep[ARGV[i]] = true
              if ARGV[i + 1] == '' then
                redis.call('PERSIST', ARGV[7] .. ARGV[i])
              else
                redis.call('SET', ARGV[7] .. ARGV[i], ARGV[i + 1])
              end
            end
            for _, id in ipairs(partIds(redis.pcall('GET', KEYS[1]))) do
              if not keep[id] then redis.call('PEXPIRE', ARGV[7] .. id, ARGV[4]) end
            end
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
     * KEYS: retired, epoch, snap, active. ARGV: graceMs, channel, message, partKeyPrefix. Returns 1 if it
     * retired (and published the retire notice), 0 if already retired (nothing written, nothing
     * published). The retired snapshot's parts expire with the grace period, as the snapshot does.
     */
    static final LuaScript RETIRE = of("retire", PART_IDS + """
            if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
            redis.call('SET', KEYS[1], '1')
            redis.call('INCR', KEYS[2])
            local cur = redis.call('GET', KEYS[4])
            for _, id in ipairs(partIds(redis.pcall('GET', KEYS[3]))) do
              redis.call('PEXPIRE', ARGV[4] .. id, ARGV[1])
            end
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
     * KEYS: a snapshot key (the active one or a superseded {@code snap@v}). ARGV: the identity the reader
     * holds (the value's leading bytes up to the version; empty for none), partKeyPrefix, {@code 1} to
     * send every part the value names or {@code 0} for none. Answers, in one atomic step: {0} nothing
     * stored; {1} the stored value still has the held identity; {3, error} the key holds another Redis
     * type; else {2, value} followed, when asked, by {id, part} for each part the value names (a part
     * that is gone answers nil).
     */
    static final LuaScript READ_SNAPSHOT = of("readSnapshot", PART_IDS + """
            local v = redis.pcall('GET', KEYS[1])
            if type(v) == 'table' then return {3, v.err or 'error'} end
            if not v then return {0} end
            if #ARGV[1] > 0 and string.sub(v, 1, #ARGV[1]) == ARGV[1] then return {1} end
            local out = {2, v}
            if ARGV[3] == '1' then
              local seen = {}
              for _, id in ipairs(partIds(v)) do
                if not seen[id] then
                  seen[id] = true
                  out[#out + 1] = id
                  local p = redis.pcall('GET', ARGV[2] .. id)
                  if type(p) ~= 'string' then p = false end
                  out[#out + 1] = p
                end
              end
            end
            return out
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
