package dev.roster.postgres;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

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
        @Nullable Instant createdAt,
        @Nullable Instant updatedAt,
        @Nullable Instant deletedAt) {}
