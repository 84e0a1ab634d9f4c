/**
 * The projection port: the shared, versioned copy of bucket snapshots, account cards and projection
 * state that every gateway instance reads (docs/architecture.md, "Redis: the projection"). {@link
 * dev.roster.core.projection.Projection} states the contract; {@code roster-redis} holds the Redis implementation and
 * {@code roster-testkit} an in-process fake ({@code dev.roster.testkit.fake.InMemoryProjection}). Both pass the same
 * contract suite in {@code roster-testkit}.
 */
@NullMarked
package dev.roster.core.projection;

import org.jspecify.annotations.NullMarked;
