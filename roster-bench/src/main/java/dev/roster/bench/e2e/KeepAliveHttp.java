package dev.roster.bench.e2e;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A minimal HTTP/1.1 client for one thread: one keep-alive connection, blocking {@code GET}s, bodies
 * by {@code Content-Length} or chunked. It is the loop a gateway's own HTTP client runs per
 * connection (Go's {@code net/http}, say), without the JDK client's asynchronous machinery per
 * request, which in this JVM costs more than the server's answer itself; the bench uses it to measure
 * what a gateway on the same machine gets from the server. Not thread-safe.
 */
final class KeepAliveHttp implements AutoCloseable {
    /** A response: status, the {@code ETag} header or {@code null}, and the body. */
    record Response(int status, String etag, byte[] body) {}

    private final String host;
    private final int port;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    KeepAliveHttp(String host, int port) {
        this.host = host;
        this.port = port;
    }

    /** {@code GET target} (path and query), with {@code If-None-Match: ifNoneMatch} when not null. */
    Response get(String target, String ifNoneMatch) throws IOException {
        if (socket == null) {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), 5_000);
            socket.setSoTimeout(10_000);
            in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            out = socket.getOutputStream();
        }
        StringBuilder req = new StringBuilder(160)
                .append("GET ")
                .append(target)
                .append(" HTTP/1.1\r\nHost: ")
                .append(host)
                .append(':')
                .append(port)
                .append("\r\n");
        if (ifNoneMatch != null) {
            req.append("If-None-Match: ").append(ifNoneMatch).append("\r\n");
        }
        req.append("\r\n");
        try {
            out.write(req.toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return read();
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    private Response read() throws IOException {
        String statusLine = line();
        if (statusLine.length() < 12 || !statusLine.startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP status line: " + statusLine);
        }
        int status = Integer.parseInt(statusLine.substring(9, 12));
        long length = -1;
        boolean chunked = false;
        boolean closeAfter = false;
        String etag = null;
        for (String h = line(); !h.isEmpty(); h = line()) {
            int colon = h.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" ->
                    chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                case "connection" -> closeAfter = value.equalsIgnoreCase("close");
                case "etag" -> etag = value;
                default -> {}
            }
        }
        byte[] body;
        if (status == 304 || status == 204 || (status >= 100 && status < 200)) {
            body = new byte[0];
        } else if (chunked) {
            body = chunks();
        } else if (length >= 0) {
            body = in.readNBytes((int) length);
            if (body.length != length) {
                throw new IOException("connection closed in a body");
            }
        } else {
            body = in.readAllBytes();
            closeAfter = true;
        }
        if (closeAfter) {
            close();
        }
        return new Response(status, etag, body);
    }

    private byte[] chunks() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = line();
            int semi = size.indexOf(';');
            int n = Integer.parseInt((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
            if (n == 0) {
                while (!line().isEmpty()) {
                    // trailers
                }
                return body.toByteArray();
            }
            byte[] chunk = in.readNBytes(n);
            if (chunk.length != n) {
                throw new IOException("connection closed in a chunk");
            }
            body.write(chunk);
            line();
        }
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder(64);
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("connection closed");
            }
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        Socket s = socket;
        socket = null;
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
