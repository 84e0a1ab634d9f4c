package dev.roster.core.service;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.RunMode;
import dev.roster.core.source.GroupInfo;
import dev.roster.testkit.TestClock;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * The fake store's Java bucket query over a given pool, for tests outside this package (roster-it's
 * differential test compares it with the SQL query and the oracle). {@link FakeStore} itself stays
 * package-private: only its query is offered here.
 */
public final class FakeStoreQuery {
    private final FakeStore store = new FakeStore(TestClock.at(Instant.EPOCH));

    /**
     * @param cards the live accounts as cards
     * @param groups the live (not soft-deleted) groups, whatever their status
     */
    public FakeStoreQuery(Collection<AccountCard> cards, Collection<GroupInfo> groups) {
        cards.forEach(store::seed);
        groups.forEach(g -> store.seedGroup(g.id(), g.platform(), g.status()));
    }

    /** The durable part of Q as the fake store computes it. */
    public List<AccountCard> durable(Bucket bucket, RunMode runMode, Group0Scope scope) {
        return store.query(bucket, runMode, scope);
    }
}
