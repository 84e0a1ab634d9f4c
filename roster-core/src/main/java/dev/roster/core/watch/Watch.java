package dev.roster.core.watch;

/** A registration with an {@link AnswerFeed}; closing it stops delivery. Closing twice is harmless. */
public interface Watch extends AutoCloseable {
    @Override
    void close();
}
