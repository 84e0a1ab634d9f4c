package dev.roster.core.watch;

/**
 * Receives the changes of watched buckets' answers; see {@link AnswerFeed#watch}.
 *
 * <p>Called on the feed's one thread, one call at a time for all watchers: an implementation must return
 * quickly and never block (queue the state and hand it to its own thread). An exception it throws is
 * logged and does not stop the feed or other watchers.
 */
@FunctionalInterface
public interface AnswerListener {
    /** The bucket's answer is now {@code state} (a different answer from the one last given for it). */
    void changed(AnswerState state);
}
