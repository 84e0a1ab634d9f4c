package dev.roster.core.projection;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.GroupLink;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What one instance's near cache serves, per bucket: the (generation, version) of the entry and a
 * checksum of its content. Published by every instance into the projection (with a TTL, so a dead
 * instance's digest vanishes) and compared by the serving audit with what the projection holds: an
 * equal (generation, version) with another checksum is content the store no longer has, served
 * under a version it handed out again (a failover that lost writes).
 *
 * <p>It names buckets, generation ids, versions and checksums only: no card, no account name, no
 * credential leaves the instance through it.
 *
 * @param instanceId an opaque per-start id of the instance (random; no host name, no address)
 * @param generation the generation the instance serves, or {@code null} when it has none yet
 * @param reportedAt when the instance built the digest (its application clock)
 * @param buckets per bucket what the near cache serves now (entries past {@code max_stale} excluded)
 */
public record ServingDigest(
        String instanceId, @Nullable String generation, Instant reportedAt, Map<Bucket, Served> buckets) {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final String FORMAT = "sd1";

    public ServingDigest {
        requireInstanceId(instanceId);
        if (generation != null) {
            Generation.requireId(generation);
        }
        Objects.requireNonNull(reportedAt, "reportedAt");
        buckets = Map.copyOf(Objects.requireNonNull(buckets, "buckets"));
    }

    /**
     * One bucket as served.
     *
     * @param generation the entry's generation id
     * @param version the entry's version
     * @param checksum {@link #checksum} of the entry's cards
     */
    public record Served(String generation, long version, String checksum) {
        public Served {
            Generation.requireId(generation);
            Objects.requireNonNull(checksum, "checksum");
        }
    }

    /** Validates an instance id ({@code [A-Za-z0-9_-]{1,64}}, so it is a safe hash field and log word). */
    public static String requireInstanceId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("instance id must match [A-Za-z0-9_-]{1,64}, got '" + id + "'");
        }
        return id;
    }

    /**
     * A checksum of a snapshot's durable content: every card field that scheduling reads, in order
     * (not {@code updated_at}, which the audit ignores too and which moves on writes that do not
     * concern scheduling). Equal card lists give equal checksums in every process; 64 bits of
     * SHA-256 as 16 hex digits.
     */
    public static String checksum(List<AccountCard> cards) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
        StringBuilder sb = new StringBuilder(64);
        for (AccountCard c : cards) {
            sb.setLength(0);
            sb.append(c.id()).append('\u0001');
            field(sb, c.name());
            field(sb, c.platform());
            field(sb, c.type());
            field(sb, c.status());
            sb.append(c.schedulable()).append('\u0001');
            sb.append(c.priority()).append('\u0001');
            sb.append(c.concurrency()).append('\u0001');
            sb.append(c.rateLimitResetAt()).append('\u0001');
            sb.append(c.overloadUntil()).append('\u0001');
            sb.append(c.tempUnschedulableUntil()).append('\u0001');
            sb.append(c.expiresAt()).append('\u0001');
            sb.append(c.autoPauseOnExpired()).append('\u0001');
            sb.append(c.mixedScheduling()).append('\u0001');
            sb.append(c.supportedModels().size()).append('\u0001');
            for (String m : c.supportedModels()) {
                field(sb, m);
            }
            sb.append(c.groups().size()).append('\u0001');
            for (GroupLink l : c.groups()) {
                sb.append(l.groupId()).append(':').append(l.priority()).append('\u0001');
            }
            sb.append('\u0002');
            md.update(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(md.digest(), 0, 8);
    }

    private static void field(StringBuilder sb, String s) {
        // Length-prefixed, so no value can imitate a separator.
        sb.append(s.length()).append(':').append(s).append('\u0001');
    }

    /** The stored form: a header line, then one line per bucket. */
    public String encode() {
        StringBuilder sb = new StringBuilder(32 + buckets.size() * 64);
        sb.append(FORMAT)
                .append(' ')
                .append(instanceId)
                .append(' ')
                .append(generation == null ? "-" : generation)
                .append(' ')
                .append(reportedAt.toEpochMilli());
        new TreeMap<>(buckets)
                .forEach((b, s) -> sb.append('\n')
                        .append(b.text())
                        .append(' ')
                        .append(s.generation())
                        .append(' ')
                        .append(s.version())
                        .append(' ')
                        .append(s.checksum()));
        return sb.toString();
    }

    /**
     * Parses {@link #encode()}'s form.
     *
     * @throws IllegalArgumentException when the text is not a digest
     */
    // String.split drops trailing empty strings, and the parser relies on it: a text ending in a
    // newline (or a line in a space) parses as without it.
    @SuppressWarnings("StringSplitter")
    public static ServingDigest decode(String text) {
        String[] lines = Objects.requireNonNull(text, "text").split("\n");
        String[] h = lines[0].split(" ");
        if (h.length != 4 || !FORMAT.equals(h[0])) {
            throw new IllegalArgumentException("not a serving digest: '" + lines[0] + "'");
        }
        Map<Bucket, Served> m = new TreeMap<>();
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split(" ");
            if (f.length != 4) {
                throw new IllegalArgumentException("malformed serving digest line: '" + lines[i] + "'");
            }
            m.put(Bucket.parse(f[0]), new Served(f[1], Long.parseLong(f[2]), f[3]));
        }
        return new ServingDigest(h[1], "-".equals(h[2]) ? null : h[2], Instant.ofEpochMilli(Long.parseLong(h[3])), m);
    }
}
