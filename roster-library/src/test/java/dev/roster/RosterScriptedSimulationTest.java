package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.ScriptedSimulation.Run;
import dev.roster.core.config.CooldownPolicy;
import dev.roster.core.selection.Selection;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The scripted selection simulation (decision SIM1): three Roster instances on real PostgreSQL and Redis
 * serve fifteen clients for 16 minutes of simulated time (a shared {@link dev.roster.testkit.TestClock})
 * against an upstream that follows a script:
 *
 * <ul>
 *   <li>bursts of 429 without reset: at 2 min on every account (staggered by a second), at 7 min for 8 s
 *       and at 5 min for 4 s on a1–a3 (none after a4 turns slow, so a6 has room for a4's sessions);
 *   <li>a3 refuses model m-b from 30 s on (MODEL_UNSUPPORTED for that model only);
 *   <li>a5's 5-hour quota window fills by 2 % per served request (reported with each success) and resets
 *       at 10 min; the pool pauses an account at 80 %;
 *   <li>a4 answers with a 30 s time to first token (the sticky threshold is 20 s) from 8 min on.
 * </ul>
 *
 * The same script runs twice, with the escalating default cooldowns and with a fixed 10-minute one (the
 * A/B of sub2api #7219). The oracle ({@link SimulationOracle}) judges from what the clients saw and
 * reported, never through Roster's rules: in flight never above concurrency, no account above its RPM in
 * any 60 s window, no request inside a cooldown, what a burst costs an account, that the refused model
 * leaves the account serving the other, the quota pause, the slow sticky account's sessions moving while
 * their bindings stay (read from the raw Redis key), and the requests that got no account per policy.
 */
class RosterScriptedSimulationTest {
    private static final Duration LENGTH = Duration.ofMinutes(16);
    /** The defaults' longest 429 step: after a burst, an account cools at most this long. */
    private static final Duration LONGEST_STEP = Duration.ofSeconds(45);
    /** A few ticks for a free account to be picked by one of the clients. */
    private static final Duration PICK_SLACK = Duration.ofSeconds(5);

    private static final Duration SLOW_FROM = Duration.ofMinutes(8);

    static ScriptedUpstream script(ScriptedUpstream u, Map<String, Long> a) {
        for (int i = 1; i <= 6; i++) {
            long id = a.get("a" + i);
            u.burst429(id, Duration.ofSeconds(120 + i), Duration.ofSeconds(126 + i));
        }
        for (String n : List.of("a1", "a2", "a3")) {
            u.burst429(a.get(n), Duration.ofSeconds(420), Duration.ofSeconds(428));
            u.burst429(a.get(n), Duration.ofSeconds(300), Duration.ofSeconds(304));
        }
        u.refuses(a.get("a3"), "m-b", Duration.ofSeconds(30));
        u.quotaWindow(a.get("a5"), 2, Duration.ofMinutes(10));
        u.slowFrom(a.get("a4"), SLOW_FROM);
        return u;
    }

    @Test
    void sameScript_escalatingAndFixedCooldowns_invariantsHoldAndEscalationLeavesFewerRequestsWithoutAccount()
            throws Exception {
        RedisHarness.shared().start();
        Run escalating = new ScriptedSimulation(
                        new Servers(RosterScriptedSimulationTest.class, "escalating"),
                        "escalating (CooldownPolicy.DEFAULTS)",
                        CooldownPolicy.DEFAULTS,
                        LENGTH,
                        SLOW_FROM)
                .run(RosterScriptedSimulationTest::script);
        Run fixed = new ScriptedSimulation(
                        new Servers(RosterScriptedSimulationTest.class, "fixed"),
                        "fixed 10 min",
                        CooldownPolicy.fixed(Duration.ofMinutes(10), Duration.ofMinutes(10)),
                        LENGTH,
                        SLOW_FROM)
                .run(RosterScriptedSimulationTest::script);

        for (Run run : List.of(escalating, fixed)) {
            System.out.printf(
                    "scripted simulation, %s: %d served, %d without account, client errors %s, %d calls,"
                            + " burst costs a1 %s a2 %s a3 %s a4 %s a5 %s a6 %s, %d Redis samples, %d ms real for %s simulated%n",
                    run.policy(),
                    run.served(),
                    SimulationOracle.noAccount(run),
                    SimulationOracle.clientErrors(run),
                    run.calls().size(),
                    SimulationOracle.burstCosts(run, run.id("a1")),
                    SimulationOracle.burstCosts(run, run.id("a2")),
                    SimulationOracle.burstCosts(run, run.id("a3")),
                    SimulationOracle.burstCosts(run, run.id("a4")),
                    SimulationOracle.burstCosts(run, run.id("a5")),
                    SimulationOracle.burstCosts(run, run.id("a6")),
                    run.redisSamples(),
                    run.realMillis(),
                    LENGTH);
        }

        for (Run run : List.of(escalating, fixed)) {
            List<String> violations = new ArrayList<>(run.violations());
            violations.addAll(SimulationOracle.inFlightWithinConcurrency(run));
            violations.addAll(SimulationOracle.rpmInEverySlidingWindow(run));
            violations.addAll(SimulationOracle.cooldownsHonoured(run));
            violations.addAll(SimulationOracle.refusedModelCallsAfterRefusal(run, run.id("a3"), "m-b"));
            int otherModel = SimulationOracle.otherModelsServedAfterRefusal(
                    run, run.id("a3"), "m-b", Duration.ofSeconds(60), violations);
            assertThat(violations).as(run.policy()).isEmpty();
            assertThat(otherModel)
                    .as("%s: a3 keeps serving m-a in the minute after refusing m-b", run.policy())
                    .isPositive();
            assertThat(run.redisSamples()).isPositive();
            // The pool was driven to saturation and to an RPM limit, so those checks prove something.
            assertThat(run.upstreamMax().entrySet())
                    .anySatisfy(e ->
                            assertThat(e.getValue()).isEqualTo(run.concurrency().get(e.getKey())));
            assertThat(run.calls())
                    .as("%s: some select skipped an account for its RPM limit", run.policy())
                    .anySatisfy(c -> assertThat(c.skipped()).containsValue(Selection.Reason.RPM_FULL));
        }

        // A burst of 429s costs seconds under the escalating steps: the account serves again within the
        // longest step after the burst's last 429, or, with an RPM limit, once the burst's own requests
        // have left the 60 s window. Under the fixed policy each burst costs about ten minutes.
        for (String name : List.of("a1", "a2", "a3", "a4", "a5", "a6")) {
            long id = escalating.id(name);
            Duration bound =
                    (escalating.rpmLimit().containsKey(id) ? Duration.ofSeconds(60) : LONGEST_STEP).plus(PICK_SLACK);
            List<Duration> costs = SimulationOracle.burstCosts(escalating, id);
            if (!name.equals("a5")) {
                // a5 pauses for its quota before the first burst comes, so it may never see one.
                assertThat(costs).as("bursts on %s", name).isNotEmpty();
            }
            assertThat(costs)
                    .as("what each burst cost %s under the escalating policy", name)
                    .allSatisfy(d -> assertThat(d).isLessThanOrEqualTo(bound));
        }
        for (String name : List.of("a1", "a2", "a3")) {
            assertThat(SimulationOracle.burstCosts(fixed, fixed.id(name)))
                    .as("what each burst cost %s under the fixed policy", name)
                    .isNotEmpty()
                    .allSatisfy(d -> assertThat(d).isGreaterThanOrEqualTo(Duration.ofMinutes(3)));
        }

        // The quota window: a5 pauses once a report says 80 %, is never sent a request its quota refuses,
        // and serves again after the window resets.
        assertThat(SimulationOracle.quotaThresholdStep(
                        escalating, escalating.id("a5"), ScriptedSimulation.QUOTA_THRESHOLD))
                .isEmpty();

        // The slow account: its sessions move elsewhere within three minutes of its first slow answer,
        // and their bindings still name it at the end.
        AtomicInteger judged = new AtomicInteger();
        assertThat(SimulationOracle.slowStickyStep(
                        escalating, escalating.id("a4"), escalating.id("a6"), Duration.ofMinutes(3), judged))
                .isEmpty();
        assertThat(judged)
                .as("requests of a4's sessions judged while a6 had room")
                .hasPositiveValue();

        int escNone = SimulationOracle.noAccount(escalating);
        int fixNone = SimulationOracle.noAccount(fixed);
        System.out.printf(
                "requests without account (Selection.None): escalating %d, fixed 10 min %d%n", escNone, fixNone);
        assertThat(escNone)
                .as(
                        "requests that got no account: escalating %s vs fixed %s",
                        SimulationOracle.clientErrors(escalating), SimulationOracle.clientErrors(fixed))
                .isLessThan(fixNone);
        assertThat(escalating.served()).isGreaterThan(fixed.served());
    }
}
