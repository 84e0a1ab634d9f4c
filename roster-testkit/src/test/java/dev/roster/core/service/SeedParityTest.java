package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.RunMode;
import dev.roster.core.internal.Universe;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.replay.ReplayStep;
import dev.roster.core.source.SourceException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One test per behaviour of the seed's {@code scheduler_snapshot_service.go}, each named after it, on
 * the fake clock with {@link FakeStore} and an in-memory projection. Where Roster deliberately differs
 * (docs/upstream.md, weaknesses W1–W16), the test says so and {@link SeedWeaknessRegressionTest} shows the fix.
 */
class SeedParityTest {
    private Rig rig;

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    private static List<Long> ids(List<AccountCard> cards) {
        return cards.stream().map(AccountCard::id).toList();
    }

    private static AccountCard mixed(AccountCard c, boolean on) {
        return c.toBuilder().mixedScheduling(on).build();
    }

    @Test
    void resolveMode_forcedThenMixedForAnthropicAndGeminiElseSingle() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        assertThat(s.list(null, "anthropic", false).bucket().mode()).isEqualTo(Mode.MIXED);
        assertThat(s.list(null, "anthropic", false).useMixed()).isTrue();
        assertThat(s.list(null, "gemini", false).bucket().mode()).isEqualTo(Mode.MIXED);
        assertThat(s.list(null, "openai", false).bucket().mode()).isEqualTo(Mode.SINGLE);
        assertThat(s.list(null, "openai", false).useMixed()).isFalse();
        assertThat(s.list(null, "anthropic", true).bucket().mode()).isEqualTo(Mode.FORCED);
        assertThat(s.list(null, "anthropic", true).useMixed()).isFalse();
        assertThat(s.list(null, "antigravity", true).bucket().mode()).isEqualTo(Mode.FORCED);
        assertThatThrownBy(() -> s.list(null, "Bad Name", false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Bad Name");
    }

    @Test
    void isRunModeSimple_everyRequestUsesGroupZeroWithAllAccounts() {
        rig = Rig.standard().simple();
        rig.store.seedGroup(5, "openai", "active");
        rig.store.seed(card(1, "openai", 2, new GroupLink(5, 1)));
        rig.store.seed(card(2, "openai", 1));
        SnapshotService s = rig.started();
        ListResult r = s.list(5L, "openai", false);
        assertThat(r.bucket()).isEqualTo(Bucket.of(0, "openai", Mode.SINGLE));
        assertThat(ids(r.accounts())).containsExactly(2L, 1L);
        assertThat(r.source()).isEqualTo(ListResult.Source.PROJECTION);
    }

    @Test
    void loadAccountsFromDB_mixedKeepsOnlyAntigravityWithTheMixedFlag() {
        rig = Rig.standard();
        rig.store.seed(card(1, "anthropic", 5));
        rig.store.seed(mixed(card(2, "antigravity", 1), true));
        rig.store.seed(card(3, "antigravity", 0));
        SnapshotService s = rig.started();
        assertThat(ids(s.list(null, "anthropic", false).accounts())).containsExactly(2L, 1L);
        assertThat(ids(s.list(null, "anthropic", true).accounts())).containsExactly(1L);
        assertThat(ids(s.list(null, "antigravity", false).accounts())).containsExactly(3L, 2L);
    }

    @Test
    void defaultBuckets_groupZeroForEveryPlatformPlusActiveGroupsWhenRegistryEmpty() {
        rig = Rig.standard();
        rig.store.seedGroup(7, "openai", "active");
        rig.store.seedGroup(8, "openai", "inactive");
        rig.started();
        Set<Bucket> reg = rig.projection.buckets();
        for (String p : List.of("anthropic", "gemini", "openai", "antigravity")) {
            assertThat(reg).containsAll(Universe.canonical(0, p));
            assertThat(reg).containsAll(Universe.canonical(7, p));
        }
        assertThat(reg).contains(Bucket.of(0, "anthropic", Mode.MIXED), Bucket.of(0, "gemini", Mode.MIXED));
        assertThat(reg).noneMatch(b -> b.groupId() == 8);
    }

    @Test
    void normalizeGroupID_absentOrNonPositiveIsZeroAndRebuildListsAreDeduplicated() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        assertThat(s.list(null, "openai", false).bucket().groupId()).isZero();
        assertThat(s.list(-3L, "openai", false).bucket().groupId()).isZero();
        assertThat(s.list(0L, "openai", false).bucket().groupId()).isZero();
        assertThat(s.list(9L, "openai", false).bucket().groupId()).isEqualTo(9);
        assertThat(Universe.normalizeGroups(List.of(0L, -1L, 5L, 5L, 6L), RunMode.STANDARD))
                .containsExactly(5L, 6L);
        assertThat(Universe.normalizeGroups(List.of(), RunMode.STANDARD)).containsExactly(0L);
        assertThat(Universe.normalizeGroups(List.of(0L, -2L), RunMode.STANDARD)).containsExactly(0L);
        assertThat(Universe.normalizeGroups(List.of(5L), RunMode.SIMPLE)).containsExactly(0L);
    }

