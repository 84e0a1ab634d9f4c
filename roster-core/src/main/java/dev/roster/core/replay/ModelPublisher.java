package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.internal.Engine;
import dev.roster.core.pool.PoolModel;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.VersionTicket;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes buckets from the replay thread's {@link PoolModel}: computes each dirty bucket in memory,
 * leaves out the ones whose content equals what this publisher last published, and publishes the rest
 * in two round trips (allocate every version, then publish every snapshot). A bucket of a group that is
 * gone or not active is retired instead (once), and reopened when its group is active again; those
 * decisions are made from the model under {@link BucketContents#lifecycleLock()}. Used from the replay
 * thread only.
 */
final class ModelPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(ModelPublisher.class);

    private final Engine engine;
    private final CurrentGeneration generation;
    private final BucketContents contents;
    /** The content last published per bucket (or handed to a full rebuild that publishes it). */
    private final Map<Bucket, List<AccountCard>> published = new HashMap<>();
    /** Buckets this publisher retired and has not reopened since. */
    private final Set<Bucket> retired = new HashSet<>();
    /**
     * Buckets a change of the model touched (a card entered, left or changed in them) that have not been
     * published or found unchanged since: kept across failed batches, whose retry re-reads rows the
     * model already holds and so sees no change.
     */
    private final Set<Bucket> changedSince = new HashSet<>();
    /** Buckets the last {@link #publish} could not publish for a reason other than an outage. */
    private final Map<Bucket, RuntimeException> failed = new LinkedHashMap<>();

    ModelPublisher(Engine engine, CurrentGeneration generation, BucketContents contents) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.generation = Objects.requireNonNull(generation, "generation");
        this.contents = Objects.requireNonNull(contents, "contents");
    }

    /** Nothing is known to be published (a new model was loaded): every dirty bucket is published. */
    void forget() {
        published.clear();
        retired.clear();
        changedSince.clear();
    }

    /**
     * The model changed in {@code buckets}: they are recomputed at the next {@link #publish} whether or
     * not it names them, until one publishes them. Call right after the model changed, before any write
     * that may fail.
     */
    void modelChanged(Collection<Bucket> buckets) {
        changedSince.addAll(buckets);
    }

    /** Every bucket of {@code all} is (or is about to be, by a full rebuild) published with that content. */
    void assume(Map<Bucket, List<AccountCard>> all) {
        published.clear();
        retired.clear();
        changedSince.clear();
        published.putAll(all);
    }

    /**
     * Brings {@code dirty} up to date from {@code model}. A dirty bucket that this publisher published
     * from the model before, and in which the model changed nothing since ({@link #modelChanged}), is
     * not recomputed: the same cards give the same content. (The events' rule names every group-0 bucket
     * of a platform for each account event; a re-read that finds a row unchanged changes no bucket.)
     * With {@code groupsChanged} every dirty bucket is recomputed.
     *
     * @return how many buckets were published or retired
     */
    int publish(PoolModel model, Collection<Bucket> dirty, boolean groupsChanged) {
        failed.clear();
        Set<Bucket> compute = new LinkedHashSet<>();
        for (Bucket b : dirty) {
            if (groupsChanged || changedSince.contains(b) || !published.containsKey(b)) {
                compute.add(b);
            }
        }
        compute.addAll(changedSince);
        if (compute.isEmpty()) {
            return 0;
        }
        Projection projection = engine.projection();
        contents.lifecycleLock().lock();
        try {
            if (groupsChanged) {
                contents.activeGroups(model.activeGroupIds());
            }
            Map<Bucket, List<AccountCard>> computed = model.buckets(dirty);
            Map<Bucket, List<AccountCard>> changed = new LinkedHashMap<>();
            int retiredNow = 0;
            for (Map.Entry<Bucket, List<AccountCard>> e : computed.entrySet()) {
                Bucket b = e.getKey();
                if (engine.lifecycleApplies(b.groupId()) && !model.groupActive(b.groupId())) {
                    if (!retired.contains(b)) {
                        projection.retire(b);
                        retired.add(b);
                        retiredNow++;
                    }
                    published.remove(b);
                    changedSince.remove(b);
                    contents.put(b, List.of());
                    continue;
                }
                if (!retired.contains(b) && sameCards(e.getValue(), published.get(b))) {
                    changedSince.remove(b);
                    continue;
                }
                changed.put(b, e.getValue());
            }
            if (changed.isEmpty()) {
                return retiredNow;
            }
            // The shared content first, so a rebuild that allocates after this reads it (see BucketContents).
            changed.forEach(contents::put);
            int n = retiredNow;
            try {
                n += publishChanged(changed.keySet(), changed, model.accountCount());
            } catch (RuntimeException e) {
                if (Engine.isInfrastructure(e)) {
                    throw e;
                }
                if (changed.size() == 1) {
                    failed.put(changed.keySet().iterator().next(), e);
                    return n;
                }
                // Not an outage: one bucket's stored state is broken, say. Bucket by bucket, so that
                // only the events of the broken one are charged.
                for (Bucket b : changed.keySet()) {
                    try {
                        n += publishChanged(List.of(b), changed, model.accountCount());
                    } catch (RuntimeException one) {
                        if (Engine.isInfrastructure(one)) {
                            throw one;
                        }
                        failed.put(b, one);
                    }
                }
            }
            return n;
        } finally {
            contents.lifecycleLock().unlock();
        }
    }

    /**
     * The buckets the last {@link #publish} failed to publish for a reason that is not an outage (an
     * unreadable stored value, say), with the error: their events are charged.
     */
    Map<Bucket, RuntimeException> failed() {
        return Map.copyOf(failed);
    }

    private int publishChanged(Collection<Bucket> buckets, Map<Bucket, List<AccountCard>> changed, int poolAccounts) {
        Projection projection = engine.projection();
        Map<VersionTicket, List<AccountCard>> batch = new LinkedHashMap<>();
        List<VersionTicket> fromDatabase = new ArrayList<>();
        for (Map.Entry<Bucket, Optional<VersionTicket>> t :
                projection.allocateVersions(buckets).entrySet()) {
            Bucket b = t.getKey();
            Optional<VersionTicket> ticket = t.getValue();
            if (ticket.isEmpty()) {
                // Retired earlier, and its group is active now (or lifecycle does not apply).
                projection.reopen(b);
                ticket = projection.allocateVersion(b);
                if (ticket.isEmpty()) {
                    throw new IllegalStateException("bucket " + b + " was retired again while reopening it");
                }
            }
            retired.remove(b);
            batch.put(ticket.get(), changed.get(b));
            if (!contents.modelMayPublish(b, ticket.get().version())) {
                fromDatabase.add(ticket.get());
            }
        }
        DatabaseRead.replace(engine, contents, batch, fromDatabase, poolAccounts);
        Map<Bucket, List<AccountCard>> sent = new HashMap<>();
        batch.forEach((t, c) -> sent.put(t.bucket(), c));
        int n = 0;
        for (Map.Entry<Bucket, PublishOutcome> o :
                projection.publishAll(generation.id(), batch).entrySet()) {
            switch (o.getValue()) {
                case ACTIVATED, SUPERSEDED -> {
                    published.put(o.getKey(), sent.get(o.getKey()));
                    changedSince.remove(o.getKey());
                    n++;
                }
                case RETIRED, FENCED -> {
                    // Retired by someone else meanwhile: whoever did knows newer group state.
                    published.remove(o.getKey());
                    changedSince.remove(o.getKey());
                    LOG.debug("bucket {} was retired while it was published", o.getKey());
                }
            }
        }
        return n;
    }

    /**
     * Whether two bucket contents hold equal cards in the same order. The model keeps a card's instance
     * while its row does not change, so most elements are the same object and compare by identity.
     */
    @SuppressWarnings("ReferenceEquality") // identity first, on purpose: see above
    static boolean sameCards(@Nullable List<AccountCard> a, @Nullable List<AccountCard> b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null || a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            AccountCard x = a.get(i);
            AccountCard y = b.get(i);
            if (x != y && !x.equals(y)) {
                return false;
            }
        }
        return true;
    }
}
