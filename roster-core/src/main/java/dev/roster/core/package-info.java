/**
 * Roster's domain: buckets, account cards, the time-based half of the bucket query, and the ports
 * that the PostgreSQL and Redis adapters implement. Nothing in this package performs I/O.
 */
@NullMarked
package dev.roster.core;

import org.jspecify.annotations.NullMarked;
