package dev.roster.postgres;

import java.time.Instant;

/**
 * A group as an administrator sees it. Written by {@link GroupAdmin}.
 *
 * @param id id
 * @param name name
 * @param platform platform
 * @param status status
 * @param members linked accounts that are not deleted
 * @param createdAt creation
 * @param updatedAt last change
 * @param deletedAt soft deletion
 */
public record GroupView(
        long id,
        String name,
        String platform,
        String status,
        long members,
        Instant createdAt,
        Instant updatedAt,
        Instant deletedAt) {}
