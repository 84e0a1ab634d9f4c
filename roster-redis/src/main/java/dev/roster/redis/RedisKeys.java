package dev.roster.redis;

import dev.roster.core.Bucket;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Projection;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The key layout of the Redis projection (docs/architecture.md, "Redis: the projection"): {@code
 * <prefix>{<tag>}:<name>}. Bucket keys are tagged with the bucket's text and account keys with the account id, so each
 * Lua script touches one slot and buckets spread over Cluster shards. Projection state (watermark, generation,
 * registry, leases) shares the fixed tag {@code {state}}, so the watermark script can check the replayer lease
 * in the same slot.
 *
 * <pre>
 * &lt;p&gt;{g:p:m}:snap          active snapshot: inline value or index of parts (no TTL; deliberate state)
 * &lt;p&gt;{g:p:m}:snap@&lt;v&gt;      superseded snapshot v (grace TTL)
 * &lt;p&gt;{g:p:m}:part:&lt;id&gt;    a part of a large snapshot, named by its content hash (no TTL while an
 *                          active snapshot names it, grace TTL once none does)
 * &lt;p&gt;{g:p:m}:active        active version number
 * &lt;p&gt;{g:p:m}:ctr           version counter
 * &lt;p&gt;{g:p:m}:epoch         fence epoch (raised by retire)
 * &lt;p&gt;{g:p:m}:retired       retire tombstone
 * &lt;p&gt;{&lt;id&gt;}:card           account card
 * &lt;p&gt;{&lt;id&gt;}:lu             last-used, epoch milliseconds
 * &lt;p&gt;{state}:watermark | :generation | :origin | :buckets | :cursor | :lease:&lt;name&gt;
 * &lt;p&gt;{state}:serving        per-instance serving digests (hash: instance id &rarr; digest)
 * channel &lt;p&gt;invalidations
 * </pre>
 */
public final class RedisKeys {
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_.:\\-]{0,100}");

    private final String prefix;

    /**
     * Keys under {@code prefix}.
     *
     * @param prefix up to 100 characters of {@code [A-Za-z0-9_.:-]} (no braces, so it never forms a
     *     hash tag of its own)
     */
    public RedisKeys(String prefix) {
        if (prefix == null || !PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException(
                    "redis key_prefix must match [A-Za-z0-9_.:-]{0,100}, got '" + prefix + "'");
        }
        this.prefix = prefix;
    }

    /** The prefix. */
    public String prefix() {
        return prefix;
    }

    private String bucketKey(Bucket b, String name) {
        return prefix + "{" + Objects.requireNonNull(b, "bucket").text() + "}:" + name;
    }

    /** The active snapshot value. */
    public String snapshot(Bucket b) {
        return bucketKey(b, "snap");
    }

    /** A superseded snapshot value (the publish and retire scripts derive it as {@code snapshot + "@" + v}). */
    public String snapshot(Bucket b, long version) {
        return snapshot(b) + "@" + version;
    }

    /**
     * A part of one of the bucket's snapshots, by its id (see {@link ProjectionCodec}); the publish,
     * retire and read scripts derive it as {@link #partPrefix} followed by the id.
     */
    public String part(Bucket b, String partId) {
        return partPrefix(b) + partId;
    }

    /** What every part key of the bucket starts with. */
    public String partPrefix(Bucket b) {
        return bucketKey(b, "part:");
    }

    /** The active version number. */
    public String activeVersion(Bucket b) {
        return bucketKey(b, "active");
    }

    /** The version counter. */
    public String counter(Bucket b) {
        return bucketKey(b, "ctr");
    }

    /** The fence epoch. */
    public String epoch(Bucket b) {
        return bucketKey(b, "epoch");
    }

    /** The retire tombstone. */
    public String retired(Bucket b) {
        return bucketKey(b, "retired");
    }

    /** An account's card. */
    public String card(long accountId) {
        return prefix + "{" + accountId + "}:card";
    }

    /** An account's last-used value. */
    public String lastUsed(long accountId) {
        return prefix + "{" + accountId + "}:lu";
    }

    /** The outbox watermark. */
    public String watermark() {
        return prefix + "{state}:watermark";
    }

    /** The replayer's published cursor (watermark and applied ids, for backlog and lag). */
    public String replayCursor() {
        return prefix + "{state}:cursor";
    }

    /** The generation. */
    public String generation() {
        return prefix + "{state}:generation";
    }

    /** The run id of the Redis process the generation was stamped on (see {@link Projection#origin()}). */
    public String origin() {
        return prefix + "{state}:origin";
    }

    /** The serving digests of the instances (a hash: instance id to digest value). */
    public String serving() {
        return prefix + "{state}:serving";
    }

    /** The bucket registry (a set of bucket texts). */
    public String registry() {
        return prefix + "{state}:buckets";
    }

    /** A lease. */
    public String lease(String name) {
        return prefix + "{state}:lease:" + Lease.requireName(name);
    }

    /** The invalidation channel. */
    public String channel() {
        return prefix + "invalidations";
    }
}
