package dev.roster.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-JVM TCP proxy on a loopback port in front of one {@code host:port}, for fault injection
 * against any TCP server (Redis, PostgreSQL):
 *
 * <ul>
 *   <li>{@link #pause()} stops forwarding bytes in both directions while keeping every connection
 *       open (a hung server or a stalled network); {@link #resume()} forwards what was held back.
 *   <li>{@link #pauseReplies()} stops forwarding only what the server sends: requests still reach it
 *       and run there, but the client waits for replies (a reply lost in the network, as the client
 *       sees it); {@link #resume()} forwards them.
 *   <li>{@link #partition()} drops every connection and black-holes new ones: they are accepted but
 *       nothing is forwarded, so clients see timeouts rather than a refusal; {@link #heal()} closes
 *       the black-holed connections and forwards new ones again.
 * </ul>
 *
 * <p>Forwarding runs on virtual threads, two per connection. Thread-safe.
 */
public final class TcpProxy implements AutoCloseable {
    private final String targetHost;
    private final int targetPort;
    private final ServerSocket server;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Set<Socket> blackholed = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private boolean paused;
    private boolean repliesPaused;
    private volatile boolean partitioned;
    private volatile boolean closed;

    private TcpProxy(String targetHost, int targetPort) {
        this.targetHost = Objects.requireNonNull(targetHost, "targetHost");
        this.targetPort = targetPort;
        try {
            this.server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a proxy port", e);
        }
        Thread.ofPlatform()
                .daemon()
                .name("tcp-proxy-" + server.getLocalPort() + "-accept")
                .start(this::acceptLoop);
    }

    /** Starts a proxy forwarding to {@code targetHost:targetPort}. */
    public static TcpProxy start(String targetHost, int targetPort) {
        if (targetPort <= 0 || targetPort > 65535) {
            throw new IllegalArgumentException("target port must be 1..65535, got " + targetPort);
        }
        return new TcpProxy(targetHost, targetPort);
    }

    /** The loopback host clients connect to. */
    public String host() {
        return server.getInetAddress().getHostAddress();
    }

    /** The port clients connect to. */
    public int port() {
        return server.getLocalPort();
    }

    /** Stops forwarding bytes; connections stay open. */
    public void pause() {
        synchronized (gate) {
            paused = true;
        }
    }

    /** Stops forwarding bytes from the server to clients; requests are still forwarded to the server. */
    public void pauseReplies() {
        synchronized (gate) {
            repliesPaused = true;
        }
    }

    /** Forwards bytes again in both directions, including those held back while paused. */
    public void resume() {
        synchronized (gate) {
            paused = false;
            repliesPaused = false;
            gate.notifyAll();
        }
    }

    /** Drops every connection and black-holes new ones until {@link #heal()}. */
    public void partition() {
        partitioned = true;
        dropConnections();
    }

    /** Ends a partition: black-holed connections are closed and new ones are forwarded. */
    public void heal() {
        partitioned = false;
        for (Socket s : blackholed) {
            closeQuietly(s);
        }
        blackholed.clear();
    }

    /** Closes every forwarded connection (clients see a reset) without partitioning. */
    public void dropConnections() {
        for (Link l : links) {
            l.close();
        }
    }

    /** The number of connections currently forwarded. */
    public int connectionCount() {
        return links.size();
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        heal();
        dropConnections();
        resume();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            if (partitioned) {
                blackholed.add(client);
                continue;
            }
            Thread.ofVirtual().start(() -> connect(client));
        }
    }

    private void connect(Socket client) {
        Socket upstream = new Socket();
        try {
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            upstream.connect(new InetSocketAddress(targetHost, targetPort), 5_000);
        } catch (IOException e) {
            // Target down: the client sees its connection closed, as it would without the proxy.
            closeQuietly(upstream);
            closeQuietly(client);
            return;
        }
        Link link = new Link(client, upstream);
        links.add(link);
        if (partitioned) {
            link.close();
            return;
        }
        Thread.ofVirtual().start(() -> pump(link, client, upstream, false));
        Thread.ofVirtual().start(() -> pump(link, upstream, client, true));
    }

    private void pump(Link link, Socket from, Socket to, boolean replies) {
        byte[] buf = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (!awaitOpen(link, replies)) {
                    break;
                }
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // Either side went away; the link closes below.
        } finally {
            link.close();
        }
    }

    private boolean awaitOpen(Link link, boolean replies) {
        synchronized (gate) {
            while ((paused || (replies && repliesPaused)) && !link.closed && !closed) {
                try {
                    gate.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return !link.closed;
        }
    }

    private final class Link {
        final Socket a;
        final Socket b;
        volatile boolean closed;

        Link(Socket a, Socket b) {
            this.a = a;
            this.b = b;
        }

        void close() {
            closed = true;
            closeQuietly(a);
            closeQuietly(b);
            links.remove(this);
            synchronized (gate) {
                gate.notifyAll();
            }
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            if (c instanceof Socket s && !s.isClosed()) {
                try {
                    s.setSoLinger(true, 0);
                } catch (SocketException ignored) {
                    // Already half closed; a normal close is fine then.
                }
            }
            c.close();
        } catch (IOException ignored) {
            // Closing is best effort: the peer may already be gone.
        }
    }

    @Override
    public String toString() {
        return "TcpProxy[" + host() + ":" + port() + " -> " + targetHost + ":" + targetPort + "]";
    }
}
