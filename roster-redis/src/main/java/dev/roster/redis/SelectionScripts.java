package dev.roster.redis;

/**
 * The Lua scripts of {@link RedisSelectionStore}. Each touches the keys of one account (one hash tag, so
 * one Cluster slot) or one sticky binding. Times are epoch milliseconds of the application clock, passed
 * in as decimal strings and compared with {@code tonumber} (exact below 2^53); Lua does no date
 * arithmetic, so the store's clock alone decides expiry. Key TTLs are relative ({@code PEXPIRE}) and carry
 * a margin, so clock skew between clients and server only delays garbage collection.
 */
final class SelectionScripts {
    private SelectionScripts() {}

    /**
     * The one script of an acquisition (decisions S4, S5 under "One-round-trip selection and new card
     * fields"). KEYS: slots, cooldowns, model cooldowns, RPM window, last-used (one account's hash tag, so
     * one Cluster slot). ARGV: token, concurrency, nowMs, expiryMs, marginMs, model ("" for none), rpmLimit
     * (0 for none), windowMs. Returns {2, until} when a cooldown applies (the account's, or the model's on
     * the account), {0, inFlight} when full, {3, until} when the RPM window is full (until: when its
     * oldest entry leaves it), {1, expiryMs, inFlight} when granted. A grant adds the token to the RPM
     * window (scored now; entries at or before now - window are dropped first, so the window is (now -
     * window, now] and never holds more than the limit) and moves last-used to now, never backwards. A
     * live slot already named {@code token} is granted again with the new expiry, before every check and
     * without a second RPM entry: the call is a repeat of one whose reply was lost.
     */
    static final LuaScript ACQUIRE = LuaScript.of("selectionAcquire", """
            local now = tonumber(ARGV[3])
            local mine = redis.call('ZSCORE', KEYS[1], ARGV[1])
            if not (mine and tonumber(mine) > now) then
              local latest = 0
              local c = redis.call('HVALS', KEYS[2])
              for i = 1, #c do
                local v = tonumber(c[i])
                if v and v > now and v > latest then latest = v end
              end
              if ARGV[6] ~= '' then
                local v = tonumber(redis.call('HGET', KEYS[3], ARGV[6]) or '0')
                if v and v > now and v > latest then latest = v end
              end
              if latest > 0 then return {2, latest} end
              redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
              local n = redis.call('ZCARD', KEYS[1])
              local conc = tonumber(ARGV[2])
              if conc > 0 and n >= conc then return {0, n} end
              local limit = tonumber(ARGV[7])
              if limit > 0 then
                local window = tonumber(ARGV[8])
                redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
                if redis.call('ZCARD', KEYS[4]) >= limit then
                  local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
                  return {3, tonumber(oldest[2]) + window}
                end
                redis.call('ZADD', KEYS[4], now, ARGV[1])
                redis.call('PEXPIRE', KEYS[4], window + tonumber(ARGV[5]))
              end
            end
            redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
            local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
            redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(top[2]) - now + tonumber(ARGV[5])))
            local used = redis.call('GET', KEYS[5])
            if not used or tonumber(used) < now then redis.call('SET', KEYS[5], ARGV[3]) end
            return {1, tonumber(ARGV[4]), redis.call('ZCARD', KEYS[1])}
            """);

