package dev.roster.redis;

import dev.roster.core.projection.ProjectionUnavailableException;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * How both Redis adapters run a command: Lettuce's exceptions turned into Roster's by one rule
 * ({@link RedisErrors}), a future awaited with the connection's timeout plus a second, and a script run
 * by its SHA with {@code EVAL} as the fallback when the server lost it ({@code NOSCRIPT}). The adapter
 * chooses only what a {@code WRONGTYPE} reply means to it. Messages name the operation, the key and the
 * server's error reply, never a value. Thread-safe.
 */
final class RedisCalls {
    /** What a {@code WRONGTYPE} reply for {@code key} becomes in the adapter. */
    interface WrongType {
        RuntimeException of(String op, String key, String reply, RedisCommandExecutionException e);
    }

    /** {@code NOSCRIPT}: the caller runs the script's source with {@code EVAL}. */
    static final class NoScript extends RuntimeException {
        NoScript() {
            super(null, null, false, false);
        }
    }

    private final RedisConnector connector;
    private final RedisClusterCommands<byte[], byte[]> redis;
    private final WrongType wrongType;

    RedisCalls(RedisConnector connector, WrongType wrongType) {
        this.connector = Objects.requireNonNull(connector, "connector");
        this.redis = connector.sync();
        this.wrongType = Objects.requireNonNull(wrongType, "wrongType");
    }

    /**
     * Runs {@code command}; {@code key} (a {@code String} or the key's bytes) is turned into text only
     * for a message.
     *
     * @throws NoScript when the server does not know the script
     * @throws ProjectionUnavailableException on a timeout, a connection failure or an outage reply
     * @throws IllegalStateException on a reply that is a defect ({@link RedisErrors})
     */
    <T> T call(String op, Object key, Supplier<T> command) {
        try {
            return command.get();
        } catch (RedisNoScriptException e) {
            throw new NoScript();
        } catch (RedisCommandTimeoutException e) {
            throw new ProjectionUnavailableException(
                    op + " " + text(key) + " timed out after " + connector.commandTimeout() + " ("
                            + connector.endpoint() + ")",
                    e);
        } catch (RedisCommandExecutionException e) {
            String reply = String.valueOf(e.getMessage());
            throw switch (RedisErrors.kind(reply)) {
                case WRONG_TYPE -> wrongType.of(op, text(key), reply, e);
                case OUTAGE ->
                    new ProjectionUnavailableException(
                            op + " " + text(key) + " refused: " + reply + " (" + connector.endpoint() + ")", e);
                // A script or protocol error is a bug, not an outage: it must not pass as "unavailable".
                case DEFECT -> new IllegalStateException(op + " " + text(key) + " failed: " + reply, e);
            };
        } catch (RedisException e) {
            throw new ProjectionUnavailableException(
                    op + " " + text(key) + " failed: " + e.getMessage() + " (" + connector.endpoint() + ")", e);
        }
    }

    /** Waits for {@code future} (the command timeout plus a second) and translates as {@link #call}. */
    <T> T await(String op, Object key, RedisFuture<T> future) {
        long ms = connector.commandTimeout().toMillis() + 1000;
        try {
            return future.get(ms, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProjectionUnavailableException(op + " " + text(key) + " interrupted", e);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new ProjectionUnavailableException(op + " " + text(key) + " timed out after " + ms + " ms", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RedisException re) {
                return call(op, key, () -> {
                    throw re;
                });
            }
            throw new ProjectionUnavailableException(op + " " + text(key) + " failed: " + cause, cause);
        }
    }

    /** Runs {@code script} by its SHA, reloading it with {@code EVAL} when the server lost it. */
    // The caller names the reply type its script returns, as Lettuce's own eval does.
    @SuppressWarnings("TypeParameterUnusedInFormals")
    <T> T eval(LuaScript script, ScriptOutputType type, byte[][] keys, byte[]... args) {
        try {
            return call("EVALSHA " + script.name(), keys[0], () -> redis.evalsha(script.sha(), type, keys, args));
        } catch (NoScript e) {
            // Scripts vanish on restart, failover or SCRIPT FLUSH; EVAL reloads this one.
            return call("EVAL " + script.name(), keys[0], () -> redis.eval(script.source(), type, keys, args));
        }
    }

    private static String text(Object key) {
        return key instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(key);
    }
}
