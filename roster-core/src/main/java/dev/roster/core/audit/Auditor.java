package dev.roster.core.audit;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.internal.Universe;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.SchedulingSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The audit (docs/architecture.md, "The audit"), the oracle of the tests and of operators: for each registered bucket
 * and each canonical bucket (group 0 and every active group, on every platform), read the snapshot, run
 * the bucket query against the source, and read the snapshot again. A bucket whose snapshot did not
 * change between the two reads and differs from the query in members, order or card attributes (not
 * last-used, not {@code updated_at}, which moves on writes that do not concern scheduling) is drift.
 * A retired bucket must have no snapshot and an empty query.
 *
 * <p>Snapshots hold the durable part of the query and the time filter is applied when reading, so the
 * audit compares the durable parts: equal durable parts give equal answers at every instant.
 */
public final class Auditor {
    private final SchedulingSource source;
    private final Projection projection;
    private final ServiceConfig config;
    private final Supplier<String> generation;

    /**
     * @param generation the generation id the service serves (snapshots under another one are reported
     *     as stale, not judged)
     */
    public Auditor(SchedulingSource source, Projection projection, ServiceConfig config, Supplier<String> generation) {
        this.source = Objects.requireNonNull(source, "source");
        this.projection = Objects.requireNonNull(projection, "projection");
        this.config = Objects.requireNonNull(config, "config");
        this.generation = Objects.requireNonNull(generation, "generation");
    }

    /**
     * Audits every registered and canonical bucket.
     *
     * @throws RuntimeException when a store cannot be read (exit code 2 of {@code roster audit})
     */
    public AuditReport audit() {
        Set<Bucket> registered = projection.buckets();
        Set<String> platforms = Universe.platforms(source.platforms(), registered);
        Set<Bucket> all = new LinkedHashSet<>(registered);
        all.addAll(Universe.canonical(0, platforms));
        if (config.runMode() == dev.roster.core.RunMode.STANDARD) {
            for (GroupInfo g : source.activeGroups()) {
                all.addAll(Universe.canonical(g.id(), platforms));
            }
        }
        List<Drift> drifts = new ArrayList<>();
        List<Bucket> unstable = new ArrayList<>();
        List<Bucket> missing = new ArrayList<>();
        List<Bucket> stale = new ArrayList<>();
        for (Bucket b : all) {
            Lookup<Snapshot> first = projection.readSnapshot(b);
            List<AccountCard> q = source.loadBucket(b, config.runMode(), config.effectiveGroup0Scope());
            Lookup<Snapshot> second = projection.readSnapshot(b);
            boolean retired = projection.isRetired(b);
            if (!first.isHit() || !second.isHit()) {
                if (first.isHit() != second.isHit()) {
                    unstable.add(b);
                } else if (retired && !q.isEmpty()) {
                    drifts.add(new Drift(
                            b,
                            Drift.Kind.RETIRED_NOT_EMPTY,
                            ids(q),
                            List.of(),
                            "bucket is retired but the query lists " + q.size() + " account(s)"));
                } else if (!retired) {
                    missing.add(b);
                }
                continue;
            }
            Snapshot s1 = first.value().orElseThrow();
            Snapshot s2 = second.value().orElseThrow();
            if (s1.version() != s2.version() || !s1.generation().equals(s2.generation())) {
                unstable.add(b);
                continue;
            }
            if (retired) {
                drifts.add(new Drift(
                        b,
                        Drift.Kind.RETIRED_NOT_EMPTY,
                        ids(q),
                        ids(s1.cards()),
                        "bucket is retired but has a snapshot"));
                continue;
            }
            if (!s1.generation().equals(generation.get())) {
                stale.add(b);
                continue;
            }
            Drift d = compare(b, q, s1.cards());
            if (d != null) {
                drifts.add(d);
            }
        }
        return new AuditReport(all.size(), drifts, unstable, missing, stale);
    }

    /** The first difference between the query {@code expected} and the snapshot {@code actual}, or null. */
    static @Nullable Drift compare(Bucket b, List<AccountCard> expected, List<AccountCard> actual) {
        List<Long> e = ids(expected);
        List<Long> a = ids(actual);
        if (!new LinkedHashSet<>(e).equals(new LinkedHashSet<>(a)) || e.size() != a.size()) {
            Set<Long> extra = new LinkedHashSet<>(a);
            e.forEach(extra::remove);
            Set<Long> absent = new LinkedHashSet<>(e);
            a.forEach(absent::remove);
            return new Drift(b, Drift.Kind.MEMBERS, e, a, "snapshot lacks " + absent + " and has extra " + extra);
        }
        if (!e.equals(a)) {
            return new Drift(b, Drift.Kind.ORDER, e, a, "same accounts in another order");
        }
        for (int i = 0; i < expected.size(); i++) {
            AccountCard x = withoutUpdatedAt(expected.get(i));
            AccountCard y = withoutUpdatedAt(actual.get(i));
            if (!x.equals(y)) {
                return new Drift(
                        b,
                        Drift.Kind.ATTRIBUTES,
                        e,
                        a,
                        "card of account " + x.id() + " differs: query " + x + " vs snapshot " + y);
            }
        }
        return null;
    }

    private static AccountCard withoutUpdatedAt(AccountCard c) {
        return c.withUpdatedAt(null);
    }

    private static List<Long> ids(List<AccountCard> cards) {
        List<Long> out = new ArrayList<>(cards.size());
        for (AccountCard c : cards) {
            out.add(c.id());
        }
        return out;
    }
}
