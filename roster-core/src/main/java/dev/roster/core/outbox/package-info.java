/**
 * The scheduler outbox as Roster reads it: decoded events ({@link dev.roster.core.outbox.OutboxEvent}),
 * the read port ({@link dev.roster.core.outbox.OutboxSource}) and the cursor that keeps the horizon
 * watermark and the bounded set of applied events ({@link dev.roster.core.outbox.OutboxCursor}).
 */
@NullMarked
package dev.roster.core.outbox;

import org.jspecify.annotations.NullMarked;
