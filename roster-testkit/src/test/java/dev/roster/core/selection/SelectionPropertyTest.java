package dev.roster.core.selection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.config.SelectionConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * Random pools and random sequences of select, release, report and time passing, on in-memory ports and a
 * fake clock. After every step the selector's answers are checked against a model of the rules: slots
 * never exceed concurrency, no account inside a reported cooldown is served, cooldown deadlines are the
 * maximum ever reported, a lower-priority account is chosen only while every better one is saturated, and
 * a session stays on its account while it is a usable candidate.
 */
class SelectionPropertyTest {
    private static final List<CooldownKind> KINDS = List.of(CooldownKind.values());

    @Property(tries = 150, seed = "20260309")
    void selectionFollowsTheRules(
            @ForAll @IntRange(min = 1, max = 7) int accounts,
            @ForAll @IntRange(min = 10, max = 80) int steps,
            @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long seed) {
        Random rnd = new Random(seed);
        SelectionRig rig = new SelectionRig();
        List<AccountCard> pool = new ArrayList<>();
        for (long id = 1; id <= accounts; id++) {
            AccountCard c = TestCards.card(id, rnd.nextInt(3), 1 + rnd.nextInt(3));
            pool.add(rnd.nextBoolean() ? TestCards.withType(c, "oauth") : c);
        }
        rig.candidates.put(pool);
        Selector sel = rig.selector(
                SelectionRig.queues(1 + rnd.nextInt(3), 1 + rnd.nextInt(4)),
                SelectionConfig.DEFAULTS.withSlotLeaseTtl(Duration.ofSeconds(60)));

        Map<Long, EnumMap<CooldownKind, Instant>> cooldowns = new HashMap<>();
        Map<String, Long> bound = new HashMap<>();
        Map<String, Instant> boundUse = new HashMap<>();
        List<SlotLease> held = new ArrayList<>();
        List<WaitTicket> tickets = new ArrayList<>();

        for (int step = 0; step < steps; step++) {
            Instant now = rig.clock.instant();
            int op = rnd.nextInt(10);
            if (op < 5) {
                String session = rnd.nextInt(3) == 0 ? null : "s" + rnd.nextInt(3);
                boolean preferOAuth = rnd.nextBoolean();
                Map<Long, AccountLoad> before =
                        rig.store.loads(pool.stream().map(AccountCard::id).toList());
                Selection s = sel.select(
                        SelectRequest.of(1L, "anthropic").withSession(session).withPreferOAuth(preferOAuth));
                Long stuck = session == null ? null : bound.get(session);
                boolean live = stuck != null
                        && boundUse.get(session).plus(Duration.ofHours(1)).isAfter(now);
                if (live && cooling(cooldowns, stuck, now)) {
                    bound.remove(session); // the selector drops it
                }
                if (live && !cooling(cooldowns, stuck, now)) {
                    AccountCard b = pool.get((int) (stuck - 1));
                    if (before.get(stuck).inFlight() < b.concurrency()) {
                        assertThat(s).isInstanceOf(Selection.Acquired.class);
                        assertThat(((Selection.Acquired) s).card().id()).isEqualTo(stuck);
                        assertThat(((Selection.Acquired) s).sticky()).isTrue();
                    }
                }
                switch (s) {
                    case Selection.Acquired a -> {
                        long id = a.card().id();
                        assertThat(cooling(cooldowns, id, now))
                                .as("served inside a cooldown")
                                .isFalse();
                        if (a.layer() == Selection.Layer.LOAD_AWARE) {
                            for (AccountCard other : pool) {
                                if (other.priority() < a.card().priority() && !cooling(cooldowns, other.id(), now)) {
                                    assertThat(before.get(other.id()).loadRate(other.concurrency()))
                                            .as("better account %d was not saturated", other.id())
                                            .isGreaterThanOrEqualTo(100);
                                }
                            }
                        }
                        // A live binding to an account that is only full stays where it is: the
                        // session returns to it once a slot frees (decision SP2-3).
                        boolean keeps = live && !cooling(cooldowns, stuck, now) && id != stuck;
                        if (session != null && !keeps) {
                            bound.put(session, id);
                            boundUse.put(session, now);
                        }
                        held.add(a.lease());
                    }
                    case Selection.Wait w -> {
                        assertThat(cooling(cooldowns, w.accountId(), now)).isFalse();
                        tickets.add(w.ticket());
                    }
                    case Selection.None n -> {
                        if (n.reason() == Selection.Reason.COOLING_DOWN) {
                            assertThat(pool)
                                    .allSatisfy(c -> assertThat(cooling(cooldowns, c.id(), now))
                                            .isTrue());
                        } else {
                            assertThat(n.reason()).isEqualTo(Selection.Reason.SATURATED);
                        }
                    }
                }
            } else if (op < 7 && !held.isEmpty()) {
                sel.release(held.remove(rnd.nextInt(held.size())));
                if (!tickets.isEmpty() && rnd.nextBoolean()) {
                    sel.release(tickets.remove(rnd.nextInt(tickets.size())));
                }
            } else if (op < 9) {
                long id = 1L + rnd.nextInt(accounts);
                CooldownKind kind = KINDS.get(rnd.nextInt(KINDS.size()));
                Instant until = now.plusSeconds(1 + rnd.nextInt(300));
                Instant expected = cooldowns
                        .computeIfAbsent(id, k -> new EnumMap<>(CooldownKind.class))
                        .merge(kind, until, (a, b) -> a.isAfter(b) ? a : b);
                assertThat(rig.store.extendCooldown(id, kind, until)).isEqualTo(expected);
            } else {
                rig.clock.advance(Duration.ofSeconds(rnd.nextInt(120)));
            }

            // Invariants after every step.
            Instant t = rig.clock.instant();
            Map<Long, AccountLoad> loads =
                    rig.store.loads(pool.stream().map(AccountCard::id).toList());
            for (AccountCard c : pool) {
                AccountLoad l = loads.get(c.id());
                assertThat(l.inFlight()).isLessThanOrEqualTo(c.concurrency());
                assertThat(l.coolingUntil()).isEqualTo(latestAfter(cooldowns.get(c.id()), t));
            }
        }
    }

    private static boolean cooling(Map<Long, EnumMap<CooldownKind, Instant>> cooldowns, long id, Instant now) {
        return latestAfter(cooldowns.get(id), now) != null;
    }

    private static Instant latestAfter(EnumMap<CooldownKind, Instant> m, Instant now) {
        if (m == null) {
            return null;
        }
        Instant latest = null;
        for (Instant t : m.values()) {
            if (t.isAfter(now) && (latest == null || t.isAfter(latest))) {
                latest = t;
            }
        }
        return latest;
    }
}
