/**
 * The outbox replayer (one active instance, chosen by the projection's replayer lease), the
 * coalescing full rebuild and the lag/backlog monitor.
 */
package dev.roster.core.replay;