    /**
     * The load read of select (decisions SEL13, SEL16, CD2, S5, SP2-2, SP4): KEYS: slots, queue, cooldowns,
     * model cooldowns, last-used, health, quota of each account in turn (7 per account), then optionally the
     * session's sticky key. ARGV: nowMs, "1" when the last key is the sticky key else "0", the request's model
     * ("" for none). Returns, per account, {inFlight, waiting, latest cooldown deadline after now or 0,
     * last-used ms or 0, health value or "", 5-hour quota "used resetMs" or "", 7-day quota or ""} (the
     * model's deadline on the account counts; the health as {@link #HEALTH} writes it; the caller drops quota
     * windows already reset), then with a sticky key its value ("" when unset).
     * Read-only. On standalone and
     * Sentinel one call carries every candidate (one command instead of four per account); on Cluster the
     * store calls it once per account (one hash tag, so one slot), all pipelined.
     */
    static final LuaScript LOADS = LuaScript.of("selectionLoads", """
            local now = tonumber(ARGV[1])
            local out = {}
            local last = #KEYS
            if ARGV[2] == '1' then last = last - 1 end
            for i = 1, last, 7 do
              local n = redis.call('ZCOUNT', KEYS[i], '(' .. ARGV[1], '+inf')
              local w = redis.call('ZCOUNT', KEYS[i + 1], '(' .. ARGV[1], '+inf')
              local latest = 0
              local c = redis.call('HVALS', KEYS[i + 2])
              for j = 1, #c do
                local v = tonumber(c[j])
                if v and v > now and v > latest then latest = v end
              end
              if ARGV[3] ~= '' then
                local v = tonumber(redis.call('HGET', KEYS[i + 3], ARGV[3]) or '0')
                if v and v > now and v > latest then latest = v end
              end
              out[#out + 1] = n
              out[#out + 1] = w
              out[#out + 1] = latest
              out[#out + 1] = tonumber(redis.call('GET', KEYS[i + 4]) or '0') or 0
              out[#out + 1] = redis.call('GET', KEYS[i + 5]) or ''
              local q = redis.call('HMGET', KEYS[i + 6], '5h', '7d')
              out[#out + 1] = q[1] or ''
              out[#out + 1] = q[2] or ''
            end
            if ARGV[2] == '1' then
              out[#out + 1] = redis.call('GET', KEYS[#KEYS]) or ''
            end
            return out
            """);

    /**
     * A quota report (decision SP4, the rule of {@code QuotaUsage.merge}). KEYS: quota. ARGV: nowMs,
     * marginMs, sameWindowMs, then used and resetMs of the 5-hour and of the 7-day window ("" for a window
     * not reported). A field holds "used resetMs". Fields already reset are dropped; a report whose reset is
     * not after now is ignored; one more than sameWindowMs before the held reset is an older window's and
     * ignored; within it, the same window keeps the higher used-% and the later reset; a later reset
     * replaces. Numbers are kept as the strings given (Lua would print large ones in exponent form). The key
     * lives until its latest reset plus the margin. Returns the two fields ("" when none).
     */
    static final LuaScript REPORT_QUOTA = LuaScript.of("selectionReportQuota", """
            local now = tonumber(ARGV[1])
            local same = tonumber(ARGV[3])
            local function merge(field, used, reset)
              local cur = redis.call('HGET', KEYS[1], field)
              local cu, cr, cus, crs
              if cur then
                local sp = string.find(cur, ' ', 1, true)
                cus = string.sub(cur, 1, sp - 1)
                crs = string.sub(cur, sp + 1)
                cu = tonumber(cus)
                cr = tonumber(crs)
                if not cu or not cr or cr <= now then
                  redis.call('HDEL', KEYS[1], field)
                  cur = nil
                end
              end
              if used == '' then return end
              local r = tonumber(reset)
              if r <= now then return end
              if not cur or r > cr + same then
                redis.call('HSET', KEYS[1], field, used .. ' ' .. reset)
              elseif r >= cr - same then
                local u = used
                if cu >= tonumber(used) then u = cus end
                local rs = reset
                if cr > r then rs = crs end
                redis.call('HSET', KEYS[1], field, u .. ' ' .. rs)
              end
            end
            merge('5h', ARGV[4], ARGV[5])
            merge('7d', ARGV[6], ARGV[7])
            local q = redis.call('HMGET', KEYS[1], '5h', '7d')
            local latest = 0
            for i = 1, 2 do
              if q[i] then
                local sp = string.find(q[i], ' ', 1, true)
                local x = tonumber(string.sub(q[i], sp + 1))
                if x > latest then latest = x end
              end
            end
            if latest > now then
              redis.call('PEXPIRE', KEYS[1], latest - now + tonumber(ARGV[2]))
            else
              redis.call('DEL', KEYS[1])
            end
            return {q[1] or '', q[2] or ''}
            """);

    /** KEYS: queue. ARGV: token, maxWaiting, nowMs, expiryMs, marginMs. Returns 1 when queued, 0 when full. */
    static final LuaScript ENQUEUE = LuaScript.of("selectionEnqueue", """
            local now = tonumber(ARGV[3])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
            if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
            redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
            local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
            redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(top[2]) - now + tonumber(ARGV[5])))
            return 1
            """);

