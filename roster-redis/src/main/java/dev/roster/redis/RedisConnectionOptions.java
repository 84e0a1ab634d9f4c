package dev.roster.redis;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link RedisConnector} connects: the URI (see {@link RedisEndpoint} for the accepted forms), the
 * command timeout (also the connect timeout) and the bound of the client's request queue. While
 * disconnected, commands are rejected at once rather than queued, so a Redis outage turns into fast
 * {@link dev.roster.core.projection.ProjectionUnavailableException}s instead of piling up requests.
 *
 * @param uri the Redis URI
 * @param commandTimeout how long one command may take, positive
 * @param requestQueueSize how many commands may be in flight per connection, at least 1
 */
public record RedisConnectionOptions(String uri, Duration commandTimeout, int requestQueueSize) {
    /** Default command timeout. */
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);

    /** Default request queue bound. */
    public static final int DEFAULT_REQUEST_QUEUE_SIZE = 10_000;

    public RedisConnectionOptions {
        RedisEndpoint.parse(uri);
        Objects.requireNonNull(commandTimeout, "commandTimeout");
        if (commandTimeout.isNegative() || commandTimeout.isZero()) {
            throw new IllegalArgumentException("redis commandTimeout must be positive, got " + commandTimeout);
        }
        if (requestQueueSize < 1) {
            throw new IllegalArgumentException("redis requestQueueSize must be >= 1, got " + requestQueueSize);
        }
    }

    /** Options for {@code uri} with the default timeout and queue bound. */
    public static RedisConnectionOptions of(String uri) {
        return new RedisConnectionOptions(uri, DEFAULT_COMMAND_TIMEOUT, DEFAULT_REQUEST_QUEUE_SIZE);
    }

    /** A copy with another command timeout. */
    public RedisConnectionOptions withCommandTimeout(Duration timeout) {
        return new RedisConnectionOptions(uri, timeout, requestQueueSize);
    }

    /** A copy with another request queue bound. */
    public RedisConnectionOptions withRequestQueueSize(int size) {
        return new RedisConnectionOptions(uri, commandTimeout, size);
    }

    @Override
    public String toString() {
        return "RedisConnectionOptions[uri=" + RedisEndpoint.mask(uri) + ", commandTimeout=" + commandTimeout
                + ", requestQueueSize=" + requestQueueSize + "]";
    }
}
