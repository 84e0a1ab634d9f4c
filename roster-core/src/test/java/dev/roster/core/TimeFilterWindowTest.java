package dev.roster.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link TimeFilter#window} is an interval over which {@link TimeFilter#apply} does not change: every
 * instant inside gives the answer of the read instant. Its ends are instants at which some block starts
 * or ends (the answer may still be the same there, when another block of the card goes on).
 */
class TimeFilterWindowTest {
    private static final Instant T0 = Instant.parse("2026-06-01T00:00:00Z");

    @Test
    void everyInstantOfTheWindowGivesTheAnswerOfTheReadInstant() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int round = 0; round < 2_000; round++) {
            List<AccountCard> cards = new ArrayList<>();
            int n = 1 + rnd.nextInt(8);
            for (int i = 0; i < n; i++) {
                cards.add(AccountCard.builder()
                        .id(i + 1)
                        .name("a" + i)
                        .platform("openai")
                        .type("apikey")
                        .status("active")
                        .schedulable(true)
                        .rateLimitResetAt(maybe(rnd))
                        .overloadUntil(maybe(rnd))
                        .tempUnschedulableUntil(maybe(rnd))
                        .expiresAt(maybe(rnd))
                        .autoPauseOnExpired(rnd.nextBoolean())
                        .build());
            }
            Instant now = T0.plusNanos(rnd.nextLong(-100_000_000_000L, 100_000_000_000L));
            List<AccountCard> answer = TimeFilter.apply(cards, now);
            TimeFilter.Window w = TimeFilter.window(cards, now);
            assertThat(w.contains(now)).isTrue();
            Instant lo = w.from() == null ? now.minusSeconds(1_000) : w.from();
            Instant hi = w.until() == null ? now.plusSeconds(1_000) : w.until().minusNanos(1);
            for (Instant t : List.of(lo, hi, midpoint(lo, hi))) {
                assertThat(TimeFilter.apply(cards, t))
                        .as("inside %s at %s", w, t)
                        .isEqualTo(answer);
            }
        }
    }

    @Test
    void aRateLimitEndsTheWindowAtItsInstantAndStartsTheNext() {
        Instant reset = T0.plusSeconds(10);
        AccountCard limited = AccountCard.builder()
                .id(1)
                .name("a")
                .platform("openai")
                .type("apikey")
                .status("active")
                .rateLimitResetAt(reset)
                .build();
        assertThat(TimeFilter.window(List.of(limited), T0)).isEqualTo(new TimeFilter.Window(null, reset));
        assertThat(TimeFilter.apply(List.of(limited), reset.minusNanos(1))).isEmpty();
        assertThat(TimeFilter.apply(List.of(limited), reset)).containsExactly(limited);
        assertThat(TimeFilter.window(List.of(limited), reset)).isEqualTo(new TimeFilter.Window(reset, null));
    }

    @Test
    void withoutAnyBlockTheWindowIsOpenOnBothEnds() {
        AccountCard c = AccountCard.builder()
                .id(1)
                .name("a")
                .platform("openai")
                .type("apikey")
                .status("active")
                .expiresAt(T0.minusSeconds(5))
                .build();
        // An expiry without auto-pause blocks nothing, so it is no boundary.
        assertThat(TimeFilter.window(List.of(c), T0)).isEqualTo(new TimeFilter.Window(null, null));
    }

    private static Instant maybe(SplittableRandom rnd) {
        // Few distinct instants, so several cards share a boundary now and then.
        return rnd.nextInt(3) == 0
                ? null
                : T0.plusSeconds(rnd.nextInt(-50, 50) * 2L).plusNanos(rnd.nextInt(3));
    }

    private static Instant midpoint(Instant a, Instant b) {
        return a.plusNanos(java.time.Duration.between(a, b).toNanos() / 2);
    }
}
