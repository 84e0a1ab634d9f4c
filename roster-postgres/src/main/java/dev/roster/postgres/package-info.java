/**
 * Roster's PostgreSQL adapter: migrations with the capture triggers ({@link dev.roster.postgres.Migrator}),
 * repositories, the bucket query ({@link dev.roster.postgres.PostgresSchedulingSource}), the outbox
 * reader ({@link dev.roster.postgres.PostgresOutbox}) and the LISTEN wake-up ({@link
 * dev.roster.postgres.OutboxListener}).
 */
@NullMarked
package dev.roster.postgres;

import org.jspecify.annotations.NullMarked;
