package dev.roster.core.selection;

import static dev.roster.core.selection.SelectionRig.none;
import static dev.roster.core.selection.SelectionRig.waiting;
import static dev.roster.core.selection.TestCards.card;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.config.SelectionConfig;
import dev.roster.core.config.TicketSecret;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Waits that end (decision SP1): one deadline from the first enqueue whatever the retries, {@code
 * WAIT_EXPIRED} past it with the place handed back, and sealed tickets that no other request, no forger
 * and no selector with another key can use; two selectors with the same key accept each other's tickets.
 */
class SelectorWaitDeadlineTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef-shared";
    private static final SelectionConfig SHARED =
            SelectionConfig.DEFAULTS.withWaitTicketSecret(TicketSecret.of(SECRET));

    private final SelectionRig rig = new SelectionRig();
    private final SelectRequest req =
            SelectRequest.of(1L, "anthropic").withSession("conv-1").withModel("claude-opus-4");

    private int waitingOn(long id) {
        return rig.store.loads(List.of(id)).get(id).waiting();
    }

    /** Account 1 (concurrency 1) held by another request: every select of {@code req} waits on it. */
    private Selector full() {
        rig.candidates.put(card(1, 0, 1));
        Selector sel = rig.selector(SelectionRig.queues(3, 3), SHARED);
        assertThat(sel.select(SelectRequest.of(1L, "anthropic"))).isInstanceOf(Selection.Acquired.class);
        return sel;
    }

    @Test
    void aRetryKeepsTheFirstDeadline_neverAFreshTimeout() {
        Selector sel = full();
        Selection.Wait first = waiting(sel.select(req));
        Instant deadline = rig.clock.instant().plus(Duration.ofSeconds(30));
        assertThat(first.ticket().expiresAt()).isEqualTo(deadline);
        assertThat(first.timeout()).isEqualTo(Duration.ofSeconds(30));

        Selection.Wait w = first;
        for (int i = 1; i <= 5; i++) {
            rig.clock.advance(Duration.ofSeconds(5));
            w = waiting(sel.select(req.withWaitTicket(w.ticket())));
            assertThat(w.ticket().expiresAt()).as("retry %d", i).isEqualTo(deadline);
            assertThat(w.timeout()).isEqualTo(Duration.ofSeconds(30 - 5L * i));
            assertThat(w.ticket().token()).isNotEqualTo(first.ticket().token());
            assertThat(waitingOn(1)).as("counted once").isEqualTo(1);
        }
        // The store's place ends with the deadline too: a client that stops retrying frees it then.
        rig.clock.advance(Duration.ofSeconds(5));
        assertThat(waitingOn(1)).isZero();
    }

    @Test
    void pastItsDeadline_aRetryAnswersWaitExpired_andHandsThePlaceBack() {
        Selector sel = full();
        Selection.Wait w = waiting(sel.select(req));
        rig.clock.advance(Duration.ofSeconds(29));
        w = waiting(sel.select(req.withWaitTicket(w.ticket())));
        rig.clock.advance(Duration.ofMillis(999));
        assertThat(waitingOn(1)).isEqualTo(1);
        // The slot is free now, but the wait is over: expired, not served.
        rig.store.sweep(List.of(1L));
        rig.clock.advance(Duration.ofMillis(1));
        Selection.None n = none(sel.select(req.withWaitTicket(w.ticket())));
        assertThat(n.reason()).isEqualTo(Selection.Reason.WAIT_EXPIRED);
        assertThat(n.until()).isEqualTo(w.ticket().expiresAt());
        assertThat(n.detail()).contains("account 1").contains("ended at");
        assertThat(waitingOn(1)).isZero();
        assertThat(rig.counters.nones().get(Selection.Reason.WAIT_EXPIRED)).isEqualTo(1);
    }

    @Test
    void anExpiredTicketIsNotServedEvenWhenTheAccountIsFree() {
        rig.candidates.put(card(1, 0, 1));
        Selector sel = rig.selector(SelectionRig.queues(3, 3), SHARED);
        Selection.Acquired held = (Selection.Acquired) sel.select(SelectRequest.of(1L, "anthropic"));
        Selection.Wait w = waiting(sel.select(req));
        sel.release(held.lease());
        rig.clock.advance(Duration.ofSeconds(31));
        assertThat(none(sel.select(req.withWaitTicket(w.ticket()))).reason()).isEqualTo(Selection.Reason.WAIT_EXPIRED);
        assertThat(rig.store.loads(List.of(1L)).get(1L).inFlight()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {"made up", "unsealed", "deadline moved", "account changed", "token changed", "seal changed"})
    void aForgedOrAlteredTicketIsRefused_andNothingIsTried(String how) {
        rig.candidates.put(List.of(card(1, 0, 1), card(2, 5, 1)));
        Selector sel = rig.selector(SelectionRig.queues(3, 3), SHARED);
        Selection.Acquired held = (Selection.Acquired) sel.select(SelectRequest.of(1L, "anthropic"));
        assertThat(held.card().id()).isEqualTo(1);
        Selection.Acquired other = (Selection.Acquired) sel.select(SelectRequest.of(1L, "anthropic"));
        Selection.Wait w = waiting(sel.select(req));
        sel.release(other.lease()); // account 2 is free: a direct attempt on it would be granted
        WaitTicket t = w.ticket();
        WaitTicket bad = switch (how) {
            case "made up" -> new WaitTicket(2, Tokens.random(), t.expiresAt(), Tokens.random());
            case "unsealed" -> new WaitTicket(t.accountId(), t.token(), t.expiresAt());
            case "deadline moved" ->
                new WaitTicket(t.accountId(), t.token(), t.expiresAt().plusSeconds(600), t.seal());
            case "account changed" -> new WaitTicket(2, t.token(), t.expiresAt(), t.seal());
            case "token changed" -> new WaitTicket(t.accountId(), Tokens.random(), t.expiresAt(), t.seal());
            default -> new WaitTicket(t.accountId(), t.token(), t.expiresAt(), Tokens.random());
        };
        assertThatThrownBy(() -> sel.select(req.withWaitTicket(bad)))
                .isInstanceOf(InvalidWaitTicketException.class)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("wait ticket");
        // Nothing written: no slot taken on the free account, the genuine place still counted.
        assertThat(rig.store.loads(List.of(2L)).get(2L).inFlight()).isZero();
        assertThat(waitingOn(1)).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"session", "model", "group", "platform"})
    void aTicketOfAnotherRequestIsRefused(String field) {
        Selector sel = full();
        WaitTicket t = waiting(sel.select(req)).ticket();
        UnaryOperator<SelectRequest> change = switch (field) {
            case "session" -> r -> r.withSession("conv-2");
            case "model" -> r -> r.withModel("claude-haiku-4");
            case "group" ->
                r -> SelectRequest.of(2L, "anthropic").withSession("conv-1").withModel("claude-opus-4");
            default -> r -> SelectRequest.of(1L, "openai").withSession("conv-1").withModel("claude-opus-4");
        };
        SelectRequest other = change.apply(req).withWaitTicket(t);
        assertThatThrownBy(() -> sel.select(other))
                .isInstanceOf(InvalidWaitTicketException.class)
                .hasMessageContaining("not issued for this request");
        assertThat(waitingOn(1)).isEqualTo(1);
        // The excluded ids may change between failover retries: the ticket still holds.
        assertThat(sel.select(req.withExcluded(java.util.Set.of(9L)).withWaitTicket(t)))
                .isInstanceOf(Selection.Wait.class);
    }

    @Test
    void aTicketOfOneSelectorIsAcceptedByAnotherWithTheSameSecret_refusedUnderAnother() {
        Selector a = full();
        Selector b = rig.selector(SelectionRig.queues(3, 3), SHARED);
        Selector stranger = rig.selector(
                SelectionRig.queues(3, 3),
                SelectionConfig.DEFAULTS.withWaitTicketSecret(TicketSecret.of("another-secret-of-32-characters-x")));
        Selection.Wait w = waiting(a.select(req));
        assertThatThrownBy(() -> stranger.select(req.withWaitTicket(w.ticket())))
                .isInstanceOf(InvalidWaitTicketException.class)
                .hasMessageContaining("selection.wait_ticket_secret");
        rig.clock.advance(Duration.ofSeconds(10));
        Selection.Wait onB = waiting(b.select(req.withWaitTicket(w.ticket())));
        assertThat(onB.ticket().expiresAt()).isEqualTo(w.ticket().expiresAt());
        rig.clock.advance(Duration.ofSeconds(10));
        Selection.Wait backOnA = waiting(a.select(req.withWaitTicket(onB.ticket())));
        assertThat(backOnA.ticket().expiresAt()).isEqualTo(w.ticket().expiresAt());
        assertThat(waitingOn(1)).isEqualTo(1);
    }

    @Test
    void onlyALivePlaceGetsTheDirectSlotAttempt_aReplayedTicketGoesThroughTheOrder() {
        // Account 1 has priority 0, account 2 priority 5; one place per fallback queue.
        rig.candidates.put(List.of(card(1, 0, 1), card(2, 5, 1)));
        Selector sel = rig.selector(SelectionRig.queues(3, 1), SHARED);
        SelectRequest anyone = SelectRequest.of(1L, "anthropic");
        SelectRequest mine = anyone.withModel("claude-opus-4");
        Selection.Acquired on1 = (Selection.Acquired) sel.select(anyone);
        Selection.Acquired on2 = (Selection.Acquired) sel.select(anyone);
        Selection.Wait theirs = waiting(sel.select(anyone));
        assertThat(theirs.accountId()).isEqualTo(1);
        Selection.Wait used = waiting(sel.select(mine));
        assertThat(used.accountId()).isEqualTo(2);
        Selection.Wait live = waiting(sel.select(mine.withWaitTicket(used.ticket())));
        assertThat(live.accountId()).isEqualTo(2);
        sel.release(on1.lease());
        sel.release(on2.lease());
        sel.release(theirs.ticket()); // a waiter counts in the load rate: account 1 is idle now

        // The first ticket's place was handed back by its retry: no poll of account 2 for it.
        Selection.Acquired replayed = (Selection.Acquired) sel.select(mine.withWaitTicket(used.ticket()));
        assertThat(replayed.card().id()).isEqualTo(1);
        assertThat(replayed.layer()).isEqualTo(Selection.Layer.LOAD_AWARE);
        // The live place polls its account directly (sub2api's waiting loop), ahead of the order.
        Selection.Acquired polled = (Selection.Acquired) sel.select(mine.withWaitTicket(live.ticket()));
        assertThat(polled.card().id()).isEqualTo(2);
        assertThat(polled.layer()).isEqualTo(Selection.Layer.FALLBACK);
    }
}
