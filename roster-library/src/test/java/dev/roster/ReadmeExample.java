package dev.roster;

import dev.roster.core.AccountCard;
import dev.roster.core.service.ListResult;
import java.time.Instant;

/** The README's "Use as a library" example; {@link ReadmeExampleTest} checks the README shows this region. */
final class ReadmeExample {
    private ReadmeExample() {}

    /** Runs the example against the given servers; returns the account it picked (or -1). */
    static long run(String jdbcUrl, String dbUser, String dbPassword, String redisUri) {
        // region readme
        try (Roster roster = Roster.builder()
                .jdbc(jdbcUrl, dbUser, dbPassword) // or .dataSource(yourPool)
                .redisUri(redisUri) // redis://, rediss://, redis-sentinel://, redis-cluster://
                .keyPrefix("roster:")
                .build()) { // migrated and started: replay, near cache, LISTEN wake-up

            // On every request: the schedulable accounts of (group, platform), in order.
            ListResult r = roster.list(null, "openai", false);
            for (AccountCard card : r.accounts()) {
                System.out.println(card.id() + " " + card.name() + " priority " + card.priority());
            }

            // After choosing one: Redis at once, PostgreSQL in the next batched write.
            if (!r.accounts().isEmpty()) {
                long chosen = r.accounts().getFirst().id();
                roster.markUsed(chosen, Instant.now());
                return chosen;
            }
            return -1;
        } // close() stops every thread it started and writes pending last-used times
        // endregion readme
    }
}
