package dev.roster.it;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.RunMode;
import dev.roster.core.projection.Projection;
import dev.roster.core.service.ListResult;
import dev.roster.testkit.oracle.BucketOracle;
import dev.roster.testkit.oracle.ExpectedCard;
import dev.roster.testkit.oracle.OracleDiff;
import dev.roster.testkit.oracle.PoolRows;
import dev.roster.testkit.oracle.PoolRows.AccountRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * The independent oracle applied to a running service after quiescence: the projection's snapshots
 * (every bucket that must exist, every registered one, retired ones), the answers of {@code list} for
 * every group (deleted and inactive ones too, and group 0) × platform × force, and every account's
 * card. Production is reached only through its public answers; the expectation comes from the raw rows.
 */
public final class OracleCheck {
    private OracleCheck() {}

    /** How a service answers {@code list}. */
    @FunctionalInterface
    public interface Lister {
        ListResult list(Long groupId, String platform, boolean force);
    }

    /**
     * Every disagreement between the service and the oracle, one readable line each (empty when none).
     *
     * @param generation the generation the service serves (snapshots under another one count as missing)
     * @param everSeen account ids the scenario created; those no longer in the table (hard-deleted)
     *     must have no card served
     */
    public static List<String> problems(
            DataSource ds,
            RunMode runMode,
            Group0Scope scope,
            Projection projection,
            String generation,
            Lister lister,
            LongFunction<Optional<AccountCard>> cards,
            Supplier<Instant> clock,
            Collection<Long> everSeen) {
        PoolRows rows = PoolRows.load(ds);
        BucketOracle oracle = new BucketOracle(rows, runMode, scope);
        List<String> out = new ArrayList<>(OracleDiff.checkProjection(oracle, projection, generation));
        TreeSet<String> platforms = new TreeSet<>();
        rows.accounts().forEach(a -> platforms.add(a.platform()));
        rows.groups().forEach(g -> platforms.add(g.platform()));
        List<Long> groups = new ArrayList<>();
        groups.add(null);
        rows.groups().forEach(g -> groups.add(g.id()));
        for (Long g : groups) {
            for (String p : platforms) {
                for (boolean force : new boolean[] {false, true}) {
                    Instant before = clock.get();
                    ListResult l = lister.list(g, p, force);
                    Instant after = clock.get();
                    Bucket b = l.bucket();
                    // Judged at either end of the call: a block may end while it runs.
                    String d = OracleDiff.compare(b, oracle.at(b, after), l.accounts());
                    if (d != null && OracleDiff.compare(b, oracle.at(b, before), l.accounts()) != null) {
                        out.add("list(" + g + ", " + p + ", force=" + force + ") from " + l.source() + " v"
                                + l.version() + ": " + d);
                    }
                }
            }
        }
        for (AccountRow a : rows.accounts()) {
            Optional<ExpectedCard> want = oracle.card(a.id());
            Optional<AccountCard> got = cards.apply(a.id());
            if (want.isEmpty()) {
                if (got.isPresent()) {
                    out.add("getAccount(" + a.id() + "): the account is deleted but a card is served");
                }
            } else if (got.isEmpty()) {
                out.add("getAccount(" + a.id() + "): no card served for a live account");
            } else {
                String d = OracleDiff.attributes(want.get(), got.get());
                if (d != null) {
                    out.add("getAccount(" + a.id() + "): " + d);
                }
            }
        }
        TreeSet<Long> gone = new TreeSet<>(everSeen);
        rows.accounts().forEach(a -> gone.remove(a.id()));
        for (long id : gone) {
            if (cards.apply(id).isPresent()) {
                out.add("getAccount(" + id + "): the account was deleted but a card is served");
            }
        }
        return out;
    }
}