    @Test
    void guardFallback_disabledGivesCacheNotReady() {
        Rig.Sched sched = new Rig.Sched();
        sched.fallbackEnabled = false;
        rig = Rig.standard().scheduling(sched);
        SnapshotService s = rig.build();
        assertThatThrownBy(() -> s.list(null, "openai", false))
                .isInstanceOf(CacheNotReadyException.class)
                .hasMessageContaining("0:openai:single")
                .hasMessageContaining("db_fallback_enabled");
        assertThatThrownBy(() -> s.getAccount(42)).isInstanceOf(CacheNotReadyException.class);
        assertThat(rig.store.bucketQueries).isEmpty();
        // Roster: once built, an empty bucket is an answer, not "not ready" (the seed's W10).
        s.replayer().drain();
        assertThat(s.list(null, "openai", false).accounts()).isEmpty();
    }

    @Test
    void fallbackLimiter_moreThanMaxQpsInOneSecondIsLimited() {
        Rig.Sched sched = new Rig.Sched();
        sched.fallbackMaxQps = 1;
        rig = Rig.standard().scheduling(sched);
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.build();
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L);
        assertThatThrownBy(() -> s.list(null, "gemini", false))
                .isInstanceOf(FallbackLimitedException.class)
                .hasMessageContaining("db_fallback_max_qps = 1");
        rig.clock.advance(Duration.ofSeconds(1));
        assertThat(s.list(null, "gemini", false).source()).isEqualTo(ListResult.Source.DATABASE);
        // The first fallback published its result: no query, no limiter needed.
        assertThat(s.list(null, "openai", false).source()).isEqualTo(ListResult.Source.PROJECTION);
    }

    @Test
    void withFallbackTimeout_boundedByTheCallersDeadline() {
        Rig.Sched sched = new Rig.Sched();
        sched.fallbackTimeoutSeconds = 30;
        rig = Rig.standard().scheduling(sched);
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.build();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        rig.store.gate = gate;
        assertThatThrownBy(() -> s.list(null, "openai", false, Duration.ofMillis(50)))
                .isInstanceOfSatisfying(
                        FallbackTimeoutException.class,
                        e -> assertThat(e.waited()).isEqualTo(Duration.ofMillis(50)));
        rig.store.gate = null;
        gate.complete(null);
        // The query finished in the background and published; the next caller is served from it.
        org.awaitility.Awaitility.await()
                .until(() -> rig.projection
                        .readSnapshot(Bucket.of(0, "openai", Mode.SINGLE))
                        .isHit());
        assertThat(s.list(null, "openai", false).source()).isEqualTo(ListResult.Source.PROJECTION);
    }

    @Test
    void pollOutbox_handlerErrorDoesNotAdvanceTheWatermark() {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.started();
        long before = s.replayer().watermark();
        rig.store.bucketFailure = b -> b.platform().equals("openai") ? new SourceException("db down") : null;
        rig.store.upsert(card(2, "openai", 0));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.FAILED);
        assertThat(s.replayer().watermark()).isEqualTo(before);
        assertThat(rig.projection.watermark().value()).contains(before);
        // An unreachable store is not the event's fault: it is never dead-lettered for it.
        rig.clock.advance(Duration.ofSeconds(60));
        s.replayer().pollOnce();
        rig.clock.advance(Duration.ofSeconds(60));
        s.replayer().pollOnce();
        rig.clock.advance(Duration.ofSeconds(60));
        s.replayer().pollOnce();
        assertThat(rig.deadLetters).isEmpty();
        rig.store.bucketFailure = b -> null;
        rig.clock.advance(Duration.ofSeconds(60));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.CAUGHT_UP);
        assertThat(s.replayer().watermark()).isGreaterThan(before);
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(2L, 1L);
    }

    @Test
    void checkOutboxLag_warnsThenRebuildsAfterConsecutiveLaggingPolls() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        long runs = s.rebuilder().runs();
        rig.store.bucketFailure =
                b -> b.platform().equals("openai") && b.mode() == Mode.SINGLE ? new SourceException("db slow") : null;
        rig.store.upsert(card(1, "openai", 1));
        rig.clock.advance(Duration.ofSeconds(11));
        var lag = s.replayer().lagMonitor();
        s.replayer().pollOnce();
        assertThat(lag.warnings()).isEqualTo(1);
        assertThat(lag.triggered()).isZero();
        s.replayer().pollOnce();
        assertThat(lag.triggered()).isZero();
        s.replayer().pollOnce();
        assertThat(lag.triggered()).isEqualTo(1);
        assertThat(lag.warnings()).isEqualTo(1);
        assertThat(s.rebuilder().runs()).isEqualTo(runs + 1);
    }

    @Test
    void checkOutboxLag_backlogAboveRowsTriggersAFullRebuild() {
        Rig.Sched sched = new Rig.Sched();
        sched.backlogRows = 3;
        rig = Rig.standard().scheduling(sched).replay(Rig.fastRetries().withBatchSize(2));
        SnapshotService s = rig.started();
        for (int i = 1; i <= 5; i++) {
            rig.store.upsert(card(i, "openai", i));
        }
        long runs = s.rebuilder().runs();
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.MORE);
        assertThat(s.replayer().lagMonitor().triggered()).isEqualTo(1);
        assertThat(s.rebuilder().runs()).isEqualTo(runs + 1);
        // The rebuild covered everything below its horizon: the rest is not replayed one by one.
        assertThat(s.replayer().drain()).isEqualTo(ReplayStep.IDLE);
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void runInitialRebuild_freshProjectionIsRebuiltAndCurrentOneIsAdopted() {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService first = rig.build();
        assertThat(first.ready()).isFalse();
        first.replayer().pollOnce();
        assertThat(first.ready()).isTrue();
        assertThat(first.rebuilder().runs()).isEqualTo(1);
        assertThat(rig.projection.generation().isHit()).isTrue();
        assertThat(rig.projection
                        .readSnapshot(Bucket.of(0, "openai", Mode.SINGLE))
                        .isHit())
                .isTrue();
        first.close();
        rig.projection.releaseLease(new dev.roster.core.projection.Lease("replayer", "x"));
        SnapshotService second = rig.build();
        second.replayer().pollOnce();
        assertThat(second.ready()).isTrue();
        assertThat(second.rebuilder().runs()).isZero();
        assertThat(second.generation()).isEqualTo(first.generation());
    }

    @Test
    void handleAccountEvent_rewritesTheCardAndRebuildsItsGroupsAndGroupZero() {
        rig = Rig.standard();
        rig.store.seedGroup(7, "openai", "active");
        SnapshotService s = rig.started();
        rig.store.bucketQueries.clear();
        rig.store.upsert(card(1, "openai", 1, new GroupLink(7, 0)));
        s.replayer().drain();
        assertThat(s.getAccount(1)).contains(rig.store.account(1));
        assertThat(ids(s.list(7L, "openai", false).accounts())).containsExactly(1L);
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L);
        // single and forced of one (group, platform) share one read (docs/upstream.md L19)
        assertThat(new HashSet<>(pairs(s.replayer().lastDirty()))).containsExactlyInAnyOrder("7:openai", "0:openai");
        assertThat(rig.store.bucketQueries)
                .as("computed from the model, not queried")
                .isEmpty();
        assertThat(ids(s.list(7L, "openai", true).accounts())).containsExactly(1L);
        assertThat(ids(s.list(null, "openai", true).accounts())).containsExactly(1L);
    }

    private static List<String> pairs(java.util.Collection<Bucket> queried) {
        return queried.stream().map(b -> b.groupId() + ":" + b.platform()).toList();
    }

    @Test
    void handleAccountEvent_missingAccountDeletesTheCardAndRebuildsPayloadGroupsOnAllPlatforms() {
        rig = Rig.standard();
        rig.store.seedGroup(7, "openai", "active");
        rig.store.seed(card(1, "openai", 1, new GroupLink(7, 0)));
        SnapshotService s = rig.started();
        assertThat(rig.projection.card(1).isHit()).isTrue();
        rig.store.bucketQueries.clear();
        rig.store.delete(1);
        s.replayer().drain();
        assertThat(rig.projection.card(1).isHit()).isFalse();
        assertThat(s.list(7L, "openai", false).accounts()).isEmpty();
        assertThat(s.replayer().lastDirty())
                .contains(Bucket.of(7, "anthropic", Mode.MIXED), Bucket.of(7, "gemini", Mode.SINGLE));
    }

    @Test
    void handleAccountEvent_groupsChangedMovesTheAccountBetweenGroups() {
        rig = Rig.standard();
        rig.store.seedGroup(7, "openai", "active");
        rig.store.seedGroup(8, "openai", "active");
        rig.store.seed(card(1, "openai", 1, new GroupLink(7, 0)));
        SnapshotService s = rig.started();
        rig.store.seed(card(1, "openai", 1, new GroupLink(8, 0)));
        rig.store.emit(
                tx -> new OutboxEvent.AccountGroupsChanged(0, tx, rig.clock.instant(), List.of(1L), List.of(7L, 8L)));
        s.replayer().drain();
        assertThat(s.list(7L, "openai", false).accounts()).isEmpty();
        assertThat(ids(s.list(8L, "openai", false).accounts())).containsExactly(1L);
    }

    @Test
    void handleBulkAccountEvent_scopesEachAccountsGroupsToItsOwnPlatform() {
        rig = Rig.standard();
        rig.store.seedGroup(61, "openai", "active");
        rig.store.seedGroup(62, "grok", "active");
        rig.store.seedGroup(63, "openai", "active");
        SnapshotService s = rig.started();
        rig.store.seed(card(9, "openai", 1, new GroupLink(61, 0)));
        rig.store.seed(card(10, "grok", 1, new GroupLink(62, 0)));
        rig.store.bucketQueries.clear();
        // As the V3 trigger writes it for a statement that changed no platform.
        rig.store.emit(tx -> new OutboxEvent.AccountBulkChanged(
                0, tx, rig.clock.instant(), List.of(9L, 10L), List.of(63L), List.of()));
        s.replayer().drain();
        Set<String> q = new HashSet<>(pairs(s.replayer().lastDirty()));
        assertThat(q).contains("61:openai", "63:openai", "62:grok", "63:grok");
        assertThat(q).doesNotContain("62:openai", "61:grok");
        assertThat(ids(s.list(61L, "openai", false).accounts())).containsExactly(9L);
        assertThat(ids(s.list(62L, "grok", false).accounts())).containsExactly(10L);
    }

    @Test
    void bulkEventThatDoesNotNameItsPlatforms_rebuildsTheGroupsOnEveryPlatform() {
        // A row written before capture named platforms (or by another writer): any may have been left.
        rig = Rig.standard();
        rig.store.seedGroup(61, "openai", "active");
        SnapshotService s = rig.started();
        rig.store.seed(card(9, "openai", 1, new GroupLink(61, 0)));
        rig.store.bucketQueries.clear();
        rig.store.emit(tx -> new OutboxEvent.AccountBulkChanged(0, tx, rig.clock.instant(), List.of(9L), List.of(61L)));
        s.replayer().drain();
        assertThat(new HashSet<>(pairs(s.replayer().lastDirty())))
                .contains("61:openai", "61:anthropic", "61:gemini", "61:antigravity", "0:anthropic");
    }

    @Test
    void handleGroupEvent_retiresBucketsOfDeactivatedOrDeletedGroupsAndReopensReactivatedOnes() {
        rig = Rig.standard();
        rig.store.seedGroup(7, "openai", "active");
        rig.store.seed(card(1, "openai", 1, new GroupLink(7, 0)));
        SnapshotService s = rig.started();
        Bucket b = Bucket.of(7, "openai", Mode.SINGLE);
        assertThat(ids(s.list(7L, "openai", false).accounts())).containsExactly(1L);
        rig.store.group(7, "openai", "inactive");
        s.replayer().drain();
        assertThat(rig.projection.isRetired(b)).isTrue();
        assertThat(rig.projection.buckets()).doesNotContain(b);
        assertThat(s.list(7L, "openai", false).accounts()).isEmpty();
        rig.store.group(7, "openai", "active");
        s.replayer().drain();
        assertThat(rig.projection.isRetired(b)).isFalse();
        assertThat(ids(s.list(7L, "openai", false).accounts())).containsExactly(1L);
        assertThat(s.list(7L, "openai", false).source()).isEqualTo(ListResult.Source.PROJECTION);
        rig.store.deleteGroup(7);
        s.replayer().drain();
        assertThat(rig.projection.isRetired(b)).isTrue();
        assertThat(s.audit().clean()).isTrue();
    }

    @Test
    void handleLastUsedEvent_movesLastUsedForwardOnly() {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.started();
        Instant t = Instant.ofEpochSecond(1_800_000_000);
        rig.store.emit(tx -> new OutboxEvent.AccountLastUsed(0, tx, rig.clock.instant(), Map.of(1L, t, 99L, t)));
        s.replayer().drain();
        assertThat(rig.projection.lastUsed(List.of(1L, 99L))).containsExactly(Map.entry(1L, t));
        rig.store.emit(
                tx -> new OutboxEvent.AccountLastUsed(0, tx, rig.clock.instant(), Map.of(1L, t.minusSeconds(5))));
        s.replayer().drain();
        assertThat(rig.projection.lastUsed(List.of(1L))).containsEntry(1L, t);
    }

    @Test
    void triggerFullRebuild_onAFullRebuildEvent() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        long runs = s.rebuilder().runs();
        rig.store.seed(card(1, "openai", 1)); // changed without an event
        rig.store.emit(tx -> new OutboxEvent.FullRebuild(0, tx, rig.clock.instant(), false));
        s.replayer().drain();
        assertThat(s.rebuilder().runs()).isEqualTo(runs + 1);
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L);
    }

    @Test
    void handleOutboxEvent_unknownTypeIsCountedAndSkipped() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        rig.store.emit(tx -> new OutboxEvent.Unknown(0, tx, rig.clock.instant(), "account_quota_changed"));
        rig.store.upsert(card(1, "openai", 1));
        assertThat(s.replayer().drain()).isEqualTo(ReplayStep.CAUGHT_UP);
        assertThat(s.replayer().unknown()).isEqualTo(1);
        assertThat(rig.deadLetters).isEmpty();
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L);
    }

    @Test
    void listSchedulableAccounts_appliesTimeBlocksAtReadTime() {
        rig = Rig.standard();
        AccountCard c = card(1, "openai", 1);
        AccountCard limited = c.toBuilder()
                .id(1)
                .schedulable(true)
                .priority(1)
                .concurrency(3)
                .rateLimitResetAt(Rig.T0.plusSeconds(30))
                .overloadUntil(null)
                .tempUnschedulableUntil(null)
                .expiresAt(null)
                .autoPauseOnExpired(false)
                .mixedScheduling(false)
                .supportedModels(List.of())
                .groups(List.of())
                .updatedAt(Instant.EPOCH)
                .build();
        rig.store.seed(limited);
        SnapshotService s = rig.started();
        assertThat(s.list(null, "openai", false).accounts()).isEmpty();
        rig.clock.advance(Duration.ofSeconds(30));
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L);
        Lookup<Snapshot> snap = rig.projection.readSnapshot(Bucket.of(0, "openai", Mode.SINGLE));
        assertThat(snap.value().orElseThrow().cards()).hasSize(1);
        assertThat(FakeStore.withStatus(c, "error").durablySchedulable()).isFalse();
    }
}
