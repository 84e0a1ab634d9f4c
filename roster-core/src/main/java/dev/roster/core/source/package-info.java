/**
 * The port through which the snapshot service reads the source of truth: bucket contents (the
 * durable part of the bucket query Q), cards by id, groups and platforms.
 */
package dev.roster.core.source;
