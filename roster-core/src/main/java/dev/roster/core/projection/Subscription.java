package dev.roster.core.projection;

/** A live subscription to invalidations; closing it stops delivery. Closing twice is harmless. */
public interface Subscription extends AutoCloseable {
    @Override
    void close();
}
