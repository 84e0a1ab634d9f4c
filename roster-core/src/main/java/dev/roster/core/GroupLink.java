package dev.roster.core;

/**
 * An account's membership of a group with the link's priority (smaller is better).
 *
 * @param groupId the group
 * @param priority the link priority
 */
public record GroupLink(long groupId, int priority) {}
