/**
 * The port an operator's view of the pool reads through: {@link dev.roster.core.status.PoolStatus}, a
 * filtered and counted page of accounts with what decides their schedulability, and the platforms and
 * groups to filter by. Read-only; the adapter is {@code dev.roster.postgres.PostgresPoolStatus}.
 */
@NullMarked
package dev.roster.core.status;

import org.jspecify.annotations.NullMarked;
