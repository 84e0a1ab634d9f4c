package dev.roster.server.cli;

import dev.roster.Roster;
import dev.roster.core.AccountCard;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.service.ListResult;
import dev.roster.postgres.Migrator;
import dev.roster.server.app.EmbeddedStores;
import dev.roster.server.app.LibraryBackend;
import dev.roster.server.config.ConfigLoader;
import dev.roster.server.config.RosterConfig;
import dev.roster.server.http.HttpServer;
import dev.roster.server.http.Metrics;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code roster demo}: the guided tour on the embedded default in a fresh temporary folder. Every
 * figure it prints is measured in this run: how long a plain-SQL change takes to reach the hot path,
 * an account returning when its rate limit ends with no event, a bulk update coalesced into one
 * event, the hot path with Redis stopped, the rebuild after Redis comes back empty, the audit.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "The guided tour, with timings measured live, ending with a summary table.",
            "Embedded PostgreSQL and Redis in a fresh temporary folder, a pool of 300 accounts, then",
            "SQL changes, an expiring rate limit, a bulk update, a Redis outage and flush, the audit."
        })
final class DemoCommand implements Callable<Integer> {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Option(
            names = "--accounts-per-platform",
            defaultValue = "75",
            description = "Sample size per platform, four platforms (default ${DEFAULT-VALUE}).")
    int perPlatform;

    @Option(names = "--keep", description = "Keep the temporary data folder.")
    boolean keep;

    @SuppressWarnings("NullAway.Init") // picocli sets it before call()
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @SuppressWarnings("NullAway.Init") // set first thing in call()
    private PrintWriter out;

    private final Map<String, String> summary = new LinkedHashMap<>();
    private long start;

    @Override
    public Integer call() throws Exception {
        if (perPlatform < 60 || perPlatform > 10_000) {
            throw new IllegalArgumentException(
                    "--accounts-per-platform must be between 60 and 10000 (the bulk step updates 200), got "
                            + perPlatform);
        }
        out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("roster-demo");
        try {
            run(dir);
        } finally {
            if (!keep) {
                deleteTree(dir);
            } else {
                out.println("data kept in " + dir);
            }
        }
        return 0;
    }

    private void step(int n, String what) {
        out.println();
        out.println("[" + n + "/9] " + what + "  (t+" + secs(System.nanoTime() - start) + ")");
        out.flush();
    }

    private void say(String line) {
        out.println("      " + line);
        out.flush();
    }

    private void run(Path dir) throws Exception {
        start = System.nanoTime();
        quietLogs();
        out.println("Roster demo: the bucket query served from PostgreSQL through Redis and a near cache.");
        out.println("Everything below runs on real servers started now in " + dir);

        step(1, "starting embedded PostgreSQL and Redis");
        RosterConfig defaults = new ConfigLoader(Map.of(), dir).load(null).config();
        RosterConfig cfg = new RosterConfig(
                defaults.database(),
                defaults.redis(),
                defaults.server().withPort(0),
                new RosterConfig.Embedded(true, dir),
                // A short staleness bound so the Redis-outage step fits in the tour.
                ServiceConfig.DEFAULTS.withNearCache(
                        NearCacheConfig.DEFAULTS.withTiming(Duration.ofSeconds(2), Duration.ofMillis(500))));
        long t = System.nanoTime();
        try (EmbeddedStores stores = EmbeddedStores.start(cfg, this::say, true)) {
            RosterConfig rc = stores.resolved();
            summary.put("embedded servers started", secs(System.nanoTime() - t));
            try (SamplePool sql =
                    SamplePool.open(rc.database().resolvedUrl(), rc.database().user())) {
                tour(stores, rc, sql);
            }
        }
        out.println();
        out.println("Demo finished in " + secs(System.nanoTime() - start) + ".");
    }

