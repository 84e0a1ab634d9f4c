package dev.roster.core.source;

import java.util.Objects;

/**
 * A group as the scheduler sees it.
 *
 * @param id the group id ({@code > 0})
 * @param name display name
 * @param platform the group's platform (decides its canonical buckets)
 * @param status {@code active}, {@code inactive} or {@code disabled}
 */
public record GroupInfo(long id, String name, String platform, String status) {
    public GroupInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(platform, "platform");
        Objects.requireNonNull(status, "status");
    }

    /** Whether buckets of this group may hold accounts. */
    public boolean active() {
        return "active".equals(status);
    }
}
