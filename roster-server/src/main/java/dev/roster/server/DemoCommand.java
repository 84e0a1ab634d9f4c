package dev.roster.server;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.Mode;
import dev.roster.core.Platforms;
import dev.roster.core.RunMode;
import dev.roster.core.TimeFilter;
import dev.roster.core.source.GroupInfo;
import dev.roster.embedded.EmbeddedPostgres;
import dev.roster.postgres.Databases;
import dev.roster.postgres.Migrator;
import dev.roster.postgres.PostgresSchedulingSource;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code roster demo}: a guided tour on embedded servers in a fresh temporary folder. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Start an embedded PostgreSQL in a fresh temporary folder, migrate it, load a sample pool and",
            "print, for every bucket, the ordered accounts the bucket query returns now."
        })
final class DemoCommand implements Callable<Integer> {
    private static final DateTimeFormatter HMS =
            DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    @Option(
            names = "--accounts-per-platform",
            defaultValue = "12",
            description = "Sample size (default ${DEFAULT-VALUE}).")
    int perPlatform;

    @Option(names = "--keep", description = "Keep the temporary data folder.")
    boolean keep;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private PrintWriter out;

    @Override
    public Integer call() throws Exception {
        if (perPlatform < 8 || perPlatform > 10_000) {
            throw new IllegalArgumentException(
                    "--accounts-per-platform must be between 8 and 10000, got " + perPlatform);
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

    private void run(Path dir) throws Exception {
        out.println("Roster demo: the bucket query over an embedded PostgreSQL " + EmbeddedPostgres.MAJOR_VERSION);
        long t0 = System.nanoTime();
        out.print("[1/4] starting embedded PostgreSQL in " + dir + " ... ");
        out.flush();
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder(dir.resolve("pg"))
                        .ephemeral()
                        .build()
                        .start();
                HikariDataSource ds = Databases.pool(pg.jdbcUrl("postgres"), pg.user(), "", 4)) {
            out.println("ready on 127.0.0.1:" + pg.port() + " (" + since(t0) + ")");

            long t1 = System.nanoTime();
            out.print("[2/4] migrating ... ");
            out.flush();
            Migrator.Result m = new Migrator(ds).migrate();
            out.println(m.applied() + " migrations applied, schema version " + m.version() + " (" + since(t1) + ")");

            long t2 = System.nanoTime();
            Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            out.print("[3/4] loading the sample pool with plain SQL ... ");
            out.flush();
            int accounts;
            long events;
            try (Connection c = ds.getConnection()) {
                accounts = SamplePool.load(c, now, perPlatform);
                try (Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("SELECT count(*) FROM scheduler_outbox")) {
                    rs.next();
                    events = rs.getLong(1);
                }
            }
            out.println(SamplePool.GROUPS.size() + " groups, " + accounts + " accounts (" + since(t2)
                    + "); the capture triggers wrote " + events + " outbox events");

            PostgresSchedulingSource source = new PostgresSchedulingSource(ds);
            Instant at = Instant.now();
            out.println("[4/4] bucket query at " + at.truncatedTo(ChronoUnit.SECONDS)
                    + " (run mode standard; group 0 = every account of the platform)");
            out.println();
            List<Bucket> buckets = universe(source);
            try (Connection c = ds.getConnection();
                    Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery(
                            "SELECT id, platform FROM groups WHERE status <> 'active' OR deleted_at IS NOT NULL")) {
                while (rs.next()) {
                    // an inactive group's buckets are valid, empty answers; shown so the rule is visible
                    Set<Bucket> extra = new TreeSet<>();
                    addCanonical(extra, rs.getLong(1), rs.getString(2));
                    buckets.addAll(extra);
                }
            }
            for (Bucket b : buckets) {
                long tq = System.nanoTime();
                List<AccountCard> durable = source.loadBucket(b, RunMode.STANDARD, Group0Scope.ALL);
                List<AccountCard> listed = TimeFilter.apply(durable, at);
                double ms = (System.nanoTime() - tq) / 1e6;
                printBucket(b, durable, listed, at, ms);
            }
            out.println();
            out.println("Reading the table: order is link priority (groups > 0), then account priority, then id.");
            out.println(
                    "Disabled, errored, paused and deleted accounts never appear; rate-limited and overloaded ones");
            out.println("are held back only until their block ends, judged at read time with no event needed.");
            out.println("Demo finished in " + since(t0) + ".");
        }
    }

    private static List<Bucket> universe(PostgresSchedulingSource source) {
        Set<Bucket> set = new TreeSet<>();
        Set<String> platforms = new TreeSet<>(Platforms.SEED_PLATFORMS);
        platforms.addAll(source.platforms());
        for (String p : platforms) {
            addCanonical(set, 0, p);
        }
        for (GroupInfo g : source.activeGroups()) {
            addCanonical(set, g.id(), g.platform());
        }
        return new ArrayList<>(set);
    }

    private static void addCanonical(Set<Bucket> set, long group, String platform) {
        if (Platforms.isMixedCapable(platform)) {
            set.add(Bucket.of(group, platform, Mode.MIXED));
        }
        set.add(Bucket.of(group, platform, Mode.SINGLE));
        set.add(Bucket.of(group, platform, Mode.FORCED));
    }

    private void printBucket(Bucket b, List<AccountCard> durable, List<AccountCard> listed, Instant at, double ms) {
        StringBuilder line = new StringBuilder();
        line.append(String.format("%-20s %3d listed  ", b.text(), listed.size()));
        int indent = line.length();
        int width = indent;
        for (AccountCard c : listed) {
            String item = c.name() + "#" + c.id() + " ";
            if (width + item.length() > 118) {
                line.append('\n').append(" ".repeat(indent));
                width = indent;
            }
            line.append(item);
            width += item.length();
        }
        if (listed.isEmpty()) {
            line.append("(empty)");
        }
        out.println(line.toString().stripTrailing() + String.format("   [%.1f ms]", ms));
        List<String> held = new ArrayList<>();
        for (AccountCard c : durable) {
            AccountCard.Block block = c.timeBlockAt(at);
            if (block != null) {
                held.add(c.name() + "#" + c.id() + " "
                        + block.kind().name().toLowerCase().replace('_', '-')
                        + (block.until() == null ? "" : " until " + HMS.format(block.until())));
            }
        }
        if (!held.isEmpty()) {
            out.println(" ".repeat(indent) + "held back now: " + String.join(", ", held));
        }
    }

    private static String since(long t) {
        return String.format("%.1f s", (System.nanoTime() - t) / 1e9);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        Files.deleteIfExists(dir.resolveSibling(dir.getFileName() + ".log"));
    }
}
