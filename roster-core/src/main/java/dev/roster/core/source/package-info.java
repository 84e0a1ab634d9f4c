/**
 * The port through which the snapshot service reads the source of truth: bucket contents (the
 * durable part of the bucket query Q), cards by id, groups and platforms.
 */
@NullMarked
package dev.roster.core.source;

import org.jspecify.annotations.NullMarked;
