package dev.roster.core.outbox;

import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Health of the outbox as seen from one watermark (docs/architecture.md, "Reading the outbox without skips").
 *
 * @param watermark the watermark the figures are relative to
 * @param horizon the current horizon
 * @param pending visible events at or above the watermark not yet applied (the backlog)
 * @param oldestPendingAt creation time of the oldest pending event, or {@code null} when none
 * @param lag age of the oldest pending event by the database clock ({@link Duration#ZERO} when none)
 * @param horizonAge how long the transaction holding the horizon back has been open ({@link
 *     Duration#ZERO} when no other transaction holds one)
 * @param horizonHolderPid backend pid of that transaction, or {@code null}
 * @param databaseNow the database clock when the figures were taken
 */
public record OutboxStats(
        long watermark,
        long horizon,
        long pending,
        @Nullable Instant oldestPendingAt,
        Duration lag,
        Duration horizonAge,
        @Nullable Integer horizonHolderPid,
        Instant databaseNow) {}
