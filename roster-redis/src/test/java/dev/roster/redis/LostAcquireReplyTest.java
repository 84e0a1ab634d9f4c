package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.GroupLink;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.SelectionStore;
import dev.roster.core.selection.Selector;
import dev.roster.core.selection.SlotAttempt;
import dev.roster.testkit.ForwardingSelectionStore;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.TcpProxy;
import dev.roster.testkit.fake.InMemoryCandidates;
import dev.roster.testkit.fake.InMemoryUsageLedger;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A slot acquisition whose script ran on a real Redis but whose reply never reached the client: a proxy
 * in front of the server forwards the request and holds the reply back until the client's command timeout
 * fires. The slot then exists on Redis while the selector holds no token for it. Asserted, by reading the
 * slot set straight from the server: the selector's repeat with the same token turns the lost grant into
 * the caller's slot (one slot, not two), and when the repeat is lost as well, no slot is left held after
 * the select failed, so a concurrency-1 account is free again at once rather than after its slot lease.
 */
class LostAcquireReplyTest {
    private static final RedisHarness REDIS = RedisHarness.shared();
    /**
     * The production default. Each held reply costs this long (three in the longest case), but it also
     * bounds the connect and every other command, and a shorter one timed out unheld commands on a loaded
     * two-core machine.
     */
    private static final Duration COMMAND_TIMEOUT = RedisConnectionOptions.DEFAULT_COMMAND_TIMEOUT;

    private static final long ACCOUNT = 1;

    private final String prefix = REDIS.keyPrefix(LostAcquireReplyTest.class);
    private final TcpProxy proxy = TcpProxy.start(URI.create(REDIS.directUri()).getHost(), REDIS.directPort());
    private final RedisSelectionStore redis = RedisSelectionStore.connect(
            RedisConnectionOptions.of("redis://" + proxy.host() + ":" + proxy.port())
                    .withCommandTimeout(COMMAND_TIMEOUT),
            TestRedis.RESOURCES,
            prefix,
            InstantSource.system());
    private final InMemoryCandidates candidates = new InMemoryCandidates(InstantSource.system()).put(card(ACCOUNT));

    @BeforeEach
    void loadTheAcquireScript() {
        // An EVALSHA of a script the server has not cached answers NOSCRIPT, and only then does the store
        // send the script itself; with that first reply held back the script would never run. One
        // acquisition on another account caches it first.
        SlotAttempt warm = redis.tryAcquire(ACCOUNT + 1, 1, Duration.ofMinutes(1));
        assertThat(warm).isInstanceOf(SlotAttempt.Granted.class);
        assertThat(redis.release(
                        ACCOUNT + 1, ((SlotAttempt.Granted) warm).lease().token()))
                .isTrue();
    }

    @AfterEach
    void close() {
        proxy.resume();
        redis.close();
        proxy.close();
    }

    private static AccountCard card(long id) {
        return AccountCard.builder()
                .id(id)
                .name("lost-reply-" + id)
                .platform("openai")
                .type("apikey")
                .status("active")
                .schedulable(true)
                .concurrency(1)
                .groups(List.of(new GroupLink(1, 1)))
                .updatedAt(Instant.EPOCH)
                .build();
    }

    private Selector selector(SelectionStore store) {
        return Selector.newBuilder()
                .source(candidates)
                .store(store)
                .usage(new InMemoryUsageLedger())
                .clock(InstantSource.system())
                .build();
    }

    /** The slot tokens held on the account, read straight from the server (the key layout, not the store). */
    private List<Object> slotsOnRedis() {
        Object r = REDIS.command("ZRANGE", prefix + "{" + ACCOUNT + "}:slots", "0", "-1");
        assertThat(r).isInstanceOf(List.class);
        @SuppressWarnings("unchecked")
        List<Object> tokens = (List<Object>) r;
        return tokens;
    }

    /**
     * The Redis store with the replies of its first {@code lost} acquisitions held back by the proxy until
     * they time out. With {@code healAfter} the proxy forwards replies again once the last of them timed
     * out; without it they stay held (a network that stays bad), for the release after them too.
     */
    private final class LosingReplies extends ForwardingSelectionStore {
        private final AtomicInteger lost;
        private final boolean healAfter;
        final List<String> tokens = new CopyOnWriteArrayList<>();

        LosingReplies(int lost, boolean healAfter) {
            super(redis);
            this.lost = new AtomicInteger(lost);
            this.healAfter = healAfter;
        }

        @Override
        public SlotAttempt tryAcquire(long accountId, String model, int concurrency, Duration ttl, String token) {
            tokens.add(token);
            if (lost.getAndDecrement() <= 0) {
                return super.tryAcquire(accountId, model, concurrency, ttl, token);
            }
            proxy.pauseReplies();
            SlotAttempt answer;
            try {
                answer = super.tryAcquire(accountId, model, concurrency, ttl, token);
            } catch (ProjectionUnavailableException e) {
                // The premise of the scenario: the script ran on Redis, only its reply is missing.
                await().atMost(Duration.ofSeconds(5))
                        .untilAsserted(() -> assertThat(slotsOnRedis()).contains(token));
                if (healAfter && lost.get() <= 0) {
                    proxy.resume();
                }
                throw e;
            }
            throw new AssertionError("the acquisition answered " + answer + " although its reply was held back");
        }

        @Override
        public void close() {
            // The Redis store is closed by the test.
        }
    }

    @Test
    void firstReplyLost_theRepeatWithTheSameTokenHandsOutTheOneSlotTheLostCallTook() {
        LosingReplies store = new LosingReplies(1, true);

        Selection s = selector(store).select(SelectRequest.of(1L, "openai"));

        assertThat(s).isInstanceOf(Selection.Acquired.class);
        Selection.Acquired a = (Selection.Acquired) s;
        assertThat(store.tokens).hasSize(2).containsOnly(a.lease().token());
        // One slot, the caller's: the lost grant was not doubled, and nothing else holds the account.
        assertThat(slotsOnRedis()).containsExactly(a.lease().token());
        assertThat(redis.tryAcquire(ACCOUNT, 1, Duration.ofMinutes(1))).isInstanceOf(SlotAttempt.Full.class);
        assertThat(selector(redis).release(a.lease())).isTrue();
        assertThat(slotsOnRedis()).isEmpty();
    }

    @Test
    void everyReplyLost_theSelectFailsTypedAndLeavesNoSlot_theAccountIsFreeAtOnce() {
        LosingReplies store = new LosingReplies(2, false);

        Throwable failure = catchThrowable(() -> selector(store).select(SelectRequest.of(1L, "openai")));

        assertThat(failure).isInstanceOf(ProjectionUnavailableException.class);
        assertThat(store.tokens).hasSize(2).containsOnly(store.tokens.get(0));
        // The release ran on Redis although its reply was lost as well: the slot the lost call took is gone
        // (awaited only because the proxy forwards asynchronously; a leaked slot would stay for minutes).
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() ->
                        assertThat(slotsOnRedis()).as("slots held on Redis").isEmpty());
        // The first attempt's timeout and the release's (its reply was held back too) travel with the error.
        assertThat(failure.getSuppressed()).hasSize(2).allMatch(x -> x instanceof ProjectionUnavailableException);

        proxy.resume();
        // A concurrency-1 account: a second slot would be refused while a leaked one were held.
        Selection next = selector(redis).select(SelectRequest.of(1L, "openai"));
        assertThat(next).isInstanceOf(Selection.Acquired.class);
        assertThat(slotsOnRedis())
                .containsExactly(((Selection.Acquired) next).lease().token());
    }
}
