package dev.roster.redis;

import dev.roster.core.AccountCard;
import java.util.Arrays;
import java.util.List;

/**
 * Where a large snapshot is cut into parts (decision NC2). A part ends after a card whose account id
 * hashes to a multiple of {@link #TARGET_CARDS}, or after {@link #MAX_CARDS} cards since the last end.
 * Cutting on the account id and not on the position keeps the cuts where they were when a card is
 * added, removed or changed elsewhere: such a change alters the part holding the card (two parts when
 * the card moves, or when it was a cut point) and leaves every other part, and with it its id, as it
 * was. A cut by position would shift every part after an added or removed card.
 *
 * <p>The rule is part of the snapshot format: writer and reader must cut alike only for the reader to
 * reuse parts, not for correctness (the index lists each part's card count and id).
 */
public final class SnapshotParts {
    /** A bucket of up to this many cards is stored as one inline value. */
    public static final int INLINE_MAX_CARDS = 128;

    /** The mean number of cards of a part. A power of two. */
    public static final int TARGET_CARDS = 32;

    /** No part holds more cards than this. */
    public static final int MAX_CARDS = 4 * TARGET_CARDS;

    private SnapshotParts() {}

    /** The exclusive end index of each part of {@code cards}, ascending; the last is {@code cards.size()}. */
    public static int[] ends(List<AccountCard> cards) {
        int n = cards.size();
        int[] out = new int[Math.max(1, n / TARGET_CARDS * 2 + 1)];
        int parts = 0;
        int start = 0;
        for (int i = 0; i < n; i++) {
            boolean last = i == n - 1;
            if (last || cutsAfter(cards.get(i).id()) || i + 1 - start >= MAX_CARDS) {
                if (parts == out.length) {
                    out = Arrays.copyOf(out, out.length * 2);
                }
                out[parts++] = i + 1;
                start = i + 1;
            }
        }
        return Arrays.copyOf(out, parts);
    }

    private static boolean cutsAfter(long accountId) {
        return (mix(accountId) & (TARGET_CARDS - 1)) == 0;
    }

    // A 64-bit finaliser (the one of SplitMix64): consecutive ids must not cut in a regular pattern.
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