    private void tour(EmbeddedStores stores, RosterConfig rc, SamplePool sql) throws Exception {
        step(2, "migrating and loading the sample pool with plain SQL");
        long t = System.nanoTime();
        Migrator.Result m = sql.migrate();
        int accounts = sql.load(Instant.now().truncatedTo(ChronoUnit.SECONDS), perPlatform);
        long events = sql.scalar("SELECT count(*) FROM scheduler_outbox");
        say(m.applied() + " migrations, " + SamplePool.GROUPS.size() + " groups on 4 platforms, " + accounts
                + " accounts; the capture triggers wrote " + events + " outbox events ("
                + secs(System.nanoTime() - t) + ")");
        summary.put(
                "pool loaded",
                SamplePool.GROUPS.size() + " groups, " + accounts + " accounts, " + events + " events, "
                        + secs(System.nanoTime() - t));

        step(3, "starting Roster (library) and its initial full rebuild");
        t = System.nanoTime();
        try (LibraryBackend lib = new LibraryBackend(Roster.builder()
                .jdbc(rc.database().resolvedUrl(), rc.database().user(), "")
                .redisUri(rc.redis().resolvedUrl())
                .config(rc.service())
                .migrate(false)
                .build())) {
            Roster roster = lib.roster();
            if (!waitFor(roster::ready)) {
                throw new IllegalStateException("Roster was not ready within " + WAIT);
            }
            say("ready: " + roster.admin().buckets().size() + " buckets published to Redis in "
                    + secs(System.nanoTime() - t));
            summary.put(
                    "initial full rebuild",
                    roster.admin().buckets().size() + " buckets, " + secs(System.nanoTime() - t));
            long main = sql.groupId("claude-main");
            tourBody(stores, roster, sql, main, lib);
        }
    }

