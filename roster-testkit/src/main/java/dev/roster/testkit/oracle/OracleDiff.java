package dev.roster.testkit.oracle;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.GroupLink;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.Snapshot;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Compares production answers (cards read through {@link AccountCard}'s public accessors) with the
 * oracle's, and says what differs in words a failing test can print: missing and extra members, the
 * order, or the first differing card attribute. Last-used and {@code updated_at} are not compared.
 */
public final class OracleDiff {
    private OracleDiff() {}

    /** The difference between the oracle's {@code expected} and production's {@code actual}, or null. */
    public static @Nullable String compare(Bucket bucket, List<ExpectedCard> expected, List<AccountCard> actual) {
        List<Long> e = expected.stream().map(ExpectedCard::id).toList();
        List<Long> a = actual.stream().map(AccountCard::id).toList();
        if (!new TreeSet<>(e).equals(new TreeSet<>(a)) || e.size() != a.size()) {
            Set<Long> lacks = new LinkedHashSet<>(e);
            a.forEach(lacks::remove);
            Set<Long> extra = new LinkedHashSet<>(a);
            e.forEach(extra::remove);
            return bucket + ": members differ: production lacks " + lacks + " and has extra " + extra + " (oracle " + e
                    + ", production " + a + ")";
        }
        if (!e.equals(a)) {
            return bucket + ": order differs: oracle " + e + ", production " + a;
        }
        for (int i = 0; i < expected.size(); i++) {
            String d = attributes(expected.get(i), actual.get(i));
            if (d != null) {
                return bucket + ": card of account " + e.get(i) + " differs: " + d;
            }
        }
        return null;
    }

    /** The first attribute in which {@code actual} differs from {@code expected}, or null. */
    public static @Nullable String attributes(ExpectedCard expected, AccountCard actual) {
        List<String> out = new ArrayList<>();
        check(out, "id", expected.id(), actual.id());
        check(out, "name", expected.name(), actual.name());
        check(out, "platform", expected.platform(), actual.platform());
        check(out, "type", expected.type(), actual.type());
        check(out, "status", expected.status(), actual.status());
        check(out, "schedulable", expected.schedulable(), actual.schedulable());
        check(out, "priority", expected.priority(), actual.priority());
        check(out, "concurrency", expected.concurrency(), actual.concurrency());
        check(out, "rate_limit_reset_at", expected.rateLimitResetAt(), actual.rateLimitResetAt());
        check(out, "overload_until", expected.overloadUntil(), actual.overloadUntil());
        check(out, "temp_unschedulable_until", expected.tempUnschedulableUntil(), actual.tempUnschedulableUntil());
        check(out, "expires_at", expected.expiresAt(), actual.expiresAt());
        check(out, "auto_pause_on_expired", expected.autoPauseOnExpired(), actual.autoPauseOnExpired());
        check(out, "mixed_scheduling", expected.mixedScheduling(), actual.mixedScheduling());
        check(out, "supported_models", expected.supportedModels(), new TreeSet<>(actual.supportedModels()));
        SortedMap<Long, Integer> links = new TreeMap<>();
        for (GroupLink l : actual.groups()) {
            links.put(l.groupId(), l.priority());
        }
        if (links.size() != actual.groups().size()) {
            out.add("groups: production lists a group twice: " + actual.groups());
        }
        check(out, "groups", expected.groups(), links);
        check(out, "rpm_limit", expected.rpmLimit(), actual.rpmLimit());
        check(out, "weight", expected.weight(), actual.weight());
        check(out, "quota_threshold_5h", expected.quotaThreshold5h(), actual.quotaThreshold5h());
        check(out, "quota_threshold_7d", expected.quotaThreshold7d(), actual.quotaThreshold7d());
        return out.isEmpty() ? null : String.join("; ", out);
    }

    private static void check(List<String> out, String field, @Nullable Object expected, @Nullable Object actual) {
        boolean same = (expected instanceof Instant x && actual instanceof Instant y)
                ? x.equals(y)
                : Objects.equals(expected, actual);
        if (!same) {
            out.add(field + ": oracle " + expected + ", production " + actual);
        }
    }

    /**
     * Judges a projection after quiescence: for every bucket of {@code oracle.universe()} and every
     * bucket the projection registered, the snapshot served under {@code generation} must equal the
     * oracle's durable Q. A bucket without such a snapshot (never published, retired or of another
     * generation) is a failure unless its Q is empty; a retired bucket must have no snapshot.
     *
     * @return one readable line per problem, empty when the projection agrees with the oracle
     */
    public static List<String> checkProjection(BucketOracle oracle, Projection projection, String generation) {
        TreeSet<Bucket> buckets = new TreeSet<>(oracle.universe());
        buckets.addAll(oracle.mustExist());
        buckets.addAll(projection.buckets());
        List<String> problems = new ArrayList<>();
        for (Bucket b : buckets) {
            List<ExpectedCard> expected = oracle.durable(b);
            Lookup<Snapshot> lookup = projection.readSnapshot(b);
            boolean retired = projection.isRetired(b);
            if (lookup instanceof Lookup.Corrupt<?> c) {
                problems.add(b + ": snapshot is corrupt: " + c);
                continue;
            }
            Snapshot s = lookup.value().orElse(null);
            if (s != null && retired) {
                problems.add(b + ": retired but still has a snapshot " + ids(s.cards()));
                continue;
            }
            if (s == null || !s.generation().equals(generation)) {
                if (!expected.isEmpty()) {
                    problems.add(b + ": missing ("
                            + (s == null ? (retired ? "retired" : "never published") : "generation " + s.generation())
                            + ") but the oracle lists "
                            + expected.stream().map(ExpectedCard::id).toList());
                }
                continue;
            }
            String d = compare(b, expected, s.cards());
            if (d != null) {
                problems.add("snapshot v" + s.version() + " " + d);
            }
        }
        return problems;
    }

    /**
     * Judges the answers of a {@code list} call per bucket at the instant each was answered: {@code
     * answer} returns the served cards and the instant of the answer for a bucket.
     *
     * @return one readable line per problem
     */
    public static List<String> checkAnswers(
            BucketOracle oracle, Iterable<Bucket> buckets, Function<Bucket, Answer> answer) {
        List<String> problems = new ArrayList<>();
        for (Bucket b : buckets) {
            Answer a = answer.apply(b);
            String d = compare(b, oracle.at(b, a.at()), a.cards());
            if (d != null) {
                problems.add("answer at " + a.at() + (a.note().isEmpty() ? "" : " (" + a.note() + ")") + " " + d);
            }
        }
        return problems;
    }

    /**
     * One served answer.
     *
     * @param cards the cards served, in order
     * @param at the application-clock instant the answer is judged at
     * @param note where it came from, for the message
     */
    public record Answer(List<AccountCard> cards, Instant at, String note) {}

    private static List<Long> ids(List<AccountCard> cards) {
        return cards.stream().map(AccountCard::id).toList();
    }
}
