package dev.roster.core.selection;

import dev.roster.core.AccountCard;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The answer of {@link Selector#select}: {@link Acquired} (use this account now), {@link Wait} (queue on
 * this account and retry) or {@link None} (nothing can serve the request, with a reason a person can act
 * on).
 */
public sealed interface Selection {

    /** Which layer decided (docs/upstream.md U-SEL-4, U-SEL-5). */
    enum Layer {
        /** The session's bound account. */
        STICKY,
        /** The load-aware priority order ({@code load_batch_enabled: true}). */
        LOAD_AWARE,
        /** The legacy single-best scan ({@code load_batch_enabled: false}). */
        LEGACY,
        /** The fallback wait plan. */
        FALLBACK
    }

    /** Why nothing was selected. */
    enum Reason {
        /** The bucket lists no schedulable account (none configured, all disabled, or all blocked in the database). */
        NO_ACCOUNTS,
        /** Every listed account is in the request's excluded ids. */
        ALL_EXCLUDED,
        /** No remaining account serves the requested model. */
        MODEL_UNSUPPORTED,
        /** Every remaining account is inside a cooldown; {@link None#until()} says when the first ends. */
        COOLING_DOWN,
        /** Every remaining account is at its concurrency and every wait queue is full. */
        SATURATED,
        /**
         * Every remaining account has used its requests-per-minute limit ({@code rpm_limit}); {@link
         * None#until()} says when the first frees a place. Also the reason an {@link Acquired} result
         * names for an account it skipped for that.
         */
        RPM_FULL,
        /**
         * The request retried from a wait whose deadline (set at its first enqueue, kept by every
         * re-queue) has passed; {@link None#until()} is that deadline. Its place was handed back.
         */
        WAIT_EXPIRED,
        /**
         * Every remaining account has reported a quota window used at or past its threshold ({@code
         * quota_threshold_5h} / {@code _7d}, else {@code selection.quota.*}); {@link None#until()} says
         * when the first window resets. Also the reason an {@link Acquired} result names for an account
         * it passed over for that (decision SP4).
         */
        QUOTA_THRESHOLD
    }

    /**
     * A slot is held on {@code card}'s account; release it when the upstream call ends.
     *
     * @param card the account's card
     * @param lease the slot
     * @param sticky whether the account came from the session's binding
     * @param layer the layer that chose it
     * @param skipped the accounts tried before this one whose store refused a slot, with why ({@link
     *     Reason#COOLING_DOWN}, {@link Reason#SATURATED} for a full account, {@link Reason#RPM_FULL}), in the
     *     order they were tried
     */
    record Acquired(AccountCard card, SlotLease lease, boolean sticky, Layer layer, Map<Long, Reason> skipped)
            implements Selection {
        public Acquired {
            Objects.requireNonNull(card, "card");
            Objects.requireNonNull(lease, "lease");
            Objects.requireNonNull(layer, "layer");
            skipped = skipped == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(skipped));
        }

        /** An acquisition that skipped nothing. */
        public Acquired(AccountCard card, SlotLease lease, boolean sticky, Layer layer) {
            this(card, lease, sticky, layer, Map.of());
        }
    }

    /**
     * Every fitting slot is taken: the caller queues on {@code card}'s account (its ticket is already
     * counted), retries {@code select} with {@link SelectRequest#withWaitTicket} until a slot is granted,
     * and gives up after {@code timeout}.
     *
     * @param card the account to queue on
     * @param timeout how long to wait at most: the full wait timeout at the first enqueue, what is left of
     *     the first deadline after a retry (decision SP1)
     * @param maxWaiting the queue limit that applied
     * @param sticky whether the account is the session's bound account
     * @param ticket the place in the queue, sealed for the request; {@link WaitTicket#expiresAt()} is the
     *     wait's one deadline
     */
    record Wait(AccountCard card, Duration timeout, int maxWaiting, boolean sticky, WaitTicket ticket)
            implements Selection {
        public Wait {
            Objects.requireNonNull(card, "card");
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(ticket, "ticket");
        }

        /** The account queued on. */
        public long accountId() {
            return card.id();
        }

        /** The layer of a wait plan: sticky or fallback. */
        public Layer layer() {
            return sticky ? Layer.STICKY : Layer.FALLBACK;
        }
    }

    /**
     * Nothing can serve the request now.
     *
     * @param reason the reason
     * @param detail a sentence for a person, naming the bucket and the counts
     * @param until for {@link Reason#COOLING_DOWN}, when the first cooldown ends; for {@link
     *     Reason#WAIT_EXPIRED}, the deadline that passed; else {@code null}
     */
    record None(Reason reason, String detail, @Nullable Instant until) implements Selection {
        public None {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
        }
    }
}
