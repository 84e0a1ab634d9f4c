package dev.roster.core.outbox;

/**
 * The outcome of one retention pass.
 *
 * @param lockAcquired whether this caller held the retention lock (another instance may run it)
 * @param deleted rows deleted
 * @param batches delete statements issued
 */
public record RetentionResult(boolean lockAcquired, long deleted, int batches) {}
