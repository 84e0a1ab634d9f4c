package dev.roster.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

/** The fake clock's promises: it stands or follows, freezes at a whole millisecond, never goes back. */
class TestClockTest {
    @Test
    void aStandingClockMovesOnlyWhenAdvanced() {
        TestClock clock = TestClock.at(TestClock.T0);
        assertThat(clock.instant()).isEqualTo(TestClock.T0);
        clock.advance(Duration.ofSeconds(90));
        assertThat(clock.instant()).isEqualTo(TestClock.T0.plusSeconds(90));
        assertThat(clock.freeze())
                .as("freezing a standing clock keeps it where it is")
                .isEqualTo(TestClock.T0.plusSeconds(90));
    }

    @Test
    void aFollowingClockFreezesAtTheNextWholeMillisecondAndResumesFromThere() {
        TestClock clock = TestClock.following();
        Instant before = clock.instant();
        Instant frozen = clock.freeze();
        assertThat(frozen).isAfterOrEqualTo(before);
        assertThat(frozen.truncatedTo(ChronoUnit.MILLIS))
                .as("a whole millisecond")
                .isEqualTo(frozen);
        assertThat(clock.instant()).isEqualTo(frozen);
        assertThat(clock.freeze()).as("freezing again changes nothing").isEqualTo(frozen);

        clock.advance(Duration.ofMinutes(10));
        assertThat(clock.instant()).isEqualTo(frozen.plus(Duration.ofMinutes(10)));

        clock.thaw();
        Instant resumed = clock.instant();
        assertThat(resumed).as("it resumes from where it stood").isAfterOrEqualTo(frozen.plus(Duration.ofMinutes(10)));
        assertThat(Duration.between(Instant.now(), resumed)).isGreaterThan(Duration.ofMinutes(9));
    }

    @Test
    void aFollowingClockAdvancedWhileRunningKeepsTheOffset() {
        TestClock clock = TestClock.following();
        clock.advance(Duration.ofHours(1));
        assertThat(Duration.between(Instant.now(), clock.instant())).isGreaterThan(Duration.ofMinutes(59));
    }
}
