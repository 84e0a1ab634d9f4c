package dev.roster.it.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.Roster;
import dev.roster.core.AccountCard;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two instances whose application clocks are 30 s ahead of and 30 s behind the database's, under load.
 * Lag is measured with the database clock, so neither instance sees a lag that is not there (no lag
 * rebuild is triggered); time-based blocks follow each instance's application clock (docs/architecture.md, "The
 * promise"): an account blocked until the database's now + 25 s and one blocked until its now − 5 s are both listed
 * at once by the instance ahead, and neither is listed by the instance behind (for the next 25 s of
 * database time).
 */
class ClockSkewFaultTest extends FaultTestBase {

    @Test
    void applicationClockSkewedPlusAndMinus30s() {
        Load load = env.load(false);
        Roster ahead = env.roster(offset(Duration.ofSeconds(30)));
        Roster behind = env.roster(offset(Duration.ofSeconds(-30)));
        env.awaitReady();
        load.start();
        Load.hold(env.size.warmup());

        env.faultStarts();
        AccountRepository accounts = new AccountRepository(env.ds);
        // A platform of their own, which the writer never touches.
        long soon = accounts.create(
                AccountSpec.of("ends-in-25s", "skewtest", "apikey").withPriority(1));
        long past = accounts.create(
                AccountSpec.of("ended-5s-ago", "skewtest", "apikey").withPriority(2));
        env.sql(
                "UPDATE accounts SET rate_limit_reset_at = now() + interval '25 seconds' WHERE id = " + soon,
                "UPDATE accounts SET rate_limit_reset_at = now() - interval '5 seconds' WHERE id = " + past);
        await().atMost(Duration.ofSeconds(30)).until(() -> ids(ahead).equals(List.of(soon, past)));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> ids(behind).isEmpty()
                        && ahead.getAccount(soon)
                                .map(c -> c.rateLimitResetAt() != null)
                                .orElse(false));
        Load.hold(hold());
        env.faultEnds();

        env.converge("app clock +30 s on one instance, -30 s on the other, load " + holdMs() + " ms", 0);
        for (Roster r : List.of(ahead, behind)) {
            assertThat(r.service().replayer().lagMonitor().triggered())
                    .as("lag rebuilds triggered by a skewed clock")
                    .isZero();
        }
        // Later, each instance still answers the bucket query at its own clock.
        for (Roster r : List.of(ahead, behind)) {
            assertThat(ids(r))
                    .isEqualTo(env
                            .source
                            .loadBucketAt(
                                    FaultEnv.bucket(null, "skewtest", false),
                                    FaultEnv.CONFIG.runMode(),
                                    FaultEnv.CONFIG.effectiveGroup0Scope(),
                                    r.now())
                            .stream()
                            .map(AccountCard::id)
                            .toList());
        }
    }

    private static List<Long> ids(Roster r) {
        return r.list(null, "skewtest", false).accounts().stream()
                .map(AccountCard::id)
                .toList();
    }

    private static InstantSource offset(Duration d) {
        return new InstantSource() {
            @Override
            public Instant instant() {
                return Instant.now().plus(d);
            }
        };
    }
}
