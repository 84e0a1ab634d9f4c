package dev.roster.core.watch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.TimeFilter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The next change of the time filter's answer, against the filter itself: between {@code now} and the
 * instant found the answer stays the same, and at it the answer differs.
 */
class TimeWindowTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    static AccountCard card(long id, Instant reset, Instant overload, Instant temp, Instant expires, boolean pause) {
        return AccountCard.builder()
                .id(id)
                .name("a" + id)
                .platform("openai")
                .type("apikey")
                .status("active")
                .schedulable(true)
                .rateLimitResetAt(reset)
                .overloadUntil(overload)
                .tempUnschedulableUntil(temp)
                .expiresAt(expires)
                .autoPauseOnExpired(pause)
                .build();
    }

    static Instant at(int s) {
        return T0.plusSeconds(s);
    }

    @Test
    void theLatestBlockEndsTheWaitAndAnExpiryWithAutoPauseEndsTheStay() {
        assertThat(TimeWindow.nextChange(List.of(card(1, at(10), at(30), at(20), null, false)), T0))
                .isEqualTo(at(30));
        assertThat(TimeWindow.nextChange(List.of(card(1, null, null, null, at(40), true)), T0))
                .isEqualTo(at(40));
        assertThat(TimeWindow.nextChange(List.of(card(1, null, null, null, at(40), false)), T0))
                .as("an expiry without auto-pause changes nothing")
                .isNull();
        assertThat(TimeWindow.nextChange(List.of(card(1, at(50), null, null, at(40), true)), T0))
                .as("blocked until after it expires: never in the answer")
                .isNull();
        assertThat(TimeWindow.nextChange(List.of(card(1, at(10), null, null, at(40), true)), at(10)))
                .as("a block ends at its instant")
                .isEqualTo(at(40));
        assertThat(TimeWindow.nextChange(
                        List.of(card(1, at(50), null, null, null, false), card(2, null, null, null, at(20), true)), T0))
                .isEqualTo(at(20));
        assertThat(TimeWindow.nextChange(List.of(), T0)).isNull();
    }

    @Test
    void theAnswerIsConstantUpToTheInstantFoundAndDiffersAtIt() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int round = 0; round < 200; round++) {
            List<AccountCard> cards = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                cards.add(card(i + 1, maybe(rnd), maybe(rnd), maybe(rnd), maybe(rnd), rnd.nextBoolean()));
            }
            Instant now = at(rnd.nextInt(0, 100));
            Instant next = TimeWindow.nextChange(cards, now);
            List<AccountCard> answer = TimeFilter.apply(cards, now);
            Instant end = next == null ? at(200) : next;
            for (Instant t = now; t.isBefore(end); t = t.plus(Duration.ofSeconds(1))) {
                assertThat(TimeFilter.apply(cards, t))
                        .as("round %d at %s", round, t)
                        .isEqualTo(answer);
            }
            if (next != null) {
                assertThat(TimeFilter.apply(cards, next))
                        .as("round %d at %s", round, next)
                        .isNotEqualTo(answer);
            }
        }
    }

    private static Instant maybe(SplittableRandom rnd) {
        return rnd.nextInt(3) == 0 ? at(rnd.nextInt(0, 120)) : null;
    }
}
