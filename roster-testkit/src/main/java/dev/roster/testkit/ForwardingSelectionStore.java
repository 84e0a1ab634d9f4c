package dev.roster.testkit;

import dev.roster.core.selection.AccountHealth;
import dev.roster.core.selection.AccountLoad;
import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.SelectionStore;
import dev.roster.core.selection.SlotAttempt;
import dev.roster.core.selection.SlotLease;
import dev.roster.core.selection.WaitTicket;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * A {@link SelectionStore} that forwards every call to another one. Tests extend it and override only
 * the calls they intercept (a fault at one acquisition), so a decorator states its one difference
 * instead of restating the whole port.
 */
public abstract class ForwardingSelectionStore implements SelectionStore {
    /** The store every call goes to. */
    protected final SelectionStore delegate;

    protected ForwardingSelectionStore(SelectionStore delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    @Override
    public SlotAttempt tryAcquire(long accountId, @Nullable String model, int concurrency, Duration ttl, String token) {
        return delegate.tryAcquire(accountId, model, concurrency, ttl, token);
    }

    @Override
    public SlotAttempt tryAcquire(
            long accountId, @Nullable String model, int concurrency, int rpmLimit, Duration ttl, String token) {
        // Without a limit through the five-argument form, so a subclass that intercepts that one sees
        // every acquisition of a card without rpm_limit.
        return rpmLimit == 0
                ? tryAcquire(accountId, model, concurrency, ttl, token)
                : delegate.tryAcquire(accountId, model, concurrency, rpmLimit, ttl, token);
    }

    @Override
    public boolean recordsLastUsed() {
        return delegate.recordsLastUsed();
    }

    @Override
    public boolean renew(SlotLease lease, Duration ttl) {
        return delegate.renew(lease, ttl);
    }

    @Override
    public boolean release(long accountId, String token) {
        return delegate.release(accountId, token);
    }

    @Override
    public Optional<WaitTicket> tryEnqueue(long accountId, int maxWaiting, Duration ttl) {
        return delegate.tryEnqueue(accountId, maxWaiting, ttl);
    }

    @Override
    public boolean leave(long accountId, String token) {
        return delegate.leave(accountId, token);
    }

    @Override
    public Map<Long, AccountLoad> loads(Collection<Long> accountIds) {
        return delegate.loads(accountIds);
    }

    @Override
    public Reading read(Collection<Long> accountIds, @Nullable String bindingKey, @Nullable String model) {
        return delegate.read(accountIds, bindingKey, model);
    }

    @Override
    public Instant extendCooldown(long accountId, CooldownKind kind, Instant until) {
        return delegate.extendCooldown(accountId, kind, until);
    }

    @Override
    public Instant extendModelCooldown(long accountId, String model, Instant until) {
        return delegate.extendModelCooldown(accountId, model, until);
    }

    @Override
    public dev.roster.core.selection.QuotaUsage reportQuota(
            long accountId, dev.roster.core.selection.QuotaUsage report) {
        return delegate.reportQuota(accountId, report);
    }

    @Override
    public int recordFailure(long accountId, String streak, Duration window) {
        return delegate.recordFailure(accountId, streak, window);
    }

    @Override
    public void clearFailures(long accountId, Collection<String> streaks) {
        delegate.clearFailures(accountId, streaks);
    }

    @Override
    public OptionalLong sticky(String bindingKey) {
        return delegate.sticky(bindingKey);
    }

    @Override
    public void bindSticky(String bindingKey, long groupId, long accountId, Duration ttl) {
        delegate.bindSticky(bindingKey, groupId, accountId, ttl);
    }

    @Override
    public AccountHealth recordHealth(long accountId, boolean failed, @Nullable Duration ttft, Duration halfLife) {
        return delegate.recordHealth(accountId, failed, ttft, halfLife);
    }

    @Override
    public int dropStickyBindings(long accountId) {
        return delegate.dropStickyBindings(accountId);
    }

    @Override
    public int dropStickyBindings(long accountId, long groupId) {
        return delegate.dropStickyBindings(accountId, groupId);
    }

    @Override
    public boolean dropSticky(String bindingKey, long accountId) {
        return delegate.dropSticky(bindingKey, accountId);
    }

    @Override
    public int sweep(Collection<Long> accountIds) {
        return delegate.sweep(accountIds);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
