package dev.roster.server.e2e;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately dumb HTTP/1.1 client on a plain socket. {@link java.net.http.HttpClient} refuses
 * invalid URIs, control characters in headers and restricted header names, which is exactly what the
 * hostile-input tests must send; here the request line, headers and body are bytes as given. One
 * connection per request ({@code Connection: close}); the read timeout is what "never a hang" means.
 */
final class RawHttp {
    private final String host;
    private final int port;
    private final int timeoutMillis;

    RawHttp(String base, int timeoutMillis) {
        URI u = URI.create(base);
        this.host = u.getHost();
        this.port = u.getPort();
        this.timeoutMillis = timeoutMillis;
    }

    /** The answer; {@code status} is -1 when the server closed without answering. */
    // Carries a response's bytes; never compared or hashed.
    @SuppressWarnings("ArrayRecordComponent")
    record Resp(int status, Map<String, String> headers, byte[] body, boolean hang, String failure) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /**
     * Sends {@code method target} with the header lines (already "Name: value", sent as UTF-8 bytes)
     * and the body (Content-Length always matches it, so the server never waits for missing bytes).
     */
    Resp send(String method, byte[] target, List<byte[]> headerLines, byte[] body) {
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        req.writeBytes(method.getBytes(StandardCharsets.US_ASCII));
        req.write(' ');
        req.writeBytes(target);
        req.writeBytes(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".getBytes(StandardCharsets.US_ASCII));
        for (byte[] h : headerLines) {
            req.writeBytes(h);
            req.writeBytes(new byte[] {'\r', '\n'});
        }
        if (body != null) {
            req.writeBytes(("Content-Length: " + body.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        }
        req.writeBytes(new byte[] {'\r', '\n'});
        if (body != null) {
            req.writeBytes(body);
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            try {
                OutputStream out = s.getOutputStream();
                out.write(req.toByteArray());
                out.flush();
            } catch (IOException e) {
                // The server may answer (413, 431) and close before reading everything; read what it said.
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    got.write(buf, 0, n);
                    if (complete(got.toByteArray())) {
                        break;
                    }
                }
            } catch (SocketTimeoutException e) {
                return new Resp(
                        -1, Map.of(), got.toByteArray(), true, "no complete answer within " + timeoutMillis + " ms");
            } catch (IOException e) {
                if (got.size() == 0) {
                    return new Resp(-1, Map.of(), new byte[0], false, e.toString());
                }
            }
            return parse(got.toByteArray());
        } catch (IOException e) {
            return new Resp(-1, Map.of(), new byte[0], false, e.toString());
        }
    }

    /** True once headers and a Content-Length body (or the last chunk) are in. */
    private static boolean complete(byte[] b) {
        int end = headerEnd(b);
        if (end < 0) {
            return false;
        }
        Map<String, String> h = headers(b, end);
        String cl = h.get("content-length");
        if (cl != null) {
            return b.length - (end + 4) >= Long.parseLong(cl.strip());
        }
        if ("chunked".equalsIgnoreCase(h.getOrDefault("transfer-encoding", ""))) {
            String tail = new String(b, end + 4, b.length - end - 4, StandardCharsets.ISO_8859_1);
            return tail.endsWith("0\r\n\r\n");
        }
        return false; // read until close
    }

    private static int headerEnd(byte[] b) {
        for (int i = 0; i + 3 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static Map<String, String> headers(byte[] b, int end) {
        String head = new String(b, 0, end, StandardCharsets.ISO_8859_1);
        Map<String, String> h = new LinkedHashMap<>();
        String[] lines = head.split("\r\n", -1);
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) {
                h.put(
                        lines[i].substring(0, c).strip().toLowerCase(Locale.ROOT),
                        lines[i].substring(c + 1).strip());
            }
        }
        h.put(":status-line", lines[0]);
        return h;
    }

    private static Resp parse(byte[] b) {
        int end = headerEnd(b);
        if (end < 0) {
            return new Resp(-1, Map.of(), b, false, "incomplete head: " + new String(b, StandardCharsets.ISO_8859_1));
        }
        Map<String, String> h = headers(b, end);
        String[] status = h.get(":status-line").split(" ", -1);
        int code = status.length > 1 ? Integer.parseInt(status[1]) : -1;
        byte[] raw = java.util.Arrays.copyOfRange(b, end + 4, b.length);
        if ("chunked".equalsIgnoreCase(h.getOrDefault("transfer-encoding", ""))) {
            raw = dechunk(raw);
        } else if (h.containsKey("content-length")) {
            int n = (int)
                    Math.min(raw.length, Long.parseLong(h.get("content-length").strip()));
            raw = java.util.Arrays.copyOf(raw, n);
        }
        return new Resp(code, h, raw, false, null);
    }

    private static byte[] dechunk(byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < b.length) {
            int eol = i;
            while (eol + 1 < b.length && !(b[eol] == '\r' && b[eol + 1] == '\n')) {
                eol++;
            }
            String size = new String(b, i, eol - i, StandardCharsets.ISO_8859_1).split(";", -1)[0].strip();
            int n = size.isEmpty() ? 0 : Integer.parseInt(size, 16);
            if (n == 0) {
                break;
            }
            out.write(b, eol + 2, Math.min(n, b.length - eol - 2));
            i = eol + 2 + n + 2;
        }
        return out.toByteArray();
    }
}
