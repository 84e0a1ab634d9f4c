package dev.roster.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountLimits;
import dev.roster.core.status.PoolStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusRoutesTest {
    static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");

    static PoolStatus.Row row(
            String status, boolean sched, Instant rl, Instant ov, Instant tu, Instant exp, boolean autoPause) {
        return new PoolStatus.Row(
                1,
                "a",
                "anthropic",
                "oauth",
                status,
                sched,
                50,
                3,
                rl,
                ov,
                tu,
                exp,
                autoPause,
                null,
                List.of(),
                AccountLimits.DEFAULTS);
    }

    @Test
    void every_reason_is_listed_and_blocks_end_at_their_instant() {
        assertThat(StatusRoutes.why(row("active", true, null, null, null, null, false), NOW))
                .isEmpty();
        // a block ending exactly now no longer applies (as in AccountCard.timeBlockAt)
        assertThat(StatusRoutes.why(row("active", true, NOW, NOW, NOW, null, false), NOW))
                .isEmpty();
        assertThat(StatusRoutes.why(
                                row(
                                        "error",
                                        false,
                                        NOW.plusSeconds(60),
                                        NOW.plusSeconds(5),
                                        NOW.plusSeconds(9),
                                        NOW.minusSeconds(1),
                                        true),
                                NOW)
                        .stream()
                        .map(StatusRoutes.Why::kind))
                .containsExactly(
                        "status_error", "disabled", "rate_limited", "overloaded", "temp_unschedulable", "expired");
        // expiry without auto-pause does not block
        assertThat(StatusRoutes.why(row("active", true, null, null, null, NOW.minusSeconds(1), false), NOW))
                .isEmpty();
    }

    @Test
    void history_rates_are_differences_and_old_samples_leave_the_window() {
        StatusHistory h = new StatusHistory();
        h.add(10, 0, 0, new StatusHistory.Counters(NOW, 100, 10, 0, 0, 0));
        h.add(20, 5, 1.5, new StatusHistory.Counters(NOW.plusSeconds(2), 140, 12, 30, 40, 4));
        StatusHistory.Sample s = h.samples().getLast();
        assertThat(s.eventsPerSecond()).isEqualTo(20.0);
        assertThat(s.coalescing()).isEqualTo(20.0);
        assertThat(s.nearCacheHitRatio()).isEqualTo(0.75);
        assertThat(s.fallbackPerSecond()).isEqualTo(2.0);
        h.add(
                21,
                0,
                0,
                new StatusHistory.Counters(NOW.plus(StatusHistory.WINDOW).plusSeconds(3), 140, 12, 30, 40, 4));
        assertThat(h.samples()).hasSize(1);
        assertThat(h.samples().getFirst().coalescing()).isNull();
    }
}
