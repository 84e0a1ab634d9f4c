package dev.roster.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.config.ConfigException;
import dev.roster.core.config.ReplayConfig;
import dev.roster.core.config.SchedulingConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The builders of {@link AccountCard} and the large config records keep every field they are not told to change. */
class BuildersTest {
    private static final Instant T = Instant.parse("2026-03-01T12:00:00Z");

    /** Every field set, each to a value no other field has. */
    private static final AccountCard FULL = new AccountCard(
            42,
            "name",
            "anthropic",
            "oauth",
            "active",
            true,
            7,
            9,
            T.plusSeconds(1),
            T.plusSeconds(2),
            T.plusSeconds(3),
            T.plusSeconds(4),
            true,
            true,
            List.of("m1", "m2"),
            List.of(new GroupLink(5, 6)),
            T.plusSeconds(5));

    @Test
    void aCardCopiedThroughItsBuilderIsEqual() {
        assertThat(FULL.toBuilder().build()).isEqualTo(FULL);
    }

    @Test
    void oneSetterChangesOneField() {
        AccountCard c = FULL.toBuilder().overloadUntil(T.plusSeconds(99)).build();
        assertThat(c)
                .isEqualTo(new AccountCard(
                        42,
                        "name",
                        "anthropic",
                        "oauth",
                        "active",
                        true,
                        7,
                        9,
                        T.plusSeconds(1),
                        T.plusSeconds(99),
                        T.plusSeconds(3),
                        T.plusSeconds(4),
                        true,
                        true,
                        List.of("m1", "m2"),
                        List.of(new GroupLink(5, 6)),
                        T.plusSeconds(5)));
        assertThat(FULL.withUpdatedAt(T).updatedAt()).isEqualTo(T);
        assertThat(FULL.withUpdatedAt(T).toBuilder().updatedAt(FULL.updatedAt()).build())
                .isEqualTo(FULL);
    }

    @Test
    void aFreshCardNeedsItsNamesAndDefaultsTheRest() {
        assertThatThrownBy(() -> AccountCard.builder()
                        .id(1)
                        .platform("openai")
                        .type("apikey")
                        .status("active")
                        .build())
                .isInstanceOf(NullPointerException.class)
                .hasMessage("name");
        AccountCard c = AccountCard.builder()
                .id(1)
                .name("n")
                .platform("openai")
                .type("apikey")
                .status("active")
                .build();
        assertThat(c)
                .isEqualTo(new AccountCard(
                        1, "n", "openai", "apikey", "active", false, 0, 0, null, null, null, null, false, false,
                        List.of(), List.of(), null));
    }

    @Test
    void configBuildersKeepTheOtherValuesAndStillValidate() {
        SchedulingConfig d = SchedulingConfig.DEFAULTS;
        SchedulingConfig s = d.toBuilder().dbFallbackMaxQps(17).build();
        assertThat(s)
                .isEqualTo(new SchedulingConfig(
                        3,
                        Duration.ofSeconds(120),
                        Duration.ofSeconds(30),
                        100,
                        true,
                        Duration.ofSeconds(30),
                        true,
                        0,
                        17,
                        1,
                        5,
                        10,
                        3,
                        10_000,
                        300));
        assertThatThrownBy(() -> d.toBuilder().outboxLagRebuildSeconds(2).build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("outbox_lag_rebuild_seconds");

        ReplayConfig r = ReplayConfig.DEFAULTS.toBuilder().rebuildParallelism(2).build();
        assertThat(r)
                .isEqualTo(new ReplayConfig(
                        5_000,
                        10_000,
                        5,
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(60),
                        Duration.ofMinutes(10),
                        5_000,
                        Duration.ofSeconds(60),
                        2));
        assertThat(ReplayConfig.DEFAULTS.withBatchSize(20_000).maxApplied()).isEqualTo(20_000);
        assertThatThrownBy(() -> ReplayConfig.DEFAULTS.toBuilder().maxApplied(1).build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("replay.max_applied");
    }
}
