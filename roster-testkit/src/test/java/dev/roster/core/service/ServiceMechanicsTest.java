package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.audit.Drift;
import dev.roster.core.config.ConfigException;
import dev.roster.core.config.ProjectionConfig;
import dev.roster.core.config.ReplayConfig;
import dev.roster.core.config.ScopeConfig;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.replay.FullRebuilder;
import dev.roster.core.replay.LeaseKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The service's machinery: rebuild coalescing, the audit oracle, config validation, shutdown. */
class ServiceMechanicsTest {

    @Test
    void fullRebuild_requestsDuringARunJoinExactlyOneTrailingRun() throws Exception {
        try (Rig rig = Rig.standard()) {
            rig.started();
            ExecutorService thread = Executors.newSingleThreadExecutor();
            ExecutorService buckets = Executors.newFixedThreadPool(2);
            try {
                var generation = new dev.roster.core.internal.CurrentGeneration(
                        rig.projection, dev.roster.core.internal.Engine.fingerprintOf(rig.config));
                var engine = new dev.roster.core.internal.Engine(
                        rig.store, rig.projection, rig.config, rig.clock, generation, buckets);
                FullRebuilder r = new FullRebuilder(
                        engine,
                        generation,
                        rig.store,
                        new LeaseKeeper(rig.projection, rig.clock, Duration.ofSeconds(10), Duration.ofSeconds(3)),
                        thread);
                CompletableFuture<Void> gate = new CompletableFuture<>();
                rig.store.gate = gate;
                CompletableFuture<Void> first = r.request("first");
                Awaitility.await().until(() -> !rig.store.bucketQueries.isEmpty());
                List<CompletableFuture<Void>> followers = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    followers.add(r.request("follower-" + i));
                }
                assertThat(followers).allSatisfy(f -> assertThat(f).isSameAs(followers.getFirst()));
                rig.store.bucketFailure = b -> first.isDone() ? new IllegalStateException("second run fails") : null;
                rig.store.gate = null;
                gate.complete(null);
                first.join();
                assertThatThrownBy(() -> followers.getFirst().join())
                        .isInstanceOf(CompletionException.class)
                        .hasMessageContaining("second run fails");
                assertThat(r.runs()).isEqualTo(2);
                assertThat(r.busy()).isFalse();
            } finally {
                thread.shutdownNow();
                buckets.shutdownNow();
            }
        }
    }

    @Test
    void audit_reportsMembersOrderAttributesAndRetiredDrift() {
        try (Rig rig = Rig.standard()) {
            rig.store.seedGroup(7, "openai", "active");
            rig.store.seed(card(1, "openai", 1));
            rig.store.seed(card(2, "openai", 2));
            SnapshotService s = rig.started();
            assertThat(s.audit().clean()).isTrue();
            Bucket single = Bucket.of(0, "openai", Mode.SINGLE);
            Bucket forced = Bucket.of(0, "openai", Mode.FORCED);
            Bucket gemini = Bucket.of(0, "gemini", Mode.MIXED);
            publish(rig, single, List.of(card(1, "openai", 1)));
            publish(rig, forced, List.of(card(2, "openai", 2), card(1, "openai", 1)));
            publish(rig, gemini, List.of());
            rig.store.seed(card(1, "openai", 1)); // unchanged
            AccountCard renamed = AccountCard.builder()
                    .id(2)
                    .name("renamed")
                    .platform("openai")
                    .type("apikey")
                    .status("active")
                    .schedulable(true)
                    .priority(2)
                    .concurrency(3)
                    .updatedAt(java.time.Instant.EPOCH)
                    .build();
            rig.store.seed(renamed);
            publish(rig, Bucket.of(0, "openai", Mode.SINGLE), List.of(card(1, "openai", 1), card(2, "openai", 2)));
            publish(rig, forced, List.of(card(2, "openai", 2), card(1, "openai", 1)));
            rig.projection.retire(Bucket.of(7, "openai", Mode.SINGLE));
            rig.store.seed(card(3, "openai", 0, new dev.roster.core.GroupLink(7, 0)));
            var report = s.audit();
            assertThat(report.drifts())
                    .extracting(Drift::bucket, Drift::kind)
                    .contains(
                            org.assertj.core.groups.Tuple.tuple(single, Drift.Kind.MEMBERS),
                            org.assertj.core.groups.Tuple.tuple(forced, Drift.Kind.MEMBERS),
                            org.assertj.core.groups.Tuple.tuple(
                                    Bucket.of(7, "openai", Mode.SINGLE), Drift.Kind.RETIRED_NOT_EMPTY));
            assertThat(report.exitCode()).isEqualTo(1);
            // Order and attributes, on their own.
            rig.store.seed(card(3, "openai", 9));
            publish(rig, single, List.of(card(3, "openai", 9), renamed, card(1, "openai", 1)));
            publish(rig, forced, List.of(card(1, "openai", 1), card(2, "openai", 2), card(3, "openai", 9)));
            var again = s.audit().drifts();
            assertThat(again)
                    .extracting(Drift::bucket, Drift::kind)
                    .contains(
                            org.assertj.core.groups.Tuple.tuple(single, Drift.Kind.ORDER),
                            org.assertj.core.groups.Tuple.tuple(forced, Drift.Kind.ATTRIBUTES));
        }
    }

    private static void publish(Rig rig, Bucket b, List<AccountCard> cards) {
        VersionTicket t = rig.projection.allocateVersion(b).orElseThrow();
        rig.projection.publish(t, rig.service.generation(), cards);
    }

    @Test
    void config_invalidValuesNameTheKey() {
        assertThatThrownBy(() -> ReplayConfig.DEFAULTS.withBatchSize(0))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("replay.batch_size = 0");
        assertThatThrownBy(() -> ReplayConfig.DEFAULTS.withRetryBackoff(Duration.ofSeconds(5), Duration.ofSeconds(1)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("replay.retry_backoff_max");
        assertThatThrownBy(
                        () -> new ProjectionConfig(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(1)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("projection.lease_renew");
        assertThatThrownBy(() -> ScopeConfig.parse("some"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("scope.group0 = some");
        assertThat(ScopeConfig.parse("ungrouped").group0()).isEqualTo(dev.roster.core.Group0Scope.UNGROUPED);
        assertThat(ReplayConfig.DEFAULTS.retryDelay(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(ReplayConfig.DEFAULTS.retryDelay(30)).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void close_stopsEveryThreadTheServiceStarted() throws Exception {
        // Threads other tests of this JVM left running (PIT runs every test class in one JVM) are not
        // this service's: only threads that appear after this point count.
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            SnapshotService s = SnapshotService.newBuilder()
                    .source(rig.store)
                    .projection(rig.projection)
                    .clock(rig.clock)
                    .build()
                    .start();
            Awaitility.await().until(s::ready);
            // Exercise the fallback and bucket pools too.
            s.list(null, "grok", false);
            rig.store.upsert(card(2, "openai", 0));
            s.wake();
            Awaitility.await()
                    .until(() -> s.list(null, "openai", false).accounts().size() == 2);
            assertThat(rosterThreads(before)).isNotEmpty();
            s.close();
            assertThat(rosterThreads(before)).isEmpty();
            assertThat(rig.projection.tryAcquireLease("replayer", Duration.ofSeconds(1)))
                    .isPresent();
        }
    }

    @Test
    void close_waitsForNothingWhenNeverStarted() {
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        try (Rig rig = Rig.standard()) {
            SnapshotService s = rig.build();
            s.close();
            s.close();
            assertThat(rosterThreads(before)).isEmpty();
        }
    }

    private static List<String> rosterThreads(Set<Thread> ignore) {
        List<String> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("roster-") && !ignore.contains(t)) {
                out.add(t.getName());
            }
        }
        return out;
    }
}
