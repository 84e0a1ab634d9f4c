/**
 * The embeddable library: {@link dev.roster.Roster} and its builder wire PostgreSQL (the source of
 * truth), Redis (the shared projection) and the snapshot service with its near cache into one
 * started object a JVM gateway calls on every request; {@link dev.roster.RosterAdmin} is the
 * operator's view (outbox, dead letters, buckets, rebuilds) for an admin server.
 */
@NullMarked
package dev.roster;

import org.jspecify.annotations.NullMarked;
