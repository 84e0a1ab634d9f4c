package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.AccountCard;
import dev.roster.core.AccountLimits;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.projection.CorruptValueException;
import dev.roster.core.projection.Snapshot;
import dev.roster.testkit.Fixtures;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProjectionCodecTest {
    private static final Bucket B = Bucket.of(7, "anthropic", Mode.MIXED);

    @Test
    void snapshotAndCard_roundTrip() {
        Snapshot s = new Snapshot(B, "g1", 42, Fixtures.cards(1, 30));
        assertThat(ProjectionCodec.decodeSnapshot("k", ProjectionCodec.encodeSnapshot(s), B))
                .isEqualTo(s);
        AccountCard c = Fixtures.card(1L << 40);
        assertThat(ProjectionCodec.decodeCard("k", ProjectionCodec.encodeCard(c), 1L << 40))
                .isEqualTo(c);
    }

    @Test
    void selectionLimits_roundTripInCardsAndSnapshots() {
        List<AccountLimits> limits = List.of(
                AccountLimits.DEFAULTS,
                new AccountLimits(60, 4, 80, null),
                new AccountLimits(0, 1000, null, 100),
                new AccountLimits(AccountLimits.MAX_RPM_LIMIT, 1, 1, 1));
        List<AccountCard> cards = new java.util.ArrayList<>();
        for (int i = 0; i < limits.size(); i++) {
            AccountCard c = Fixtures.card(i + 1).withLimits(limits.get(i));
            cards.add(c);
            assertThat(ProjectionCodec.decodeCard("k", ProjectionCodec.encodeCard(c), i + 1)
                            .limits())
                    .as("card with %s", limits.get(i))
                    .isEqualTo(limits.get(i));
        }
        Snapshot inline = new Snapshot(B, "g1", 2, cards);
        assertThat(ProjectionCodec.decodeSnapshot("k", ProjectionCodec.encodeSnapshot(inline), B))
                .isEqualTo(inline);
        List<AccountCard> many = new java.util.ArrayList<>();
        for (AccountCard c : Fixtures.cards(1, 500)) {
            many.add(c.withLimits(limits.get((int) (c.id() % limits.size()))));
        }
        ProjectionCodec.Stored stored = ProjectionCodec.encodeStored(new Snapshot(B, "g1", 3, many));
        ProjectionCodec.Head head = ProjectionCodec.decodeHead("snap", stored.value(), B);
        List<AccountCard> back = new java.util.ArrayList<>();
        for (int i = 0; i < stored.parts().size(); i++) {
            back.addAll(ProjectionCodec.decodePart(
                    "part", stored.parts().get(i), head.partIds().get(i), head.partCounts()[i]));
        }
        assertThat(back).isEqualTo(many);
    }

    @Test
    void valuesOfTheFormatsBeforeTheLimits_areRefusedAsAnotherFormat() {
        // A card of format 1 is today's bytes of a card with the default limits, without the limits'
        // three bytes (rpm 0, weight 1, no thresholds) and with format byte 1.
        byte[] now = ProjectionCodec.encodeCard(Fixtures.card(5));
        byte[] old = Arrays.copyOf(now, now.length - 3);
        old[2] = 1;
        assertThatThrownBy(() -> ProjectionCodec.decodeCard("card", old, 5))
                .isInstanceOf(CorruptValueException.class)
                .hasMessageContaining("format version 1, this reader understands 2");
        byte[] snap = ProjectionCodec.encodeSnapshot(new Snapshot(B, "g1", 3, List.of()));
        snap[2] = 2;
        assertThat(ProjectionCodec.isSnapshotOf(B, Arrays.copyOf(snap, ProjectionCodec.snapshotHeaderLength(B))))
                .as("a snapshot of format 2 counts as missing")
                .isFalse();
        assertThatThrownBy(() -> ProjectionCodec.decodeSnapshot("snap", snap, B))
                .isInstanceOf(CorruptValueException.class)
                .hasMessageContaining("format version 2, this reader understands 3");
    }

    @Test
    void everyTruncation_isCorruptNeverAnotherException() {
        byte[] full = ProjectionCodec.encodeSnapshot(new Snapshot(B, "g1", 3, Fixtures.cards(1, 4)));
        for (int n = 0; n < full.length; n++) {
            byte[] cut = Arrays.copyOf(full, n);
            assertThatThrownBy(() -> ProjectionCodec.decodeSnapshot("snap", cut, B))
                    .isInstanceOf(CorruptValueException.class)
                    .hasMessageContaining("'snap'");
        }
    }

    @Test
    void randomByteFlips_decodeOrFailAsCorrupt() {
        byte[] full = ProjectionCodec.encodeSnapshot(new Snapshot(B, "g1", 3, Fixtures.cards(1, 4)));
        Random r = new Random(20260301);
        for (int i = 0; i < 2000; i++) {
            byte[] v = full.clone();
            v[3 + r.nextInt(v.length - 3)] = (byte) r.nextInt(256);
            try {
                ProjectionCodec.decodeSnapshot("snap", v, B);
            } catch (CorruptValueException expected) {
                // Either outcome is fine; any other exception type is the bug this test guards. A
                // refusal names the key, as every corrupt value does.
                assertThat(expected.getMessage()).contains("'snap'");
            }
        }
    }

    @Test
    void oneEncoderForManySnapshots_writesTheBytesEachWouldAlone() {
        List<AccountCard> shared = Fixtures.cards(1, 700);
        List<AccountCard> overlapping = new java.util.ArrayList<>(shared.subList(100, 700));
        overlapping.addAll(Fixtures.cards(5_000, 50));
        ProjectionCodec.Encoder encoder = new ProjectionCodec.Encoder();
        Bucket other = new Bucket(B.groupId(), B.platform(), dev.roster.core.Mode.FORCED);
        for (Snapshot s : List.of(
                new Snapshot(B, "g1", 3, shared),
                new Snapshot(other, "g1", 4, shared),
                new Snapshot(B, "g1", 5, List.copyOf(overlapping)),
                new Snapshot(B, "g1", 6, shared.subList(0, 20)))) {
            ProjectionCodec.Stored alone = ProjectionCodec.encodeStored(s);
            ProjectionCodec.Stored reused = ProjectionCodec.encodeStored(s, encoder);
            assertThat(reused.value())
                    .as("value of %s v%d", s.bucket(), s.version())
                    .isEqualTo(alone.value());
            assertThat(reused.partIds()).isEqualTo(alone.partIds());
            assertThat(reused.parts()).hasSameSizeAs(alone.parts());
            for (int i = 0; i < alone.parts().size(); i++) {
                assertThat(reused.parts().get(i)).isEqualTo(alone.parts().get(i));
            }
        }
    }

    @Test
    void largeSnapshot_isAnIndexOfPartsThatReassembleIt() {
        Snapshot s = new Snapshot(B, "g1", 9, Fixtures.cards(1, 2_000));
        ProjectionCodec.Stored stored = ProjectionCodec.encodeStored(s);
        ProjectionCodec.Head head = ProjectionCodec.decodeHead("snap", stored.value(), B);
        assertThat(head.inline()).isNull();
        assertThat(head.partIds()).isEqualTo(stored.partIds()).hasSizeGreaterThan(20);
        List<AccountCard> cards = new java.util.ArrayList<>();
        for (int i = 0; i < stored.parts().size(); i++) {
            cards.addAll(ProjectionCodec.decodePart(
                    "part", stored.parts().get(i), head.partIds().get(i), head.partCounts()[i]));
        }
        assertThat(cards).isEqualTo(s.cards());
        assertThat(head.generation()).isEqualTo("g1");
        assertThat(head.version()).isEqualTo(9);
        for (int n = 0; n < stored.value().length; n++) {
            byte[] cut = Arrays.copyOf(stored.value(), n);
            assertThatThrownBy(() -> ProjectionCodec.decodeHead("snap", cut, B))
                    .isInstanceOf(CorruptValueException.class);
        }
    }

    @Test
    void aChangeElsewhere_leavesEveryOtherPartAsItWas() {
        List<AccountCard> cards = new java.util.ArrayList<>(Fixtures.cards(1, 5_000));
        Set<String> before = Set.copyOf(
                ProjectionCodec.encodeStored(new Snapshot(B, "g", 1, cards)).partIds());
        Random r = new Random(11);
        for (int round = 0; round < 50; round++) {
            List<AccountCard> next = new java.util.ArrayList<>(cards);
            int at = r.nextInt(next.size());
            switch (round % 3) {
                case 0 -> next.set(at, next.get(at).toBuilder().priority(99).build());
                case 1 -> next.remove(at);
                default -> next.add(at, Fixtures.card(100_000 + round));
            }
            List<String> after =
                    ProjectionCodec.encodeStored(new Snapshot(B, "g", 2, next)).partIds();
            long fresh = after.stream().filter(id -> !before.contains(id)).count();
            assertThat(fresh).as("round %d", round).isBetween(1L, 2L);
        }
    }

    /**
     * Decision E16: across publish calls, a memo reuses the value of every part whose cards are the same
     * instances as the bucket's last encoding, and the result is byte for byte what an encoding from
     * scratch gives, whatever changed (a card replaced, removed, added; equal cards that are other
     * instances, which are reused too; another generation).
     */
    @Test
    void partsMemo_reusesUnchangedPartsAndWritesTheBytesOfAFreshEncoding() {
        ProjectionCodec.PartsMemo memo = new ProjectionCodec.PartsMemo();
        List<AccountCard> cards = new java.util.ArrayList<>(Fixtures.cards(1, 5_000));
        ProjectionCodec.Stored last = ProjectionCodec.encodeStored(
                new Snapshot(B, "g", 1, List.copyOf(cards)), new ProjectionCodec.Encoder(memo));
        Random r = new Random(12);
        for (int round = 0; round < 40; round++) {
            int at = r.nextInt(cards.size());
            switch (round % 4) {
                case 0 -> cards.set(at, cards.get(at).toBuilder().priority(99).build());
                case 1 -> cards.remove(at);
                case 2 -> cards.add(at, Fixtures.card(100_000 + round));
                default -> cards.replaceAll(c -> c.toBuilder().build());
            }
            Snapshot s = new Snapshot(B, round % 5 == 0 ? "g2" : "g", 2 + round, List.copyOf(cards));
            ProjectionCodec.Stored fresh = ProjectionCodec.encodeStored(s);
            ProjectionCodec.Stored memoised = ProjectionCodec.encodeStored(s, new ProjectionCodec.Encoder(memo));
            assertThat(memoised.value()).as("round %d", round).isEqualTo(fresh.value());
            assertThat(memoised.partIds()).isEqualTo(fresh.partIds());
            Set<byte[]> lastValues = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            lastValues.addAll(last.parts());
            int reused = 0;
            for (int i = 0; i < fresh.parts().size(); i++) {
                assertThat(memoised.parts().get(i)).isEqualTo(fresh.parts().get(i));
                if (lastValues.contains(memoised.parts().get(i))) {
                    reused++;
                }
            }
            assertThat(reused)
                    .as("round %d: parts taken from the memo", round)
                    .isBetween(fresh.parts().size() - 2, fresh.parts().size());
            last = memoised;
        }
        assertThat(memo.size()).isEqualTo(1);
        memo.forget(B);
        assertThat(memo.size()).isZero();
    }

    @Test
    void trailingBytesAndWrongAccount_areCorrupt() {
        byte[] card = ProjectionCodec.encodeCard(Fixtures.card(5));
        byte[] longer = Arrays.copyOf(card, card.length + 1);
        assertThatThrownBy(() -> ProjectionCodec.decodeCard("c", longer, 5)).hasMessageContaining("trailing");
        assertThatThrownBy(() -> ProjectionCodec.decodeCard("c", card, 6)).hasMessageContaining("account 5");
        assertThat(ProjectionCodec.encodeSnapshot(new Snapshot(B, "g", 1, List.of())))
                .hasSizeLessThan(40);
    }
}
