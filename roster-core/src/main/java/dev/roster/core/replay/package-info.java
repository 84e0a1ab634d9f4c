/**
 * The outbox replayer (one active instance, chosen by the projection's replayer lease), the
 * coalescing full rebuild and the lag/backlog monitor.
 */
@NullMarked
package dev.roster.core.replay;

import org.jspecify.annotations.NullMarked;
