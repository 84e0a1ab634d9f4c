package dev.roster.redis;

import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.selection.AccountHealth;
import dev.roster.core.selection.AccountLoad;
import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.QuotaUsage;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.SelectionStore;
import dev.roster.core.selection.SlotAttempt;
import dev.roster.core.selection.SlotLease;
import dev.roster.core.selection.Tokens;
import dev.roster.core.selection.WaitTicket;
import io.lettuce.core.Range;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.resource.ClientResources;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The {@link SelectionStore} on Redis standalone, Sentinel or Cluster, shared by every gateway instance.
 *
 * <pre>
 * &lt;p&gt;{&lt;id&gt;}:slots    ZSET slot token → expiry (ms); the key's TTL follows the latest expiry
 * &lt;p&gt;{&lt;id&gt;}:wait     ZSET wait token → expiry (ms)
 * &lt;p&gt;{&lt;id&gt;}:cool     HASH rl | ol | tu → deadline (ms); only ever raised
 * &lt;p&gt;{&lt;id&gt;}:mcool    HASH model → deadline (ms) of a model the account refused; only ever raised,
 *                    passed deadlines dropped, the key lives until the latest one (plus the margin)
 * &lt;p&gt;{&lt;id&gt;}:fails    HASH streak → "&lt;count&gt; &lt;last failure ms&gt;" (cooldown escalation)
 * &lt;p&gt;{&lt;id&gt;}:rpm      ZSET slot token → grant time (ms): the acquisitions of the last 60 s (rpm_limit)
 * &lt;p&gt;{&lt;id&gt;}:lu       the projection's last-used value, moved by each grant (decision S5)
 * &lt;p&gt;{&lt;id&gt;}:health   "errorRate errorWeight ttftMs ttftWeight atMs": reported health (SP2-1)
 * &lt;p&gt;{&lt;id&gt;}:binds    ZSET "&lt;group&gt; &lt;h&gt;" → binding expiry (ms): the account's bindings (SP2-4)
 * &lt;p&gt;{&lt;id&gt;}:quota    HASH 5h | 7d → "&lt;used %&gt; &lt;reset ms&gt;" of the quota windows; lives until
 *                    the latest reset (plus the margin), a window is ignored once reset (decision SP4)
 * &lt;p&gt;{sticky:&lt;h&gt;}:sticky   "&lt;account id&gt; &lt;expiry ms&gt;", h = SHA-256 of the binding key (128 bits, hex)
 * </pre>
 *
 * Account keys share the projection's account tag, so every script touches one slot. Acquire, enqueue,
 * renew, release and cooldown extension are Lua scripts (atomic); {@link #read} (and {@link #loads}) is
 * one read-only script over every candidate and the session's binding on standalone and Sentinel, one
 * script per account pipelined with the binding's GET on Cluster: one round trip either way. Expiry is judged with the injected application clock (see {@link
 * SelectionScripts}). Failures are {@link ProjectionUnavailableException}s naming the operation and key.
 * Thread-safe.
 */
public final class RedisSelectionStore implements SelectionStore {
    /** How much longer than their latest entry keys live, so clock skew never drops a live entry. */
    static final long KEY_MARGIN_MS = 60_000;

    private final RedisConnector connector;
    private final boolean ownsConnector;
    private final String prefix;
    private final InstantSource clock;
    private final RedisClusterCommands<byte[], byte[]> redis;
    private final RedisCalls calls;
    private final RedisClusterAsyncCommands<byte[], byte[]> async;

    private RedisSelectionStore(RedisConnector connector, boolean owns, String keyPrefix, InstantSource clock) {
        this.connector = Objects.requireNonNull(connector, "connector");
        this.ownsConnector = owns;
        this.prefix = new RedisKeys(keyPrefix).prefix();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.redis = connector.sync();
        // A key of another type here is a bug or foreign data, like any other defect.
        this.calls = new RedisCalls(
                connector, (op, key, reply, e) -> new IllegalStateException(op + " " + key + " failed: " + reply, e));
        this.async = connector.async();
    }

    /**
     * A store over a connector the caller owns (and closes after this).
     *
     * @param keyPrefix the projection's key prefix (see {@link RedisKeys#RedisKeys(String)})
     * @param clock the application clock
     */
    public static RedisSelectionStore over(RedisConnector connector, String keyPrefix, InstantSource clock) {
        return new RedisSelectionStore(connector, false, keyPrefix, clock);
    }