    private void tourBody(EmbeddedStores stores, Roster roster, SamplePool sql, long main, LibraryBackend lib)
            throws Exception {
        step(4, "the ordered lists of a few buckets (order: link priority, account priority, id)");
        for (Object[] q : new Object[][] {
            {main, "anthropic", false},
            {main, "anthropic", true},
            {0L, "openai", false},
            {sql.groupId("gemini-pro"), "gemini", false}
        }) {
            roster.list((Long) q[0], (String) q[1], (Boolean) q[2]); // warm the near cache
            long t = System.nanoTime();
            ListResult r = roster.list((Long) q[0], (String) q[1], (Boolean) q[2]);
            long ns = System.nanoTime() - t;
            say(String.format(
                    "%-20s %3d accounts from %-10s in %6.1f µs: %s",
                    r.bucket().text(), r.accounts().size(), tier(r), ns / 1e3, names(r.accounts(), 4)));
        }
        ListResult before = roster.list(main, "anthropic", false);
        summary.put("hot path read (near cache)", micros(() -> roster.list(main, "anthropic", false)));

        step(5, "a status change made with plain SQL, and how long until the hot path reflects it");
        AccountCard first = before.accounts().getFirst();
        long t = System.nanoTime();
        sql.exec("UPDATE accounts SET status = 'disabled' WHERE id = " + first.id());
        boolean gone = waitFor(() -> !ids(roster.list(main, "anthropic", false)).contains(first.id()));
        long changed = System.nanoTime() - t;
        say(first.name() + "#" + first.id() + " disabled by SQL; "
                + (gone
                        ? "gone from " + before.bucket().text() + " after " + ms(changed)
                        : "still listed after " + WAIT));
        sql.exec("UPDATE accounts SET status = 'active' WHERE id = " + first.id());
        waitFor(() -> ids(roster.list(main, "anthropic", false)).contains(first.id()));
        summary.put("SQL status change -> hot path", gone ? ms(changed) : "not within " + WAIT);

        step(6, "a rate limit that expires: the account returns at that instant, with no event");
        AccountCard second = roster.list(main, "anthropic", false).accounts().get(1);
        Instant reset = Instant.now().plusSeconds(3);
        sql.exec("UPDATE accounts SET rate_limit_reset_at = '" + reset + "' WHERE id = " + second.id());
        waitFor(() -> !ids(roster.list(main, "anthropic", false)).contains(second.id()));
        long outboxBefore = sql.scalar("SELECT coalesce(max(id), 0) FROM scheduler_outbox");
        say(second.name() + "#" + second.id() + " rate-limited until " + reset.truncatedTo(ChronoUnit.MILLIS)
                + "; held back now");
        boolean back = waitFor(() -> ids(roster.list(main, "anthropic", false)).contains(second.id()));
        Duration late = Duration.between(reset, Instant.now());
        long newEvents = sql.scalar("SELECT count(*) FROM scheduler_outbox WHERE id > " + outboxBefore);
        say((back ? "listed again " + late.toMillis() + " ms after the reset instant" : "not back within " + WAIT)
                + "; outbox events written meanwhile: " + newEvents);
        summary.put(
                "rate limit ends -> listed again",
                (back ? late.toMillis() + " ms after reset" : "no") + ", " + newEvents + " events");

        step(7, "a bulk update of 200 accounts in one statement, replayed as one coalesced rebuild");
        long evBefore = sql.scalar("SELECT coalesce(max(id), 0) FROM scheduler_outbox");
        long appliedBefore = roster.service().replayer().applied();
        long rebuildsBefore = roster.service().replayer().bucketRebuilds();
        t = System.nanoTime();
        sql.exec("UPDATE accounts SET priority = priority + 1 WHERE id IN"
                + " (SELECT id FROM accounts WHERE deleted_at IS NULL ORDER BY id LIMIT 200)");
        boolean replayed = waitFor(() -> {
            ListResult r = roster.list(0L, "anthropic", false);
            return r.accounts().stream().anyMatch(c -> c.id() == first.id() && c.priority() == first.priority() + 1);
        });
        long took = System.nanoTime() - t;
        // The replayer's counters move right after it publishes; wait for them too.
        waitFor(() -> roster.service().replayer().applied() > appliedBefore);
        long ev = sql.scalar("SELECT count(*) FROM scheduler_outbox WHERE id > " + evBefore);
        long applied = roster.service().replayer().applied() - appliedBefore;
        long rebuilt = roster.service().replayer().bucketRebuilds() - rebuildsBefore;
        say("200 accounts changed: " + ev + " outbox event, " + applied + " applied, " + rebuilt
                + " bucket rebuilds (each affected bucket once); visible after " + (replayed ? ms(took) : "-"));
        summary.put("bulk update of 200 accounts", ev + " event, " + rebuilt + " bucket rebuilds, " + ms(took));

        step(8, "Redis stopped: the hot path keeps answering");
        Objects.requireNonNull(stores.redis(), "the demo always embeds Redis").stop();
        t = System.nanoTime();
        ListResult r1 = roster.list(main, "anthropic", false);
        long n1 = System.nanoTime() - t;
        say(String.format(
                "right after the stop: %d accounts from %s in %.1f µs",
                r1.accounts().size(), tier(r1), n1 / 1e3));
        Instant staleAt = Instant.now().plus(rc(roster).nearCache().maxStale());
        waitFor(() -> Instant.now().isAfter(staleAt.plusMillis(200)));
        t = System.nanoTime();
        ListResult r2 = roster.list(main, "anthropic", false);
        long n2 = System.nanoTime() - t;
        say(String.format(
                "after near_cache.max_stale (%s): %d accounts from %s in %.1f ms",
                rc(roster).nearCache().maxStale().toSeconds() + " s",
                r2.accounts().size(),
                tier(r2),
                n2 / 1e6));
        summary.put(
                "Redis down: hot path",
                tier(r1) + " " + String.format("%.0f µs", n1 / 1e3) + ", then " + tier(r2) + " "
                        + String.format("%.1f ms", n2 / 1e6));

        step(9, "Redis back, empty (flushed): rebuilt, then the audit");
        long runs = roster.service().rebuilder().runs();
        t = System.nanoTime();
        stores.redis().start();
        boolean rebuiltAll = waitFor(() -> roster.service().rebuilder().runs() > runs
                && !"fallback".equals(tier(roster.list(main, "anthropic", false))));
        long rt = System.nanoTime() - t;
        say("projection "
                + (rebuiltAll ? "rebuilt and served from Redis again after " + ms(rt) : "not rebuilt within " + WAIT)
                + " (" + roster.admin().buckets().size() + " buckets)");
        summary.put("Redis flushed -> rebuilt", rebuiltAll ? ms(rt) : "not within " + WAIT);
        AuditReport audit = roster.audit();
        say("audit: " + audit.checked() + " buckets checked, " + audit.drifts().size() + " with drift");
        summary.put(
                "audit",
                audit.clean()
                        ? "no drift in " + audit.checked() + " buckets"
                        : audit.drifts().size() + " buckets with DRIFT");

        // The same answer over HTTP, as a gateway in another language reads it.
        dev.roster.server.app.BackendSource src = new dev.roster.server.app.BackendSource() {
            @Override
            public dev.roster.server.app.Backend backend() {
                return lib;
            }

            @Override
            public dev.roster.server.app.Backend.Readiness readiness() {
                return lib.readiness();
            }
        };
        RosterConfig.Server s = new RosterConfig.Server(
                "127.0.0.1", 0, "", "", false, 64, Duration.ofSeconds(5), 1 << 20, Duration.ofSeconds(1));
        HttpServer http = new HttpServer(s, src, new Metrics(src));
        int port = http.start();
        try {
            HttpClient client = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + port + "/v1/schedulable?group=" + main + "&platform=anthropic");
            client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            long h = System.nanoTime();
            HttpResponse<String> resp =
                    client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            long hn = System.nanoTime() - h;
            say("GET " + uri.getPath() + "?" + uri.getQuery() + " -> " + resp.statusCode() + ", "
                    + resp.body().length() + " bytes in " + String.format("%.1f ms", hn / 1e6));
            summary.put("HTTP GET /v1/schedulable", resp.statusCode() + ", " + String.format("%.1f ms", hn / 1e6));
        } finally {
            http.stop(Duration.ZERO);
        }

