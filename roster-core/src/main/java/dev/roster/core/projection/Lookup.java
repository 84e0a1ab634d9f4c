package dev.roster.core.projection;

import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of reading one value from the projection: a {@link Hit}, a {@link Miss} (nothing stored)
 * or {@link Corrupt} (something is stored but cannot be trusted). A corrupt value is reported, not
 * thrown, so that a read path never fails with an unexplained exception; callers that only want the
 * value use {@link #value()}, which treats a corrupt value as a miss.
 *
 * @param <T> the value type
 */
public sealed interface Lookup<T> {

    /** The value, or empty for a miss or a corrupt value. */
    Optional<T> value();

    /** Whether a value was found and decoded. */
    default boolean isHit() {
        return this instanceof Hit;
    }

    /** A hit. */
    static <T> Lookup<T> hit(T value) {
        return new Hit<>(value);
    }

    /** A miss. */
    @SuppressWarnings("unchecked")
    static <T> Lookup<T> miss() {
        return (Lookup<T>) Miss.INSTANCE;
    }

    /** A corrupt value. */
    static <T> Lookup<T> corrupt(CorruptValueException error) {
        return new Corrupt<>(error);
    }

    /**
     * A decoded value.
     *
     * @param found the value, never {@code null}
     * @param <T> the value type
     */
    record Hit<T>(T found) implements Lookup<T> {
        public Hit {
            Objects.requireNonNull(found, "found");
        }

        @Override
        public Optional<T> value() {
            return Optional.of(found);
        }
    }

    /**
     * Nothing is stored under the key.
     *
     * @param <T> the value type
     */
    @SuppressWarnings("rawtypes")
    final class Miss<T> implements Lookup<T> {
        static final Miss INSTANCE = new Miss();

        private Miss() {}

        @Override
        public Optional<T> value() {
            return Optional.empty();
        }

        @Override
        public String toString() {
            return "Miss";
        }
    }

    /**
     * A value is stored but could not be decoded; {@link #error()} names the key and the reason.
     *
     * @param error the decoding error
     * @param <T> the value type
     */
    record Corrupt<T>(CorruptValueException error) implements Lookup<T> {
        public Corrupt {
            Objects.requireNonNull(error, "error");
        }

        @Override
        public Optional<T> value() {
            return Optional.empty();
        }
    }
}