    /** A store with its own connection (closed with it), on shared client resources the caller shuts down. */
    public static RedisSelectionStore connect(
            RedisConnectionOptions options, ClientResources resources, String keyPrefix, InstantSource clock) {
        RedisConnector c = RedisConnector.connect(options, resources);
        try {
            return new RedisSelectionStore(c, true, keyPrefix, clock);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    // ---- keys ------------------------------------------------------------------------------

    String slotsKey(long id) {
        return prefix + "{" + id + "}:slots";
    }

    String waitKey(long id) {
        return prefix + "{" + id + "}:wait";
    }

    String coolKey(long id) {
        return prefix + "{" + id + "}:cool";
    }

    String modelCoolKey(long id) {
        return prefix + "{" + id + "}:mcool";
    }

    String quotaKey(long id) {
        return prefix + "{" + id + "}:quota";
    }

    String failsKey(long id) {
        return prefix + "{" + id + "}:fails";
    }

    String stickyKey(String bindingKey) {
        return stickyKeyOfHash(stickyHash(bindingKey));
    }

    private String stickyKeyOfHash(String hash) {
        return prefix + "{sticky:" + hash + "}:sticky";
    }

    private static String stickyHash(String bindingKey) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(bindingKey.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    String healthKey(long id) {
        return prefix + "{" + id + "}:health";
    }

    String bindingsKey(long id) {
        return prefix + "{" + id + "}:binds";
    }

    private static String field(CooldownKind k) {
        return switch (k) {
            case RATE_LIMITED -> "rl";
            case OVERLOADED -> "ol";
            case TEMP_UNSCHEDULABLE -> "tu";
            case MODEL_UNSUPPORTED ->
                throw new IllegalArgumentException(
                        "a model's cooldown is per (account, model): use extendModelCooldown");
        };
    }

    // ---- slots -----------------------------------------------------------------------------

    String rpmKey(long id) {
        return prefix + "{" + id + "}:rpm";
    }

    String lastUsedKey(long id) {
        return prefix + "{" + id + "}:lu";
    }

    @Override
    public SlotAttempt tryAcquire(long accountId, @Nullable String model, int concurrency, Duration ttl, String token) {
        return tryAcquire(accountId, model, concurrency, 0, ttl, token);
    }

    @Override
    public boolean recordsLastUsed() {
        return true;
    }

    @Override
    public SlotAttempt tryAcquire(
            long accountId, @Nullable String model, int concurrency, int rpmLimit, Duration ttl, String token) {
        SelectionStore.requireAccount(accountId);
        if (rpmLimit < 0) {
            throw new IllegalArgumentException("rpm limit must not be negative, got " + rpmLimit);
        }
        String m = SelectRequest.requireModel(model);
        SelectionStore.requirePositive(ttl, "slot ttl");
        Tokens.require(token, "slot token");
        long now = clock.millis();
        long expiry = now + ttl.toMillis();
        List<Object> r = eval(
                SelectionScripts.ACQUIRE,
                ScriptOutputType.MULTI,
                keys(
                        slotsKey(accountId),
                        coolKey(accountId),
                        modelCoolKey(accountId),
                        rpmKey(accountId),
                        lastUsedKey(accountId)),
                bytes(token),
                bytes(Integer.toString(concurrency)),
                bytes(Long.toString(now)),
                bytes(Long.toString(expiry)),
                bytes(Long.toString(KEY_MARGIN_MS)),
                bytes(m == null ? "" : m),
                bytes(Integer.toString(rpmLimit)),
                bytes(Long.toString(RPM_WINDOW.toMillis())));
        long code = (Long) r.get(0);
        long value = (Long) r.get(1);
        if (code == 1) {
            return new SlotAttempt.Granted(
                    new SlotLease(accountId, token, Instant.ofEpochMilli(value)), (int) (long) (Long) r.get(2));
        }
        if (code == 2) {
            return new SlotAttempt.CoolingDown(Instant.ofEpochMilli(value));
        }
        if (code == 3) {
            return new SlotAttempt.RpmFull(Instant.ofEpochMilli(value));
        }
        return new SlotAttempt.Full((int) value);
    }

    @Override
    public boolean renew(SlotLease lease, Duration ttl) {
        Objects.requireNonNull(lease, "lease");
        SelectionStore.requirePositive(ttl, "slot ttl");
        long now = clock.millis();
        Long r = eval(
                SelectionScripts.RENEW,
                ScriptOutputType.INTEGER,
                keys(slotsKey(lease.accountId())),
                bytes(lease.token()),
                bytes(Long.toString(now)),
                bytes(Long.toString(now + ttl.toMillis())),
                bytes(Long.toString(KEY_MARGIN_MS)));
        return r == 1L;
    }

    @Override
    public boolean release(long accountId, String token) {
        SelectionStore.requireAccount(accountId);
        Tokens.require(token, "slot token");
        return remove(slotsKey(accountId), token);
    }

    @Override
    public Optional<WaitTicket> tryEnqueue(long accountId, int maxWaiting, Duration ttl) {
        SelectionStore.requireAccount(accountId);
        SelectionStore.requirePositive(ttl, "wait ttl");
        long now = clock.millis();
        long expiry = now + ttl.toMillis();
        String token = Tokens.random();
        Long r = eval(
                SelectionScripts.ENQUEUE,
                ScriptOutputType.INTEGER,
                keys(waitKey(accountId)),
                bytes(token),
                bytes(Integer.toString(maxWaiting)),
                bytes(Long.toString(now)),
                bytes(Long.toString(expiry)),
                bytes(Long.toString(KEY_MARGIN_MS)));
        return r == 1L ? Optional.of(new WaitTicket(accountId, token, Instant.ofEpochMilli(expiry))) : Optional.empty();
    }

    @Override
    public boolean leave(long accountId, String token) {
        SelectionStore.requireAccount(accountId);
        Tokens.require(token, "wait token");
        return remove(waitKey(accountId), token);
    }

    private boolean remove(String key, String token) {
        Long r = eval(
                SelectionScripts.RELEASE,
                ScriptOutputType.INTEGER,
                keys(key),
                bytes(token),
                bytes(Long.toString(clock.millis())));
        return r == 1L;
    }

    @Override
    public Map<Long, AccountLoad> loads(Collection<Long> accountIds) {
        return read(accountIds, null, null).loads();
    }

    @Override
    public Reading read(Collection<Long> accountIds, @Nullable String bindingKey, @Nullable String model) {
        String m = SelectRequest.requireModel(model);
        byte[] modelArg = bytes(m == null ? "" : m);
        long now = now();
        List<Long> ids = List.copyOf(accountIds);
        String sticky = null;
        if (bindingKey != null) {
            SelectionStore.requireBindingKey(bindingKey);
            sticky = stickyKey(bindingKey);
        }
        Map<Long, AccountLoad> out = new LinkedHashMap<>();
        byte[] nowArg = bytes(Long.toString(now));
        if (!connector.isCluster()) {
            if (ids.isEmpty() && sticky == null) {
                return new Reading(out, OptionalLong.empty(), Map.of());
            }
            // One read-only script over every candidate (and the binding): one command and one reply for
            // the whole batch, where three commands per account cost a command object, a future and a reply
            // each, and the binding another round trip (SEL13, SEL16).
            byte[][] ks = new byte[ids.size() * LOAD_KEYS + (sticky == null ? 0 : 1)][];
            for (int i = 0; i < ids.size(); i++) {
                long id = ids.get(i);
                ks[LOAD_KEYS * i] = bytes(slotsKey(id));
                ks[LOAD_KEYS * i + 1] = bytes(waitKey(id));
                ks[LOAD_KEYS * i + 2] = bytes(coolKey(id));
                ks[LOAD_KEYS * i + 3] = bytes(modelCoolKey(id));
                ks[LOAD_KEYS * i + 4] = bytes(lastUsedKey(id));
                ks[LOAD_KEYS * i + 5] = bytes(healthKey(id));
                ks[LOAD_KEYS * i + 6] = bytes(quotaKey(id));
            }
            if (sticky != null) {
                ks[ks.length - 1] = bytes(sticky);
            }
            List<Object> r = eval(
                    SelectionScripts.LOADS,
                    ScriptOutputType.MULTI,
                    ks,
                    nowArg,
                    bytes(sticky == null ? "0" : "1"),
                    modelArg);
            Map<Long, Instant> used = new LinkedHashMap<>();
            Map<Long, AccountHealth> health = new LinkedHashMap<>();
            for (int i = 0; i < ids.size(); i++) {
                out.put(ids.get(i), load(r, LOAD_FIELDS * i, now));
                lastUsed(used, ids.get(i), r, LOAD_FIELDS * i);
                health(health, ids.get(i), r, LOAD_FIELDS * i);
            }
            OptionalLong bound = OptionalLong.empty();
            if (sticky != null) {
                byte[] v = (byte[]) r.get(LOAD_FIELDS * ids.size());
                bound = binding(sticky, v.length == 0 ? null : v, now);
            }
            return new Reading(out, bound, used, health);
        }
        // Cluster: the accounts' keys and the binding live in different slots, so one script per account
        // and a GET of the binding, all in flight at once (one round trip per node).
        byte[] zero = bytes("0");
        Map<Long, Instant> used = new LinkedHashMap<>();
        Map<Long, AccountHealth> health = new LinkedHashMap<>();
        List<RedisFuture<List<Object>>> fs = new ArrayList<>(ids.size());
        for (long id : ids) {
            byte[][] ks = keys(
                    slotsKey(id),
                    waitKey(id),
                    coolKey(id),
                    modelCoolKey(id),
                    lastUsedKey(id),
                    healthKey(id),
                    quotaKey(id));
            fs.add(async.evalsha(SelectionScripts.LOADS.sha(), ScriptOutputType.MULTI, ks, nowArg, zero, modelArg));
        }
        RedisFuture<byte[]> stickyValue = sticky == null ? null : async.get(bytes(sticky));
        for (int i = 0; i < ids.size(); i++) {
            long id = ids.get(i);
            List<Object> r;
            try {
                r = await("EVALSHA selectionLoads", slotsKey(id), fs.get(i));
            } catch (RedisCalls.NoScript e) {
                r = eval(
                        SelectionScripts.LOADS,
                        ScriptOutputType.MULTI,
                        keys(
                                slotsKey(id),
                                waitKey(id),
                                coolKey(id),
                                modelCoolKey(id),
                                lastUsedKey(id),
                                healthKey(id),
                                quotaKey(id)),
                        nowArg,
                        zero,
                        modelArg);
            }
            out.put(id, load(r, 0, now));
            lastUsed(used, id, r, 0);
            health(health, id, r, 0);
        }
        OptionalLong bound = sticky == null
                ? OptionalLong.empty()
                : binding(sticky, await("GET", sticky, Objects.requireNonNull(stickyValue, "issued with sticky")), now);
        return new Reading(out, bound, used, health);
    }

    private void health(Map<Long, AccountHealth> into, long id, List<Object> r, int at) {
        byte[] v = (byte[]) r.get(at + 4);
        if (v.length > 0) {
            into.put(id, parseHealth(healthKey(id), str(v)));
        }
    }

    private static AccountHealth parseHealth(String key, String v) {
        String[] f = v.split(" ", -1);
        try {
            if (f.length == 5) {
                return new AccountHealth(
                        Double.parseDouble(f[0]),
                        Double.parseDouble(f[1]),
                        Double.parseDouble(f[2]),
                        Double.parseDouble(f[3]),
                        Instant.ofEpochMilli(Long.parseLong(f[4])));
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(key + " holds '" + v + "', expected five health numbers", e);
        }
        throw new IllegalStateException(key + " holds '" + v + "', expected five health numbers");
    }

    // ---- health ----------------------------------------------------------------------------

    @Override
    public AccountHealth recordHealth(long accountId, boolean failed, @Nullable Duration ttft, Duration halfLife) {
        SelectionStore.requireAccount(accountId);
        SelectionStore.requireTtft(ttft);
        SelectionStore.requirePositive(halfLife, "health half-life");
        String key = healthKey(accountId);
        // Twenty half-lives: the weight is then below one millionth, nothing a threshold could count.
        long ttl = Math.multiplyExact(halfLife.toMillis(), 20) + KEY_MARGIN_MS;
        byte[] r = eval(
                SelectionScripts.HEALTH,
                ScriptOutputType.VALUE,
                keys(key),
                bytes(failed ? "1" : "0"),
                bytes(ttft == null ? "-1" : Long.toString(ttft.toMillis())),
                bytes(Long.toString(clock.millis())),
                bytes(Long.toString(halfLife.toMillis())),
                bytes(Long.toString(ttl)));
        return parseHealth(key, str(r));
    }

    private static void lastUsed(Map<Long, Instant> into, long id, List<Object> r, int at) {
        long ms = (Long) r.get(at + 3);
        if (ms > 0) {
            into.put(id, Instant.ofEpochMilli(ms));
        }
    }

    /** The keys the load script reads per account. */
    private static final int LOAD_KEYS = 7;

    /** The values the load script returns per account. */
    private static final int LOAD_FIELDS = 7;

    private AccountLoad load(List<Object> r, int at, long now) {
        int inFlight = (int) (long) (Long) r.get(at);
        int waiting = (int) (long) (Long) r.get(at + 1);
        long until = (Long) r.get(at + 2);
        QuotaUsage quota = new QuotaUsage(window((byte[]) r.get(at + 5)), window((byte[]) r.get(at + 6)))
                .live(Instant.ofEpochMilli(now));
        return new AccountLoad(inFlight, waiting, until > 0 ? Instant.ofEpochMilli(until) : null, quota);
    }

    /** A quota field "used resetMs" as the scripts store it, or {@code null} for "". */
    private static QuotaUsage.@Nullable Window window(byte[] v) {
        if (v.length == 0) {
            return null;
        }
        String s = str(v);
        int sp = s.indexOf(' ');
        try {
            return new QuotaUsage.Window(
                    Double.parseDouble(s.substring(0, sp)), Instant.ofEpochMilli(Long.parseLong(s.substring(sp + 1))));
        } catch (RuntimeException e) {
            throw new IllegalStateException("a quota field holds '" + s + "', expected '<used %> <reset ms>'", e);
        }
    }

    // ---- quota -----------------------------------------------------------------------------

    @Override
    public QuotaUsage reportQuota(long accountId, QuotaUsage report) {
        SelectionStore.requireAccount(accountId);
        Objects.requireNonNull(report, "report");
        QuotaUsage.Window f = report.fiveHour();
        QuotaUsage.Window d = report.sevenDay();
        List<Object> r = eval(
                SelectionScripts.REPORT_QUOTA,
                ScriptOutputType.MULTI,
                keys(quotaKey(accountId)),
                bytes(Long.toString(clock.millis())),
                bytes(Long.toString(KEY_MARGIN_MS)),
                bytes(Long.toString(QuotaUsage.SAME_WINDOW.toMillis())),
                bytes(f == null ? "" : percent(f.usedPercent())),
                bytes(f == null ? "" : Long.toString(f.resetAt().toEpochMilli())),
                bytes(d == null ? "" : percent(d.usedPercent())),
                bytes(d == null ? "" : Long.toString(d.resetAt().toEpochMilli())));
        return new QuotaUsage(window((byte[]) r.get(0)), window((byte[]) r.get(1))).live(clock.instant());
    }

    /** A used-% in plain decimal notation (0..100, validated by the window), never in exponent form. */
    private static String percent(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    // ---- cooldowns -------------------------------------------------------------------------

    @Override
    public Instant extendCooldown(long accountId, CooldownKind kind, Instant until) {
        SelectionStore.requireAccount(accountId);
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(until, "until");
        byte[] r = eval(
                SelectionScripts.EXTEND_COOLDOWN,
                ScriptOutputType.VALUE,
                keys(coolKey(accountId)),
                bytes(field(kind)),
                bytes(Long.toString(until.toEpochMilli())),
                bytes(Long.toString(clock.millis())),
                bytes(Long.toString(KEY_MARGIN_MS)));
        return Instant.ofEpochMilli(parse(coolKey(accountId), r));
    }

    @Override
    public Instant extendModelCooldown(long accountId, String model, Instant until) {
        SelectionStore.requireAccount(accountId);
        String m = Objects.requireNonNull(SelectRequest.requireModel(model), "model");
        Objects.requireNonNull(until, "until");
        String key = modelCoolKey(accountId);
        byte[] r = eval(
                SelectionScripts.EXTEND_MODEL_COOLDOWN,
                ScriptOutputType.VALUE,
                keys(key),
                bytes(m),
                bytes(Long.toString(until.toEpochMilli())),
                bytes(Long.toString(clock.millis())),
                bytes(Long.toString(KEY_MARGIN_MS)));
        return Instant.ofEpochMilli(parse(key, r));
    }

    // ---- failure streaks -------------------------------------------------------------------

    @Override
    public int recordFailure(long accountId, String streak, Duration window) {
        SelectionStore.requireAccount(accountId);
        SelectionStore.requireStreak(streak);
        SelectionStore.requirePositive(window, "streak window");
        Long n = eval(
                SelectionScripts.RECORD_FAILURE,
                ScriptOutputType.INTEGER,
                keys(failsKey(accountId)),
                bytes(streak),
                bytes(Long.toString(clock.millis())),
                bytes(Long.toString(window.toMillis())),
                bytes(Long.toString(KEY_MARGIN_MS)));
        return (int) Math.min(Integer.MAX_VALUE, n);
    }

    @Override
    public void clearFailures(long accountId, Collection<String> streaks) {
        SelectionStore.requireAccount(accountId);
        if (streaks.isEmpty()) {
            return;
        }
        byte[][] fields = new byte[streaks.size()][];
        int i = 0;
        for (String s : streaks) {
            fields[i++] = bytes(SelectionStore.requireStreak(s));
        }
        String key = failsKey(accountId);
        call("HDEL", key, () -> redis.hdel(bytes(key), fields));
    }

    // ---- sticky ----------------------------------------------------------------------------

    @Override
    public OptionalLong sticky(String bindingKey) {
        SelectionStore.requireBindingKey(bindingKey);
        String key = stickyKey(bindingKey);
        byte[] v = call("GET", key, () -> redis.get(bytes(key)));
        return binding(key, v, now());
    }

    /** A binding value "<account id> <expiry ms>", live or not at {@code now}; empty for {@code null}. */
    private static OptionalLong binding(String key, byte @Nullable [] v, long now) {
        if (v == null) {
            return OptionalLong.empty();
        }
        String[] parts = str(v).split(" ", 2);
        if (parts.length != 2) {
            throw new IllegalStateException(key + " holds '" + str(v) + "', expected '<account id> <expiry ms>'");
        }
        long id = parse(key, bytes(parts[0]));
        long expiry = parse(key, bytes(parts[1]));
        return expiry > now ? OptionalLong.of(id) : OptionalLong.empty();
    }

    private long now() {
        return clock.millis();
    }

    @Override
    public void bindSticky(String bindingKey, long groupId, long accountId, Duration ttl) {
        SelectionStore.requireBindingKey(bindingKey);
        SelectionStore.requireGroup(groupId);
        SelectionStore.requireAccount(accountId);
        SelectionStore.requirePositive(ttl, "sticky ttl");
        String hash = stickyHash(bindingKey);
        String key = stickyKeyOfHash(hash);
        String index = bindingsKey(accountId);
        long now = clock.millis();
        long expiry = now + ttl.toMillis();
        byte[] value = bytes(accountId + " " + expiry);
        byte[] member = bytes(groupId + " " + hash);
        if (!connector.isCluster()) {
            // One script for the binding and its index entry: as many commands as the plain SET.
            eval(
                    SelectionScripts.BIND_STICKY,
                    ScriptOutputType.INTEGER,
                    keys(key, index),
                    value,
                    bytes(Long.toString(ttl.toMillis() + KEY_MARGIN_MS)),
                    member,
                    bytes(Long.toString(expiry)),
                    bytes(Long.toString(now)),
                    bytes(Long.toString(KEY_MARGIN_MS)));
            return;
        }
        // Cluster: two slots, two commands in flight at once (one round trip).
        RedisFuture<String> set = async.set(bytes(key), value, SetArgs.Builder.px(ttl.toMillis() + KEY_MARGIN_MS));
        byte[][] iks = keys(index);
        byte[][] args = {
            member, bytes(Long.toString(expiry)), bytes(Long.toString(now)), bytes(Long.toString(KEY_MARGIN_MS))
        };
        RedisFuture<Long> indexed =
                async.evalsha(SelectionScripts.INDEX_BINDING.sha(), ScriptOutputType.INTEGER, iks, args);
        await("SET", key, set);
        try {
            await("EVALSHA selectionIndexBinding", index, indexed);
        } catch (RedisCalls.NoScript e) {
            eval(SelectionScripts.INDEX_BINDING, ScriptOutputType.INTEGER, iks, args);
        }
    }

    @Override
    public int dropStickyBindings(long accountId) {
        return takeAndDrop(SelectionStore.requireAccount(accountId), "");
    }

    @Override
    public int dropStickyBindings(long accountId, long groupId) {
        SelectionStore.requireAccount(accountId);
        return takeAndDrop(accountId, SelectionStore.requireGroup(groupId) + " ");
    }

    /**
     * Takes the account's index entries starting with {@code memberPrefix} and drops each binding that
     * still points to the account, all in flight at once (each binding has its own slot on Cluster).
     */
    private int takeAndDrop(long accountId, String memberPrefix) {
        String index = bindingsKey(accountId);
        byte[] nowArg = bytes(Long.toString(clock.millis()));
        List<Object> members =
                eval(SelectionScripts.TAKE_BINDINGS, ScriptOutputType.MULTI, keys(index), nowArg, bytes(memberPrefix));
        byte[] owner = bytes(accountId + " ");
        List<String> ks = new ArrayList<>(members.size());
        List<RedisFuture<Long>> fs = new ArrayList<>(members.size());
        for (Object m : members) {
            String member = str((byte[]) m);
            String key = stickyKeyOfHash(member.substring(member.indexOf(' ') + 1));
            ks.add(key);
            fs.add(async.evalsha(
                    SelectionScripts.DROP_BOUND.sha(), ScriptOutputType.INTEGER, keys(key), owner, nowArg));
        }
        int dropped = 0;
        for (int i = 0; i < ks.size(); i++) {
            Long r;
            try {
                r = await("EVALSHA selectionDropBound", ks.get(i), fs.get(i));
            } catch (RedisCalls.NoScript e) {
                r = eval(SelectionScripts.DROP_BOUND, ScriptOutputType.INTEGER, keys(ks.get(i)), owner, nowArg);
            }
            dropped += r == 1L ? 1 : 0;
        }
        return dropped;
    }

    @Override
    public boolean dropSticky(String bindingKey, long accountId) {
        SelectionStore.requireBindingKey(bindingKey);
        Long r = eval(
                SelectionScripts.DROP_STICKY,
                ScriptOutputType.INTEGER,
                keys(stickyKey(bindingKey)),
                bytes(accountId + " "));
        return r == 1L;
    }

    // ---- sweep -----------------------------------------------------------------------------

    @Override
    public int sweep(Collection<Long> accountIds) {
        Range<Number> expired = Range.from(Range.Boundary.unbounded(), Range.Boundary.including(clock.millis()));
        List<String> ks = new ArrayList<>();
        for (long id : accountIds) {
            ks.add(slotsKey(id));
            ks.add(waitKey(id));
        }
        List<RedisFuture<Long>> fs = new ArrayList<>(ks.size());
        for (String k : ks) {
            fs.add(async.zremrangebyscore(bytes(k), expired));
        }
        long n = 0;
        for (int i = 0; i < ks.size(); i++) {
            n += await("ZREMRANGEBYSCORE", ks.get(i), fs.get(i));
        }
        return (int) Math.min(Integer.MAX_VALUE, n);
    }

    @Override
    public void close() {
        if (ownsConnector) {
            connector.close();
        }
    }

    // ---- plumbing --------------------------------------------------------------------------

    // The caller names the reply type its script returns, as Lettuce's own eval does.
    @SuppressWarnings("TypeParameterUnusedInFormals")
    private <T> T eval(LuaScript script, ScriptOutputType type, byte[][] ks, byte[]... args) {
        return calls.eval(script, type, ks, args);
    }

    private <T> T call(String op, String key, Supplier<T> command) {
        return calls.call(op, key, command);
    }

    private <T> T await(String op, String key, RedisFuture<T> future) {
        return calls.await(op, key, future);
    }

    private static long parse(String key, byte[] v) {
        try {
            return Long.parseLong(str(v));
        } catch (NumberFormatException e) {
            throw new IllegalStateException(key + " holds '" + str(v) + "', expected epoch milliseconds", e);
        }
    }

    private static byte[][] keys(String... ks) {
        byte[][] out = new byte[ks.length][];
        for (int i = 0; i < ks.length; i++) {
            out[i] = bytes(ks[i]);
        }
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