        out.println();
        out.println("Summary");
        out.println("-".repeat(78));
        for (Map.Entry<String, String> e : summary.entrySet()) {
            out.println(String.format("%-34s %s", e.getKey(), e.getValue()));
        }
        out.println("-".repeat(78));
    }

    /** The tour provokes a Redis outage on purpose; its reconnect warnings would only clutter the terminal. */
    private static void quietLogs() {
        if (System.getenv("ROSTER_LOG_LEVEL") == null
                && org.slf4j.LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext ctx) {
            for (ch.qos.logback.classic.Logger l : ctx.getLoggerList()) {
                if (l.getLevel() != null) {
                    l.setLevel(ch.qos.logback.classic.Level.ERROR);
                }
            }
        }
    }

    private static ServiceConfig rc(Roster r) {
        return r.config();
    }

    private static String tier(ListResult r) {
        return switch (r.source().name()) {
            case "NEAR_CACHE" -> "near cache";
            case "PROJECTION" -> "redis";
            case "DATABASE" -> "fallback";
            default -> r.source().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static List<Long> ids(ListResult r) {
        return r.accounts().stream().map(AccountCard::id).toList();
    }

    private static String names(List<AccountCard> cards, int max) {
        List<String> n = new ArrayList<>();
        for (AccountCard c : cards) {
            if (n.size() == max) {
                n.add("...");
                break;
            }
            n.add(c.name() + "#" + c.id());
        }
        return cards.isEmpty() ? "(empty)" : String.join(" ", n);
    }

    private static String micros(Runnable r) {
        int n = 2000;
        long t = System.nanoTime();
        for (int i = 0; i < n; i++) {
            r.run();
        }
        return String.format("%.1f µs per list() (mean of %d)", (System.nanoTime() - t) / 1e3 / n, n);
    }

    /** Polls every millisecond (the tour measures how soon things happen), bounded by {@link #WAIT}. */
    private static boolean waitFor(BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return true;
                }
            } catch (RuntimeException e) {
                // a store error mid-poll: keep polling until the deadline
            }
            LockSupport.parkNanos(1_000_000);
        }
        return false;
    }

    private static String secs(long nanos) {
        return String.format("%.1f s", nanos / 1e9);
    }

    private static String ms(long nanos) {
        return String.format("%.0f ms", nanos / 1e6);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
