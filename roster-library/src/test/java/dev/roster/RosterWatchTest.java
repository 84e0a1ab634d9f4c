package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.service.ListResult;
import dev.roster.core.watch.AnswerState;
import dev.roster.core.watch.Watch;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * {@link Roster#watch} as a library user sees it, on real PostgreSQL and Redis: the current state at
 * once, a committed change as the version {@code list} then answers, nothing after {@code close}, and
 * a bucket {@code list} never answers refused.
 */
class RosterWatchTest {
    final Servers servers = new Servers(RosterWatchTest.class, "watch");

    @Test
    void aWatcherIsToldTheCurrentAnswerThenEachChangeUntilItCloses() {
        servers.openaiAccounts(2);
        try (Roster roster = servers.roster().build()) {
            await().atMost(Duration.ofSeconds(60)).until(roster::ready);
            Bucket bucket = Bucket.of(0, "openai", Mode.SINGLE);
            List<AnswerState> seen = new CopyOnWriteArrayList<>();
            Watch watch = roster.watch(List.of(bucket), seen::add);
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 1);
            assertThat(seen.get(0).version())
                    .isEqualTo(roster.list(0L, "openai", false).version());

            servers.sql("UPDATE accounts SET schedulable = false WHERE name = 'a1'");
            await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 2);
            ListResult now = roster.list(0L, "openai", false);
            assertThat(seen.get(1).version())
                    .isEqualTo(now.version())
                    .isGreaterThan(seen.get(0).version());
            assertThat(now.accounts()).hasSize(1);

            watch.close();
            servers.sql("UPDATE accounts SET schedulable = false WHERE name = 'a2'");
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> roster.list(0L, "openai", false).accounts().isEmpty());
            List<AnswerState> other = new CopyOnWriteArrayList<>();
            try (Watch second = roster.watch(List.of(bucket), other::add)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> other.size() == 1);
            }
            assertThat(seen).as("nothing after close").hasSize(2);

            assertThatThrownBy(() -> roster.watch(List.of(Bucket.of(0, "openai", Mode.MIXED)), s -> {}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("0:openai:mixed is never answered");
        }
    }
}
