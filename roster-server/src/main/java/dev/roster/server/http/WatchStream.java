package dev.roster.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.roster.core.Bucket;
import dev.roster.core.watch.AnswerListener;
import dev.roster.core.watch.AnswerState;
import dev.roster.core.watch.Watch;
import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardSocketOptions;
import java.nio.channels.NetworkChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client of {@code GET /v1/watch}: turns the answer feed's states into Server-Sent Events and writes
 * them without ever blocking the feed.
 *
 * <p>The feed's thread only compares and queues: each state whose fingerprint differs from what this
 * client was last told becomes one frame in a bounded queue, with the new {@linkplain WatchIds id}. A
 * virtual thread of its own writes the queue to the socket and may block there as long as the client
 * does not read; when the queue is full the client is dropped (connection aborted), so one slow client
 * never holds up the feed or the others. Nothing is lost by a drop: the client reconnects with its last
 * id and is told every bucket that changed since.
 */
final class WatchStream implements AnswerListener {
    private static final Logger LOG = LoggerFactory.getLogger("roster.http");
    /** The end reason of a client dropped for not reading its stream. */
    static final String SLOW = "slow";

    private static final int SEND_BUFFER_BYTES = 32 * 1024;
    private static final byte[] HEARTBEAT = ": heartbeat\n\n".getBytes(StandardCharsets.US_ASCII);

    private final Context ctx;
    private final String requestId;
    private final List<Bucket> buckets;
    private final Map<Bucket, Integer> index = new HashMap<>();
    // Written by the feed's thread only (and before the watch is registered).
    private final long[] told;
    private final boolean[] known;
    private final ArrayBlockingQueue<byte[]> frames;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final AtomicBoolean ended = new AtomicBoolean();
    private final BiConsumer<WatchStream, String> onEnd;
    private volatile @Nullable Watch watch;
    private volatile @Nullable Thread writer;

    /**
     * @param lastEventId the client's {@code Last-Event-ID}, or {@code null}
     * @param onEnd called once when the stream ends, with the reason ({@link #SLOW} for a dropped client)
     */
    WatchStream(
            Context ctx,
            String requestId,
            List<Bucket> buckets,
            String lastEventId,
            int queueFrames,
            BiConsumer<WatchStream, String> onEnd) {
        this.ctx = ctx;
        this.requestId = requestId;
        this.buckets = List.copyOf(buckets);
        for (int i = 0; i < this.buckets.size(); i++) {
            index.put(this.buckets.get(i), i);
        }
        this.told = new long[this.buckets.size()];
        this.known = new boolean[this.buckets.size()];
        long[] resumed = WatchIds.decode(lastEventId, this.buckets.size());
        if (resumed != null) {
            System.arraycopy(resumed, 0, told, 0, told.length);
            Arrays.fill(known, true);
        }
        // Room for the first frame and one per bucket (the initial states) beyond the client's allowance.
        this.frames = new ArrayBlockingQueue<>(queueFrames + this.buckets.size() + 1);
        this.onEnd = onEnd;
        // The first frame says how soon to reconnect and that the stream is open.
        frames.add(
                ("retry: 1000\n: watching " + this.buckets.size() + " buckets\n\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The feed registration that feeds this stream (closed when the stream ends). */
    void attach(Watch w) {
        this.watch = w;
        if (ended.get()) {
            w.close();
        }
    }

    /**
     * Makes the response an event stream and hands it to Jetty's asynchronous mode: the request's thread
     * and its concurrency permit are released, the writer thread takes over.
     */
    void start() {
        HttpServletResponse res = ctx.res();
        res.setStatus(200);
        res.setContentType("text/event-stream");
        res.setCharacterEncoding("UTF-8");
        res.setHeader("Cache-Control", "no-cache");
        // Tells nginx-like proxies not to buffer the stream.
        res.setHeader("X-Accel-Buffering", "no");
        limitSendBuffer();
        ctx.future(() -> {
            writer = Thread.ofVirtual().name("roster-watch-client").start(this::writeLoop);
            return done;
        });
    }

    @Override
    public void changed(AnswerState s) {
        Integer i = index.get(s.bucket());
        if (i == null || ended.get()) {
            return;
        }
        if (known[i] && told[i] == s.fingerprint()) {
            return;
        }
        told[i] = s.fingerprint();
        known[i] = true;
        byte[] frame;
        try {
            frame = ("id: " + WatchIds.encode(told) + "\nevent: change\ndata: "
                            + Json.MAPPER.writeValueAsString(
                                    new Change(s.bucket().text(), s.generation(), s.version(), s.validUntil()))
                            + "\n\n")
                    .getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        offer(frame);
    }

    /** Queues a heartbeat (called by the heartbeat timer). */
    void heartbeat() {
        offer(HEARTBEAT);
    }

    private void offer(byte[] frame) {
        if (!frames.offer(frame)) {
            end(SLOW, true);
        }
    }

    private void writeLoop() {
        try {
            OutputStream out = ctx.res().getOutputStream();
            while (!ended.get()) {
                byte[] f = frames.take();
                out.write(f);
                if (frames.isEmpty()) {
                    out.flush();
                }
            }
        } catch (InterruptedException e) {
            // Ended by the server.
        } catch (IOException | RuntimeException e) {
            end("client_gone", false);
        } finally {
            done.complete(null);
        }
    }

    /**
     * Ends the stream once: stops the feed registration, frees the client's place and, for a client that
     * stopped reading, aborts the connection so a write blocked on it fails at once.
     */
    void end(String reason, boolean abort) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        Watch w = watch;
        if (w != null) {
            w.close();
        }
        frames.clear();
        if (abort) {
            abortConnection();
        }
        Thread t = writer;
        if (t != null) {
            t.interrupt();
        } else {
            done.complete(null);
        }
        onEnd.accept(this, reason);
        if (SLOW.equals(reason)) {
            LOG.warn("event=watch_dropped request_id={} reason=slow_client buckets={}", requestId, buckets.size());
        } else {
            LOG.debug("event=watch_ended request_id={} reason={}", requestId, reason);
        }
    }

    private void abortConnection() {
        try {
            endPoint().close(new IOException("watch client dropped: it does not read its stream"));
        } catch (RuntimeException e) {
            LOG.debug("event=watch_abort_failed request_id={} error={}", requestId, e.toString());
        }
    }

    /**
     * A watch connection carries a few hundred bytes per change, so it keeps a small kernel send buffer
     * instead of the auto-tuned one (megabytes on Linux): an open stream then pins little memory, and a
     * client that stops reading fills it, blocks the writer and is noticed after a few dozen events
     * rather than after megabytes (decision W6).
     */
    private void limitSendBuffer() {
        try {
            if (endPoint().getTransport() instanceof NetworkChannel ch) {
                ch.setOption(StandardSocketOptions.SO_SNDBUF, SEND_BUFFER_BYTES);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("event=watch_send_buffer_unchanged request_id={} error={}", requestId, e.toString());
        }
    }

    private EndPoint endPoint() {
        return ServletContextRequest.getServletContextRequest(ctx.req())
                .getConnectionMetaData()
                .getConnection()
                .getEndPoint();
    }

    /**
     * The data of a {@code change} event.
     *
     * @param bucket the bucket's text form
     * @param generation the generation of the answer's snapshot ({@code ""} for a database answer)
     * @param version its version (a string, as every 64-bit number of the API)
     * @param validUntil when the answer changes by itself next (a block ends, an expiry passes), or null
     */
    record Change(
            String bucket,
            String generation,
            long version,
            @Nullable Instant validUntil) {}
}
