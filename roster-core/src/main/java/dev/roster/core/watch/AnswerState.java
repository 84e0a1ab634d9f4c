package dev.roster.core.watch;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What {@code list} answers for one bucket at one moment, as far as a watcher needs it: the (generation,
 * version) of the snapshot behind the answer, a fingerprint of the answer itself, and until when the
 * answer holds if no new version arrives.
 *
 * <p>The fingerprint covers the generation, the version and the ids of the accounts the time filter lets
 * through, in order: within one (generation, version) the cards are fixed, so the ids determine the
 * answer. Two states with the same fingerprint are the same answer (a 64-bit hash; a collision would hide
 * one change, with odds of 2<sup>-64</sup>).
 *
 * @param bucket the bucket
 * @param generation the generation of the snapshot ({@code ""} for a database answer without a version)
 * @param version the snapshot's version ({@code 0} in that case)
 * @param fingerprint identifies the answer; equal fingerprints mean the same answer
 * @param validUntil the next instant the time filter changes this answer, or {@code null} when none is
 *     known (no card's block ends or starts, or the answer did not come from a snapshot in memory)
 */
public record AnswerState(
        Bucket bucket,
        String generation,
        long version,
        long fingerprint,
        @Nullable Instant validUntil) {

    public AnswerState {
        Objects.requireNonNull(bucket, "bucket");
        Objects.requireNonNull(generation, "generation");
    }

    /** The state of an answer made of {@code served} (the time-filtered cards) under (generation, version). */
    static AnswerState of(
            Bucket bucket, String generation, long version, List<AccountCard> served, @Nullable Instant until) {
        return new AnswerState(bucket, generation, version, fingerprint(generation, version, served), until);
    }

    static long fingerprint(String generation, long version, List<AccountCard> served) {
        long h = mix(0x9E3779B97F4A7C15L ^ version);
        for (int i = 0; i < generation.length(); i++) {
            h = mix(h ^ generation.charAt(i));
        }
        h = mix(h ^ served.size());
        for (int i = 0, n = served.size(); i < n; i++) {
            h = mix(h ^ served.get(i).id());
        }
        return h;
    }

    /** SplitMix64's finaliser: every input bit moves about half of the output bits. */
    private static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
