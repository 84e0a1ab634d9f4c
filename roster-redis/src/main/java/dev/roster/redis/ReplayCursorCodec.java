package dev.roster.redis;

import dev.roster.core.outbox.CursorState;
import dev.roster.core.outbox.OutboxPosition;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The text form of the replayer's published cursor ({@code {state}:cursor}), kept apart from the
 * projection so the format has one place:
 *
 * <pre>
 * cursor := watermark ' ' applied ' ' covered ' ' sweep ' ' after
 * applied := (id (',' id)*)?          sorted; at most replay.max_applied ids
 * covered, sweep := snapshot | '-'    PostgreSQL snapshots ("xmin:xmax:xip,...") hold no spaces
 * after := txid ':' id | '-'          txid unsigned
 * </pre>
 *
 * Text rather than the binary codec: it is written once per batch, read only by admin figures, and an
 * operator can read it with {@code redis-cli GET}.
 */
final class ReplayCursorCodec {
    private static final String NONE = "-";

    private ReplayCursorCodec() {}

    static String encode(CursorState cursor) {
        StringBuilder b = new StringBuilder().append(cursor.watermark()).append(' ');
        boolean first = true;
        for (long id : new TreeSet<>(cursor.applied())) {
            if (!first) {
                b.append(',');
            }
            b.append(id);
            first = false;
        }
        b.append(' ').append(orNone(cursor.coveredSnapshot()));
        b.append(' ').append(orNone(cursor.sweepSnapshot()));
        OutboxPosition after = cursor.sweepAfter();
        b.append(' ').append(after == null ? NONE : Long.toUnsignedString(after.txid()) + ":" + after.id());
        return b.toString();
    }

    /**
     * Parses {@code s}.
     *
     * @throws IllegalArgumentException naming what is wrong when {@code s} is not a cursor
     */
    static CursorState decode(String s) {
        String[] f = s.split(" ", -1);
        if (f.length != 5) {
            throw new IllegalArgumentException("expected 5 fields, got " + f.length);
        }
        long w = Long.parseLong(f[0]);
        Set<Long> applied = new HashSet<>();
        if (!f[1].isEmpty()) {
            for (String id : f[1].split(",", -1)) {
                applied.add(Long.parseLong(id));
            }
        }
        OutboxPosition after = null;
        if (!f[4].equals(NONE)) {
            int colon = f[4].indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("sweep position without ':'");
            }
            after = new OutboxPosition(
                    Long.parseUnsignedLong(f[4].substring(0, colon)), Long.parseLong(f[4].substring(colon + 1)));
        }
        return new CursorState(w, applied, noneToNull(f[2]), noneToNull(f[3]), after);
    }

    private static String orNone(@Nullable String s) {
        return s == null ? NONE : s;
    }

    private static @Nullable String noneToNull(String s) {
        return s.equals(NONE) ? null : s;
    }
}