    /** KEYS: slots. ARGV: token, nowMs, expiryMs, marginMs. Returns 1 when the live slot was extended. */
    static final LuaScript RENEW = LuaScript.of("selectionRenew", """
            local now = tonumber(ARGV[2])
            local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
            if not s or tonumber(s) <= now then return 0 end
            redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
            local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
            redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(top[2]) - now + tonumber(ARGV[4])))
            return 1
            """);

    /** KEYS: slots or queue. ARGV: token, nowMs. Removes the entry; returns 1 when it was live. */
    static final LuaScript RELEASE = LuaScript.of("selectionRelease", """
            local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
            if not s then return 0 end
            redis.call('ZREM', KEYS[1], ARGV[1])
            if tonumber(s) <= tonumber(ARGV[2]) then return 0 end
            return 1
            """);

    /**
     * KEYS: cooldowns. ARGV: field, untilMs, nowMs, marginMs. Keeps the later deadline of the field (Lua
     * max: a shorter report never shortens); returns the deadline in force as a decimal string.
     */
    static final LuaScript EXTEND_COOLDOWN = LuaScript.of("selectionExtendCooldown", """
            local cur = redis.call('HGET', KEYS[1], ARGV[1])
            local v = ARGV[2]
            if cur and tonumber(cur) >= tonumber(v) then
              v = cur
            else
              redis.call('HSET', KEYS[1], ARGV[1], v)
            end
            local latest = 0
            local all = redis.call('HVALS', KEYS[1])
            for i = 1, #all do
              local x = tonumber(all[i])
              if x and x > latest then latest = x end
            end
            local ttl = latest - tonumber(ARGV[3]) + tonumber(ARGV[4])
            if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
            return v
            """);

    /**
     * KEYS: model cooldowns. ARGV: model, untilMs, nowMs, marginMs. Drops the fields whose deadline has
     * passed (so the hash holds only models cooling now), keeps the later deadline of the model (a shorter
     * report never shortens), and lets the key live until its latest deadline plus the margin. Returns the
     * model's deadline in force as a decimal string.
     */
    static final LuaScript EXTEND_MODEL_COOLDOWN = LuaScript.of("selectionExtendModelCooldown", """
            local now = tonumber(ARGV[3])
            local all = redis.call('HGETALL', KEYS[1])
            local latest = 0
            for i = 1, #all, 2 do
              local x = tonumber(all[i + 1])
              if not x or x <= now then
                redis.call('HDEL', KEYS[1], all[i])
              elseif x > latest then
                latest = x
              end
            end
            local cur = redis.call('HGET', KEYS[1], ARGV[1])
            local v = ARGV[2]
            if cur and tonumber(cur) >= tonumber(v) then
              v = cur
            else
              redis.call('HSET', KEYS[1], ARGV[1], v)
            end
            if tonumber(v) > latest then latest = tonumber(v) end
            local ttl = latest - now + tonumber(ARGV[4])
            if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
            return v
            """);

    /**
     * KEYS: failure streaks. ARGV: streak, nowMs, windowMs, marginMs. A field holds "<count> <last failure
     * ms>"; the count goes up by one when the last failure is less than the window ago, else restarts at
     * 1. The key lives for the window (plus the margin) after its latest failure. Returns the new count.
     */
    static final LuaScript RECORD_FAILURE = LuaScript.of("selectionRecordFailure", """
            local now = tonumber(ARGV[2])
            local n = 1
            local cur = redis.call('HGET', KEYS[1], ARGV[1])
            if cur then
              local sp = string.find(cur, ' ', 1, true)
              if sp then
                local c = tonumber(string.sub(cur, 1, sp - 1))
                local last = tonumber(string.sub(cur, sp + 1))
                if c and last and now - last < tonumber(ARGV[3]) then n = c + 1 end
              end
            end
            redis.call('HSET', KEYS[1], ARGV[1], n .. ' ' .. ARGV[2])
            redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + tonumber(ARGV[4]))
            return n
            """);

