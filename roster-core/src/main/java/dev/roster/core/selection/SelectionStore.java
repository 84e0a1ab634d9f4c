package dev.roster.core.selection;

import dev.roster.core.projection.ProjectionUnavailableException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * The state selection shares between gateway instances: per-account concurrency slots and wait tickets
 * (leases that expire if their holder dies), per-account cooldown deadlines that only move forward, and
 * sticky session bindings with a TTL.
 *
 * <p><b>Time.</b> Expiry is judged with the store's clock (the application clock, the same one the
 * time filter uses), so a fake clock drives it in tests. A slot or ticket is live while its expiry is
 * after now; a cooldown applies while its deadline is after now.
 *
 * <p><b>Atomicity.</b> {@link #tryAcquire} and {@link #tryEnqueue} are atomic per account across every
 * client of the same store: live slots never exceed the concurrency given, live tickets never exceed the
 * queue limit given. {@link #tryAcquire} also refuses an account inside a cooldown, so a cooldown written
 * by any client is honoured by every later acquisition. Releases are idempotent.
 *
 * <p><b>Errors.</b> Every method may throw {@link ProjectionUnavailableException} when the store cannot be
 * reached; nothing is then known about a write (it may have been applied with only its reply lost), so
 * every write is safe to repeat: {@link #tryAcquire} with the same token, releases, renewals and
 * cooldown extensions. Bad arguments throw {@link IllegalArgumentException} naming the argument before
 * anything is written.
 *
 * <p>Implementations are thread-safe.
 */
public interface SelectionStore extends AutoCloseable {

    /**
     * Takes a slot named {@code token} on the account if fewer than {@code concurrency} live slots are
     * held and no cooldown applies; expired slots are cleaned first. A {@code concurrency} of 0 or less
     * means unlimited (the slot is still counted).
     *
     * <p><b>Idempotent per token.</b> When a live slot named {@code token} is already held on the account,
     * the call succeeds without taking a second slot: the slot's expiry is moved to {@code ttl} from now
     * and it is {@link SlotAttempt.Granted granted} again, whatever the concurrency or a cooldown written
     * since. So a caller whose acquisition failed with {@link ProjectionUnavailableException} (the store may
     * have taken the slot and lost only the reply) repeats it with the same token and learns the truth:
     * granted means the slot is held once, full or cooling down means the first call took nothing. A caller
     * that gives up instead {@link #release releases} the token, which frees the slot if the lost call took
     * it. Tokens are chosen by the caller, fresh for every acquisition ({@link Tokens#random()}); reusing a
     * token of another acquisition would merge the two into one slot.
     *
     * @param ttl how long the slot lives without a {@link #renew}; positive
     * @param token the slot's name, 32 lower-case hex digits ({@link Tokens#require})
     */
    default SlotAttempt tryAcquire(long accountId, int concurrency, Duration ttl, String token) {
        return tryAcquire(accountId, null, concurrency, ttl, token);
    }

    /**
     * {@link #tryAcquire(long, int, Duration, String)} for a request of {@code model}: also refused
     * (atomically, {@link SlotAttempt.CoolingDown}) while that model cools down on the account ({@link
     * #extendModelCooldown}); the later of the account's and the model's deadlines is reported.
     *
     * @param model the request's model ({@link SelectRequest#requireModel}), or {@code null} for none
     */
    SlotAttempt tryAcquire(long accountId, @Nullable String model, int concurrency, Duration ttl, String token);

    /** The length of the sliding window of {@code rpm_limit}. */
    Duration RPM_WINDOW = Duration.ofMinutes(1);

    /**
     * {@link #tryAcquire(long, String, int, Duration, String)} that also enforces the account's
     * requests-per-minute limit in the same atomic step: refused ({@link SlotAttempt.RpmFull}) when the
     * acquisitions granted in the last {@link #RPM_WINDOW} (the store's clock; the window is {@code (now -
     * 60 s, now]}) already number {@code rpmLimit}; a grant counts in the window. A repeat with the same
     * token counts once. Checked after the cooldowns and the concurrency. Stores that also keep last-used
     * ({@link #recordsLastUsed()}) move the account's last-used to now with a grant, in the same step.
     *
     * @param rpmLimit the limit, 0 for none
     */
    default SlotAttempt tryAcquire(
            long accountId, @Nullable String model, int concurrency, int rpmLimit, Duration ttl, String token) {
        if (rpmLimit > 0) {
            throw new UnsupportedOperationException(getClass().getName() + " does not enforce an RPM limit");
        }
        return tryAcquire(accountId, model, concurrency, ttl, token);
    }

    /**
     * Whether a grant of {@link #tryAcquire(long, String, int, int, Duration, String)} also moves the
     * account's shared last-used (so the selector moves only its local copy) and {@link #read} reports
     * last-used ({@link Reading#lastUsed}). Default {@code false}.
     */
    default boolean recordsLastUsed() {
        return false;
    }

    /**
     * {@link #tryAcquire(long, int, Duration, String)} with a fresh random token: for callers that do not
     * retry a failed acquisition.
     */
    default SlotAttempt tryAcquire(long accountId, int concurrency, Duration ttl) {
        return tryAcquire(accountId, concurrency, ttl, Tokens.random());
    }

    /**
     * Extends a live slot to {@code ttl} from now.
     *
     * @return whether the slot was still live (and is now extended); {@code false} means it expired or
     *     was released
     */
    boolean renew(SlotLease lease, Duration ttl);

    /**
     * Frees a slot. Idempotent.
     *
     * @return whether it was held until now (live); {@code false} when it was released or had expired
     */
    boolean release(long accountId, String token);

    /**
     * Takes a wait ticket on the account if fewer than {@code maxWaiting} live tickets are held.
     *
     * @param ttl how long the ticket lives (the wait timeout); positive
     * @return the ticket, or empty when the queue is full
     */
    Optional<WaitTicket> tryEnqueue(long accountId, int maxWaiting, Duration ttl);

    /** Hands a wait ticket back. Idempotent; returns whether it was live. */
    boolean leave(long accountId, String token);

    /**
     * The shared state of several accounts, read in one batch. The map has an entry for every requested
     * id ({@link AccountLoad#IDLE} for an account nobody touched).
     */
    Map<Long, AccountLoad> loads(Collection<Long> accountIds);

    /**
     * What one select reads before it acquires: the candidates' loads and, when {@code bindingKey} is not
     * {@code null}, the session's binding. A store may fetch both in one round trip (decision SEL16); the
     * default reads them one after the other.
     *
     * @param bindingKey the session's binding key, or {@code null} for a request without a session
     */
    default Reading read(Collection<Long> accountIds, @Nullable String bindingKey) {
        return read(accountIds, bindingKey, null);
    }

    /**
     * {@link #read(Collection, String)} for a request of {@code model}: each load's {@link
     * AccountLoad#coolingUntil} is the latest of the account's cooldowns and that model's cooldown on the
     * account.
     *
     * @param model the request's model, or {@code null} for none (then as {@link #read(Collection, String)})
     */
    Reading read(Collection<Long> accountIds, @Nullable String bindingKey, @Nullable String model);

    /**
     * The result of {@link #read}.
     *
     * @param loads as {@link #loads}
     * @param sticky as {@link #sticky}; empty without a binding key
     * @param lastUsed the shared last-used of the accounts that have one, read in the same step, or {@code
     *     null} when the store does not keep last-used ({@link #recordsLastUsed()})
     * @param health the reported health ({@link #recordHealth}) of the accounts that have one, read in the
     *     same step (decision SP2-2); accounts without an entry have {@link AccountHealth#NONE}
     */
    record Reading(
            Map<Long, AccountLoad> loads,
            OptionalLong sticky,
            @Nullable Map<Long, Instant> lastUsed,
            Map<Long, AccountHealth> health) {
        /** A reading without health. */
        public Reading(Map<Long, AccountLoad> loads, OptionalLong sticky, @Nullable Map<Long, Instant> lastUsed) {
            this(loads, sticky, lastUsed, Map.of());
        }

        /** A reading without last-used and health. */
        public Reading(Map<Long, AccountLoad> loads, OptionalLong sticky) {
            this(loads, sticky, null);
        }
    }

    /**
     * Adds one report to the account's health ({@link AccountHealth#plus}), atomically across clients: of
     * concurrent reports from any number of instances none is lost. The health is read back with the
     * loads ({@link Reading#health}); it lives about twenty half-lives after its last report (its weight
     * is then below one millionth), no longer.
     *
     * @param failed whether the upstream call failed
     * @param ttft its time-to-first-token, or {@code null} when not reported; not negative
     * @param halfLife the age at which a report weighs half; positive
     * @return the health with this report
     */
    AccountHealth recordHealth(long accountId, boolean failed, @Nullable Duration ttft, Duration halfLife);

    /**
     * Drops every live binding that points to the account (an operator's action, decision SP2-4): found
     * through a per-account index of bindings kept by {@link #bindSticky(String, long, long, Duration)}, so
     * the cost is the account's bindings, never the keyspace. A binding re-bound to another account since
     * is left alone.
     *
     * @return how many bindings were dropped
     */
    int dropStickyBindings(long accountId);

    /**
     * {@link #dropStickyBindings(long)} for the bindings the account holds in group {@code groupId} (the
     * {@code groupId} given to {@link #bindSticky(String, long, long, Duration)}).
     *
     * @return how many bindings were dropped
     */
    int dropStickyBindings(long accountId, long groupId);

    /**
     * Moves the account's {@code kind} deadline to {@code until} unless the stored one is later.
     *
     * @return the deadline now stored (the later of the two)
     */
    Instant extendCooldown(long accountId, CooldownKind kind, Instant until);

    /**
     * Moves the deadline of {@code model} on the account to {@code until} unless the stored one is later:
     * until then {@link #tryAcquire(long, String, int, Duration, String)} and {@link #read(Collection,
     * String, String)} treat the account as cooling down for that model only. The entry lives for its
     * deadline (plus a margin), no longer.
     *
     * @return the deadline now stored (the later of the two)
     */
    Instant extendModelCooldown(long accountId, String model, Instant until);

    /**
     * Stores a quota report of the account, merged with the state held by {@link QuotaUsage#merge}
     * (atomically across clients): a window whose reset is at or before now is ignored, an older
     * window's report never replaces a newer one's, and each window is forgotten at its reset. The state
     * is returned with the loads ({@link AccountLoad#quota}) by {@link #read} and {@link #loads}, in the
     * same read (decision SP4).
     *
     * @return the state now held (windows not yet reset)
     */
    default QuotaUsage reportQuota(long accountId, QuotaUsage report) {
        throw new UnsupportedOperationException(getClass().getName() + " does not keep quota reports");
    }

    /**
     * Counts one more failure in the account's streak {@code streak} (e.g. {@code "rate_limited"} or
     * {@code "model:<name>"}), atomically across clients: the count goes up by one when the previous
     * failure of that streak was less than {@code window} ago, else it starts again at 1.
     *
     * @param window how long after its last failure a streak still counts; positive
     * @return the streak's length with this failure (1 for the first)
     */
    int recordFailure(long accountId, String streak, Duration window);

    /** Ends the account's streaks named in {@code streaks} (a success); idempotent. */
    void clearFailures(long accountId, Collection<String> streaks);

    /** The account a session is bound to, if the binding is live. */
    OptionalLong sticky(String bindingKey);

    /** {@link #bindSticky(String, long, long, Duration)} in group 0. */
    default void bindSticky(String bindingKey, long accountId, Duration ttl) {
        bindSticky(bindingKey, 0, accountId, ttl);
    }

    /**
     * Binds (or re-binds) a session to an account for {@code ttl} from now; also the refresh on use. The
     * binding is also entered in the account's index of bindings (with its group), so an operator can drop
     * the bindings of an account or of a group without scanning ({@link #dropStickyBindings(long, long)}).
     *
     * @param groupId the group the session's bucket belongs to, {@code >= 0}
     */
    void bindSticky(String bindingKey, long groupId, long accountId, Duration ttl);

    /**
     * Removes a binding if it still points to {@code accountId} (another instance may have re-bound the
     * session meanwhile).
     *
     * @return whether the binding was removed
     */
    boolean dropSticky(String bindingKey, long accountId);

    /**
     * Deletes expired slots and wait tickets of the given accounts (housekeeping: counts already ignore
     * expired entries).
     *
     * @return how many entries were deleted
     */
    int sweep(Collection<Long> accountIds);

    /** Releases the resources this client owns. */
    @Override
    void close();

    /**
     * Checks a duration argument.
     *
     * @throws IllegalArgumentException naming {@code what} unless {@code d} is positive
     */
    static Duration requirePositive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be a positive duration, got " + d);
        }
        return d;
    }

    /**
     * Checks an account id argument.
     *
     * @throws IllegalArgumentException unless {@code id > 0}
     */
    static long requireAccount(long id) {
        if (id <= 0) {
            throw new IllegalArgumentException("account id must be > 0, got " + id);
        }
        return id;
    }

    /**
     * Checks a group id argument.
     *
     * @throws IllegalArgumentException unless {@code id >= 0}
     */
    static long requireGroup(long id) {
        if (id < 0) {
            throw new IllegalArgumentException("group id must be >= 0, got " + id);
        }
        return id;
    }

    /**
     * Checks a time-to-first-token argument.
     *
     * @throws IllegalArgumentException when it is negative or longer than a day
     */
    static @Nullable Duration requireTtft(@Nullable Duration ttft) {
        if (ttft != null && (ttft.isNegative() || ttft.compareTo(Duration.ofDays(1)) > 0)) {
            throw new IllegalArgumentException("ttft must be between 0 and 24h, got " + ttft);
        }
        return ttft;
    }

    /**
     * Checks a failure streak name.
     *
     * @throws IllegalArgumentException when it is null, empty or longer than 200 characters
     */
    static String requireStreak(String streak) {
        if (streak == null || streak.isEmpty() || streak.length() > 200) {
            throw new IllegalArgumentException("failure streak name must be 1..200 characters, got " + streak);
        }
        return streak;
    }

    /**
     * Checks a sticky binding key.
     *
     * @throws IllegalArgumentException when it is null or empty
     */
    static String requireBindingKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("sticky binding key must not be empty");
        }
        return key;
    }
}
