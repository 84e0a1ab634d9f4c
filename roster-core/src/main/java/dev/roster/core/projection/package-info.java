/**
 * The projection port: the shared, versioned copy of bucket snapshots, account cards and projection
 * state that every gateway instance reads (design §5). {@link dev.roster.core.projection.Projection}
 * states the contract; {@link dev.roster.core.projection.InMemoryProjection} is the in-process
 * implementation, and {@code roster-redis} holds the Redis one. Both pass the same contract suite in
 * {@code roster-testkit}.
 */
package dev.roster.core.projection;