    /**
     * One health report (decision SP2-1; the arithmetic of {@code AccountHealth.plus}). KEYS: health.
     * ARGV: failed ("1" or "0"), ttftMs (negative for none), nowMs, halfLifeMs, key TTL ms. The value is
     * "errorRate errorWeight ttftMs ttftWeight atMs"; both weights decay by 2^(-dt / halfLife) since atMs,
     * then the report joins with weight 1. One script, so concurrent reports of any number of instances
     * are applied one after the other and none is lost. Returns the new value.
     */
    static final LuaScript HEALTH = LuaScript.of("selectionHealth", """
            local now = tonumber(ARGV[3])
            local er, ew, tm, tw, at = 0, 0, 0, 0, 0
            local cur = redis.call('GET', KEYS[1])
            if cur then
              local f = {}
              for x in string.gmatch(cur, '%S+') do f[#f + 1] = tonumber(x) end
              if #f == 5 and f[1] and f[2] and f[3] and f[4] and f[5] then
                er, ew, tm, tw, at = f[1], f[2], f[3], f[4], f[5]
              end
            end
            local d = 1
            if now > at then d = 2 ^ (-(now - at) / tonumber(ARGV[4])) end
            ew = ew * d + 1
            er = er + (tonumber(ARGV[1]) - er) / ew
            if er < 0 then er = 0 elseif er > 1 then er = 1 end
            tw = tw * d
            local t = tonumber(ARGV[2])
            if t >= 0 then
              tw = tw + 1
              tm = tm + (t - tm) / tw
              if tm < 0 then tm = 0 end
            end
            if now > at then at = now end
            local v = string.format('%.17g %.17g %.17g %.17g %.0f', er, ew, tm, tw, at)
            redis.call('SET', KEYS[1], v, 'PX', ARGV[5])
            return v
            """);

    /**
     * Enters a binding in its account's index (decision SP2-4). KEYS: index. ARGV: member "<group>
     * <binding hash>", expiryMs, nowMs, marginMs. Drops entries whose binding has expired, so the index
     * holds about the account's live bindings; the key lives until its latest entry (plus the margin).
     */
    static final LuaScript INDEX_BINDING = LuaScript.of("selectionIndexBinding", """
            local now = tonumber(ARGV[3])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
            redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
            local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
            redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(top[2]) - now + tonumber(ARGV[4])))
            return 1
            """);

    /**
     * A binding and its index entry in one script, on standalone and Sentinel (one command, as the plain
     * {@code SET} before the index). KEYS: binding, index. ARGV: value, binding PX ms, member, expiryMs,
     * nowMs, marginMs. On Cluster the two keys live in different slots: {@code SET} and {@link
     * #INDEX_BINDING} are pipelined instead.
     */
    static final LuaScript BIND_STICKY = LuaScript.of("selectionBindSticky", """
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            local now = tonumber(ARGV[5])
            redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
            redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
            local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
            redis.call('PEXPIRE', KEYS[2], math.max(1, tonumber(top[2]) - now + tonumber(ARGV[6])))
            return 1
            """);

    /**
     * Takes the entries of an account's binding index for an operator's drop (decision SP2-4). KEYS:
     * index. ARGV: nowMs, member prefix ("" for all, "<group> " for one group). Removes and returns the
     * matching entries whose binding has not expired; expired entries are removed too.
     */
    static final LuaScript TAKE_BINDINGS = LuaScript.of("selectionTakeBindings", """
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
            local all = redis.call('ZRANGE', KEYS[1], 0, -1)
            local out = {}
            for i = 1, #all do
              if ARGV[2] == '' or string.sub(all[i], 1, #ARGV[2]) == ARGV[2] then
                out[#out + 1] = all[i]
                redis.call('ZREM', KEYS[1], all[i])
              end
            end
            return out
            """);

    /**
     * KEYS: binding. ARGV: value prefix {@code "<id> "}, nowMs. Deletes the binding if it points to that
     * account; returns 1 when it was also live (its expiry after now).
     */
    static final LuaScript DROP_BOUND = LuaScript.of("selectionDropBound", """
            local v = redis.call('GET', KEYS[1])
            if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then
              redis.call('DEL', KEYS[1])
              if tonumber(string.sub(v, #ARGV[1] + 1)) > tonumber(ARGV[2]) then return 1 end
            end
            return 0
            """);

    /** KEYS: binding. ARGV: value prefix {@code "<id> "}. Deletes the binding if it points to that account. */
    static final LuaScript DROP_STICKY = LuaScript.of("selectionDropSticky", """
            local v = redis.call('GET', KEYS[1])
            if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then
              redis.call('DEL', KEYS[1])
              return 1
            end
            return 0
            """);
}
