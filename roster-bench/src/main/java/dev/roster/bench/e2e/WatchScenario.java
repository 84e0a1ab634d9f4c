package dev.roster.bench.e2e;

import dev.roster.Roster;
import dev.roster.core.AccountCard;
import dev.roster.core.service.ListResult;
import dev.roster.server.http.HttpServer;
import dev.roster.testkit.Freshness;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * Watch stream, commit to event: the freshness setting of {@link FreshnessScenario} (its pool, three
 * instances on its configuration, its writer: one change per {@code 1/changesPerSecond}, a new growing
 * priority on the next of the 200 openai accounts, autocommit) with the HTTP server of the first
 * instance serving {@code GET /v1/watch?bucket=0:openai:single} to a real SSE client in this JVM over
 * loopback. In the same run, the same changes' commit to visible through {@code Roster.list} on that
 * serving instance, read by the testkit's {@link Freshness} reader: the baseline the watch figure is
 * compared with, and the answers that tell which event first shows which change (see {@link #match}).
 */
final class WatchScenario {
    record Size(int instances, int changesPerSecond, int readsPerSecond, double seconds) {
        static final Size FULL = new Size(3, 20, 1_000, 20);
        static final Size TINY = new Size(3, 20, 200, 3);
    }

    static final String BUCKET = "0:openai:single";
    private static final long GOAL_NANOS = TimeUnit.MILLISECONDS.toNanos(15);

    /** The watch arm's and the list arm's latencies, for the CDF plot. */
    final List<String> names = List.of("SSE event", "Roster.list (baseline)");

    final List<Histogram> histograms = new ArrayList<>();

    /** A bucket's (generation, version) as a list read or an event names it. */
    record Version(String generation, long version) {}

    /**
     * What {@link #match} found.
     *
     * @param latencies commit to event of each change matched to an event (ns)
     * @param matched changes matched to an event
     * @param unmatched changes a list read showed but no event did
     * @param unseen changes no list read showed (the reader gave up after its drain)
     * @param eventsCarrying events that were the first to show at least one change
     * @param mostPerEvent the most changes one event was the first to show
     * @param unreadVersions events (after the first) whose version no list read returned
     */
    record Matches(
            Histogram latencies,
            long matched,
            long unmatched,
            long unseen,
            long eventsCarrying,
            long mostPerEvent,
            long unreadVersions) {}

    void run(Size size, Report report, String command) throws Exception {
        Pool pool = FreshnessScenario.POOL;
        try (Stores s = Stores.start("watch")) {
            pool.insert(s);
            List<Long> ids = FreshnessScenario.openaiAccounts();
            List<Roster> rosters = new ArrayList<>();
            try {
                FreshnessScenario.startWarm(s, size.instances(), rosters);
                Roster serving = rosters.getFirst();
                try (HttpServer server = HotPathScenario.server(serving)) {
                    int port = server.start();
                    measure(s, ids, serving, port, size, report, command);
                }
            } finally {
                for (Roster r : rosters) {
                    r.close();
                }
            }
        }
    }

    private void measure(Stores s, List<Long> ids, Roster serving, int port, Size size, Report report, String command)
            throws Exception {
        HttpClient http = SseWatchClient.httpClient();
        try (SseWatchClient sse = SseWatchClient.open(http, port, BUCKET)) {
            // The stream opens with the bucket's current state: from then on every change is announced.
            if (!Stores.await(() -> !sse.events().isEmpty(), 30)) {
                throw new IllegalStateException("no initial watch event within 30 s", sse.failure());
            }
            String load = Machine.load();

            // The baseline reader, on the serving instance; it also keeps the cards of each version it
            // reads, from which the events' versions are told apart (see match).
            Map<Version, List<AccountCard>> answers = new HashMap<>();
            Supplier<List<AccountCard>> list = () -> {
                ListResult r = serving.list(null, "openai", false);
                answers.putIfAbsent(new Version(r.generation(), r.version()), r.accounts());
                return r.accounts();
            };
            Histogram listLatency = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
            Freshness.Seen seen = (c, at) -> listLatency.recordValue(Math.max(0, at - c.sentNanos()));
            ConcurrentLinkedQueue<Freshness.Change> readerInbox = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Freshness.Change> committed = new ConcurrentLinkedQueue<>();
            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicLong reads = new AtomicLong();
            AtomicLong notSeen = new AtomicLong();
            List<Throwable> readerErrors = new CopyOnWriteArrayList<>();
            Thread reader = Thread.ofPlatform()
                    .name("bench-watch-list-reader")
                    .uncaughtExceptionHandler((t, e) -> readerErrors.add(e))
                    .start(() -> Freshness.read(
                            list, readerInbox, seen, reads, notSeen, writing, size.readsPerSecond(), true));
            long writeStart = System.nanoTime();
            long changes;
            try {
                changes = Freshness.write(
                        s::connect, ids, List.of(readerInbox, committed), size.changesPerSecond(), size.seconds());
            } finally {
                writing.set(false);
            }
            double writeSeconds = (System.nanoTime() - writeStart) / 1e9;
            // The reader drains (up to Freshness.DRAIN_NANOS) before it ends; then every version is known.
            reader.join();
            if (!readerErrors.isEmpty()) {
                throw new IllegalStateException("the list reader failed", readerErrors.getFirst());
            }
            List<Freshness.Change> order = new ArrayList<>(committed);
            // The reader has seen every change (or given up after its drain); the events of the last versions
            // may still be on their way.
            Stores.await(
                    () -> {
                        Matches now = match(order, answers, sse.events());
                        return now.matched() + now.unseen() == order.size();
                    },
                    TimeUnit.NANOSECONDS.toSeconds(Freshness.DRAIN_NANOS));
            Matches m = match(order, answers, sse.events());
            histograms.add(m.latencies());
            histograms.add(listLatency);
            report(report, command, size, load, changes, writeSeconds, reads.get(), notSeen.get(), listLatency, m, sse);
        }
    }

    /**
     * Pairs each change with the first event, in arrival order, whose answer shows it; one event may be
     * the first to show several changes. For an event of a version some list read returned, whether it
     * shows change {@code c} is read from that answer's cards (the account at {@code c}'s priority or a
     * higher one: only the writer changes them, and it only raises them). For an event of a version no read
     * returned (the instance replaced it within one read period), it shows {@code c} when it is of a
     * generation in which some read showed {@code c} and its version is at least that read's: versions
     * only grow within a generation and replay applies commits in order. That fallback can give a change
     * to a later event than the first that showed it, overstating its latency, never understating it;
     * {@link Matches#unreadVersions()} counts the events it applied to.
     *
     * @param order the changes in commit order
     * @param answers for each version a list read returned, that read's cards
     * @param events the events of the bucket in arrival order
     */
    static Matches match(
            List<Freshness.Change> order, Map<Version, List<AccountCard>> answers, List<SseWatchClient.Event> events) {
        Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
        long matched = 0;
        long unmatched = 0;
        long unseen = 0;
        Map<Integer, Integer> perEvent = new HashMap<>();
        for (Freshness.Change c : order) {
            // Per generation, the lowest version a read returned that shows c.
            Map<String, Long> shownFrom = new HashMap<>();
            answers.forEach((v, cards) -> {
                if (shows(cards, c)) {
                    shownFrom.merge(v.generation(), v.version(), Math::min);
                }
            });
            if (shownFrom.isEmpty()) {
                unseen++;
                continue;
            }
            int found = -1;
            for (int i = 0; i < events.size() && found < 0; i++) {
                SseWatchClient.Event e = events.get(i);
                List<AccountCard> cards = answers.get(new Version(e.generation(), e.version()));
                Long from = shownFrom.get(e.generation());
                if (cards != null ? shows(cards, c) : from != null && e.version() >= from) {
                    found = i;
                }
            }
            if (found < 0) {
                unmatched++;
                continue;
            }
            matched++;
            h.recordValue(Math.max(0, events.get(found).arrivedNanos() - c.sentNanos()));
            perEvent.merge(found, 1, Integer::sum);
        }
        long unread = 0;
        for (int i = 1; i < events.size(); i++) {
            SseWatchClient.Event e = events.get(i);
            if (!answers.containsKey(new Version(e.generation(), e.version()))) {
                unread++;
            }
        }
        long most =
                perEvent.values().stream().mapToLong(Integer::longValue).max().orElse(0);
        return new Matches(h, matched, unmatched, unseen, perEvent.size(), most, unread);
    }

    /** Whether {@code cards} show change {@code c}: its account at its priority or a later, higher one. */
    private static boolean shows(List<AccountCard> cards, Freshness.Change c) {
        for (AccountCard card : cards) {
            if (card.id() == c.accountId()) {
                return card.priority() >= c.priority();
            }
        }
        return false;
    }

    private static void report(
            Report report,
            String command,
            Size size,
            String load,
            long changes,
            double writeSeconds,
            long reads,
            long listNotSeen,
            Histogram list,
            Matches m,
            SseWatchClient sse) {
        Histogram w = m.latencies();
        boolean met = m.matched() == changes && w.getValueAtPercentile(99) <= GOAL_NANOS;
        Report.Section sec = report.section("Watch: commit to event")
                .goal("p99 ≤ 15 ms (the freshness target), every change announced; 3 instances, 20 changes/s.")
                .command(command)
                .table(
                        "arm (same run, same changes)",
                        "changes seen",
                        "p50",
                        "p99",
                        "max",
                        "not seen within 10 s",
                        "load avg at start (1/5/15)")
                .row(
                        "SSE `GET /v1/watch?bucket=" + BUCKET + "`, commit → event",
                        Report.n(m.matched()),
                        Report.ms(w.getValueAtPercentile(50)),
                        "**" + Report.ms(w.getValueAtPercentile(99)) + "**",
                        Report.ms(w.getMaxValue()),
                        m.unmatched() + m.unseen(),
                        load)
                .row(
                        "`Roster.list` on the serving instance, commit → visible (baseline)",
                        Report.n(list.getTotalCount()),
                        Report.ms(list.getValueAtPercentile(50)),
                        Report.ms(list.getValueAtPercentile(99)),
                        Report.ms(list.getMaxValue()),
                        listNotSeen,
                        load);
        sec.note(Report.f(
                "%,d changes committed in %.1f s (%.1f/s; target %d/s) on %d instances; the first instance serves"
                        + " HTTP, its list reader ran at %d reads/s (%,d reads). Goal p99 ≤ 15 ms and every change"
                        + " announced: %s. Load average at the end: %s.%s",
                changes,
                writeSeconds,
                changes / writeSeconds,
                size.changesPerSecond(),
                size.instances(),
                size.readsPerSecond(),
                reads,
                met ? "met" : "**missed**",
                Machine.load(),
                sse.failure() == null ? "" : " The stream failed: " + sse.failure() + "."));
        sec.note(Report.f(
                "Which event shows a change: the first `change` event of the bucket to arrive whose answer"
                        + " shows it. The list reader keeps the cards of every (generation, version) it reads; for an"
                        + " event of such a version, whether it shows change *c* is read from those cards (*c*'s"
                        + " account at *c*'s priority or higher). For an event of a version no read returned (the"
                        + " instance replaced it within one read period) it is taken to show *c* when some read of"
                        + " its generation at a version no higher showed *c* (versions only grow within a"
                        + " generation, replay applies commits in order); that can only overstate a latency: %,d"
                        + " such events of %,d received. One event may be the first to show several changes: %,d"
                        + " events showed the %,d changes, at most %d each. Latency: from just before the UPDATE is"
                        + " sent to the SSE client reading the blank line that ends the event (JDK HttpClient,"
                        + " HTTP/1.1, same JVM); the baseline's, to the first list read showing the change (the"
                        + " `freshness` scenario's measure, on one instance).%s CDF: `watch-cdf.png`.",
                m.unreadVersions(),
                sse.events().size(),
                m.eventsCarrying(),
                m.matched(),
                m.mostPerEvent(),
                m.unseen() > 0
                        ? Report.f(" %,d changes no list read showed are counted as not seen in both arms.", m.unseen())
                        : ""));
        report.add(sec);
    }
}
