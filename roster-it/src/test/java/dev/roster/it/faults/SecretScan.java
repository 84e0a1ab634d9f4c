package dev.roster.it.faults;

import dev.roster.embedded.RespConnection;
import dev.roster.testkit.RedisHarness;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Looks for credentials where they must never be (Redis, logs, answers): every secret the fault suite writes into
 * {@code accounts.credentials} starts with {@link #MARKER}, so finding that text anywhere in Redis (keys
 * and values of every type), in the logs (every java.util.logging record with its stack trace, which is
 * where this module's SLF4J binding, slf4j-jdk14, sends Roster's lines and its libraries' at every level;
 * everything written to standard output and error, which is where child processes write) or in a
 * response is a leak.
 *
 * <p>Installed once per JVM by {@link #install()}; the capture is bounded (the newest 8 MiB are kept and
 * the scan is done incrementally as text arrives, so nothing scanned is ever dropped unseen).
 */
public final class SecretScan {
    /** Every secret of the fault suite contains this text. */
    public static final String MARKER = "rstSECRET";

    private static final Object LOCK = new Object();
    private static final List<String> LEAKS = new ArrayList<>();
    private static boolean installed;
    // Held so the configured level is not lost to garbage collection of the logger.
    private static final Logger ROSTER_LOGGER = Logger.getLogger("dev.roster");
    private static long scannedChars;

    private SecretScan() {}

    /** A new secret value (contains {@link #MARKER}). */
    public static String newSecret(String kind) {
        return "sk-" + MARKER + "-" + kind + "-" + Long.toHexString(System.nanoTime());
    }

    /** Starts capturing logs and standard streams (idempotent). */
    public static void install() {
        synchronized (LOCK) {
            if (installed) {
                return;
            }
            installed = true;
            System.setOut(new PrintStream(new Tee(System.out, "stdout"), true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(new Tee(System.err, "stderr"), true, StandardCharsets.UTF_8));
            // Roster's own loggers at every level (debug included); other libraries at the level a
            // deployment runs them (the JDBC driver's FINEST trace prints bind parameters, credentials
            // included: that is the driver's documented behaviour, not something Roster logs).
            ROSTER_LOGGER.setLevel(Level.ALL);
            Logger root = LogManager.getLogManager().getLogger("");
            root.addHandler(new Handler() {
                @Override
                public void publish(LogRecord r) {
                    StringBuilder sb = new StringBuilder();
                    sb.append(r.getLoggerName()).append(' ').append(r.getMessage());
                    if (r.getParameters() != null) {
                        for (Object p : r.getParameters()) {
                            sb.append(' ').append(p);
                        }
                    }
                    if (r.getThrown() != null) {
                        StringWriter w = new StringWriter();
                        r.getThrown().printStackTrace(new PrintWriter(w));
                        sb.append(' ').append(w);
                    }
                    inspect("log", sb.toString());
                }

                @Override
                public void flush() {}

                @Override
                public void close() {}
            });
        }
    }

    /** Checks text that is about to leave Roster (a response, a report, a child's output). */
    public static void inspect(String where, CharSequence text) {
        if (text == null) {
            return;
        }
        String s = text.toString();
        synchronized (LOCK) {
            scannedChars += s.length();
            int i = s.indexOf(MARKER);
            if (i >= 0 && LEAKS.size() < 20) {
                int from = Math.max(0, i - 120);
                int to = Math.min(s.length(), i + 60);
                LEAKS.add(where + ": ..." + s.substring(from, to) + "...");
            }
        }
    }

    /** The leaks found since the last call (empty when none); each is reported once. */
    public static List<String> leaks() {
        synchronized (LOCK) {
            List<String> out = List.copyOf(LEAKS);
            LEAKS.clear();
            return out;
        }
    }

    /** How much text was scanned so far (for the report: proof that the scan saw something). */
    public static long scannedChars() {
        synchronized (LOCK) {
            return scannedChars;
        }
    }

    /**
     * Scans every key of the shared Redis (all prefixes: other scenarios' keys too), by type: strings,
     * hashes, lists, sets and sorted sets. Returns the number of keys scanned.
     */
    public static int scanRedis() {
        int keys = 0;
        try (RespConnection c = RedisHarness.shared().connect()) {
            String cursor = "0";
            do {
                List<?> reply = (List<?>) c.command("SCAN", cursor, "COUNT", "500");
                cursor = text(reply.get(0));
                for (Object k : (List<?>) reply.get(1)) {
                    String key = text(k);
                    keys++;
                    inspect("redis key", key);
                    String type = text(c.command("TYPE", key));
                    Object v = switch (type) {
                        case "string" -> c.command("GET", key);
                        case "hash" -> c.command("HGETALL", key);
                        case "list" -> c.command("LRANGE", key, "0", "-1");
                        case "set" -> c.command("SMEMBERS", key);
                        case "zset" -> c.command("ZRANGE", key, "0", "-1", "WITHSCORES");
                        default -> null;
                    };
                    inspect("redis value of " + key, flatten(v));
                }
            } while (!"0".equals(cursor));
        }
        return keys;
    }

    private static String flatten(Object v) {
        if (v instanceof List<?> l) {
            StringBuilder sb = new StringBuilder();
            for (Object o : l) {
                sb.append(flatten(o)).append('\n');
            }
            return sb.toString();
        }
        return v == null ? "" : text(v);
    }

    private static String text(Object o) {
        // Binary values (snapshots, cards) are scanned as ISO-8859-1 so every byte maps to one char and
        // an ASCII marker inside them is found whatever the surrounding encoding.
        return o instanceof byte[] b ? new String(b, StandardCharsets.ISO_8859_1) : String.valueOf(o);
    }

    /** Copies a stream and scans each line. */
    private static final class Tee extends OutputStream {
        private final PrintStream out;
        private final String where;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        Tee(PrintStream out, String where) {
            this.out = out;
            this.where = where;
        }

        @Override
        public synchronized void write(int b) {
            out.write(b);
            line.write(b);
            if (b == '\n' || line.size() > 8192) {
                inspect(where, line.toString(StandardCharsets.UTF_8));
                line.reset();
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            for (int i = 0; i < len; i++) {
                write(b[off + i]);
            }
        }

        @Override
        public void flush() {
            out.flush();
        }
    }
}
