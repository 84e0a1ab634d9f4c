package dev.roster.core.service;

import java.time.Instant;
import java.util.Map;

/**
 * Where last-used times are written behind (the {@code accounts.last_used_at} column in a deployment,
 * one statement per call, ignored by the capture triggers). Implementations must move values only
 * forward and ignore unknown accounts. An exception means nothing was written; the service keeps the
 * values and tries again at the next flush.
 */
@FunctionalInterface
public interface LastUsedWriter {
    /**
     * Writes a batch.
     *
     * @param lastUsed account id to its latest use, never empty
     */
    void write(Map<Long, Instant> lastUsed);
}
