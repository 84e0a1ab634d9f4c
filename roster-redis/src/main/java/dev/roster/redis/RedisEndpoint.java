package dev.roster.redis;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where and how to reach Redis, parsed from a URI. Accepted forms:
 *
 * <pre>
 * redis://[[user:]password@]host[:port][/db]                       standalone (port 6379)
 * rediss://[[user:]password@]host[:port][/db]                      standalone over TLS
 * redis-sentinel://[[user:]password@]h1[:p1][,h2[:p2]...][/db]?master=NAME
 *                                                                  Sentinel (port 26379); NAME may
 *                                                                  also be given as #NAME
 * redis-cluster://[[user:]password@]h1[:p1][,h2[:p2]...][?tls=true]
 *                                                                  Cluster seed nodes (port 6379)
 * </pre>
 *
 * <p>IPv6 hosts are written in brackets ({@code [::1]:6379}). User and password are percent-decoded
 * and apply to the data nodes (not to Sentinels). Cluster has no database number. Parse errors name
 * the URI with its password masked and say what is wrong.
 *
 * @param kind the topology
 * @param nodes host/port pairs: the server, the Sentinels, or the Cluster seed nodes
 * @param username the ACL user, or {@code null}
 * @param password the password, or {@code null}
 * @param database the database number (0 for Cluster)
 * @param tls whether to use TLS
 * @param sentinelMaster the monitored master's name (Sentinel only), else {@code null}
 */
public record RedisEndpoint(
        Kind kind,
        List<HostPort> nodes,
        @Nullable String username,
        @Nullable String password,
        int database,
        boolean tls,
        @Nullable String sentinelMaster) {

    /** The topology a URI names. */
    public enum Kind {
        STANDALONE,
        SENTINEL,
        CLUSTER
    }

    /**
     * A host and port.
     *
     * @param host host name or address (IPv6 without brackets)
     * @param port the port
     */
    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    public RedisEndpoint {
        Objects.requireNonNull(kind, "kind");
        nodes = List.copyOf(nodes);
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("a redis endpoint needs at least one host");
        }
    }

    /**
     * Parses a URI of one of the accepted forms.
     *
     * @throws IllegalArgumentException naming the (masked) URI and the problem
     */
    public static RedisEndpoint parse(String uri) {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("redis url is empty; expected e.g. redis://localhost:6379");
        }
        String masked = mask(uri);
        int schemeEnd = uri.indexOf("://");
        if (schemeEnd < 0) {
            throw bad(masked, "missing scheme; expected redis://, rediss://, redis-sentinel:// or redis-cluster://");
        }
        String scheme = uri.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
        Kind kind;
        boolean tls = false;
        int defaultPort = 6379;
        switch (scheme) {
            case "redis" -> kind = Kind.STANDALONE;
            case "rediss" -> {
                kind = Kind.STANDALONE;
                tls = true;
            }
            case "redis-sentinel" -> {
                kind = Kind.SENTINEL;
                defaultPort = 26379;
            }
            case "redis-cluster" -> kind = Kind.CLUSTER;
            default ->
                throw bad(
                        masked,
                        "unknown scheme '" + scheme + "'; expected redis, rediss, redis-sentinel or redis-cluster");
        }
        String rest = uri.substring(schemeEnd + 3);
        String fragment = null;
        int hash = rest.indexOf('#');
        if (hash >= 0) {
            fragment = rest.substring(hash + 1);
            rest = rest.substring(0, hash);
        }
        String query = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String path = null;
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            path = rest.substring(slash + 1);
            rest = rest.substring(0, slash);
        }
        String user = null;
        String password = null;
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            String info = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int colon = info.indexOf(':');
            if (colon >= 0) {
                user = emptyToNull(decode(info.substring(0, colon), masked));
                password = decode(info.substring(colon + 1), masked);
            } else {
                // redis://secret@host is the common password-only form.
                password = decode(info, masked);
            }
        }
        List<HostPort> nodes = new ArrayList<>();
        for (String hp : rest.split(",", -1)) {
            nodes.add(hostPort(hp, defaultPort, masked));
        }
        if (kind == Kind.STANDALONE && nodes.size() > 1) {
            throw bad(masked, "several hosts need redis-sentinel:// or redis-cluster://");
        }
        int db = 0;
        if (path != null && !path.isEmpty()) {
            if (kind == Kind.CLUSTER) {
                throw bad(masked, "redis-cluster:// has no database number");
            }
            try {
                db = Integer.parseInt(path);
            } catch (NumberFormatException e) {
                throw bad(masked, "database must be a number, got '" + path + "'");
            }
            if (db < 0) {
                throw bad(masked, "database must be >= 0, got " + db);
            }
        }
        String master = fragment == null || fragment.isEmpty() ? null : fragment;
        if (query != null && !query.isEmpty()) {
            // split drops trailing empty strings: an empty pair is nothing to read anyway.
            @SuppressWarnings("StringSplitter")
            String[] pairs = query.split("&");
            for (String kv : pairs) {
                int eq = kv.indexOf('=');
                String k = eq < 0 ? kv : kv.substring(0, eq);
                String v = eq < 0 ? "" : kv.substring(eq + 1);
                switch (k) {
                    case "master", "sentinelMasterId" -> master = decode(v, masked);
                    case "tls", "ssl" -> tls = Boolean.parseBoolean(v);
                    default -> throw bad(masked, "unknown parameter '" + k + "'; known: master, tls");
                }
            }
        }
        if (kind == Kind.SENTINEL && (master == null || master.isEmpty())) {
            throw bad(masked, "redis-sentinel:// needs the master name: ?master=NAME");
        }
        if (kind != Kind.SENTINEL && master != null) {
            throw bad(masked, "a master name is only meaningful for redis-sentinel://");
        }
        return new RedisEndpoint(kind, nodes, user, password, db, tls, master);
    }

    @Override
    public String toString() {
        return "RedisEndpoint[" + kind + " " + nodes + (username != null ? " user=" + username : "")
                + (password != null ? " password=***" : "") + " db=" + database + (tls ? " tls" : "")
                + (sentinelMaster != null ? " master=" + sentinelMaster : "") + "]";
    }

    private static HostPort hostPort(String hp, int defaultPort, String masked) {
        if (hp.isEmpty()) {
            throw bad(masked, "empty host");
        }
        String host;
        String port = null;
        if (hp.startsWith("[")) {
            int close = hp.indexOf(']');
            if (close < 0) {
                throw bad(masked, "unclosed '[' in host '" + hp + "'");
            }
            host = hp.substring(1, close);
            if (close + 1 < hp.length()) {
                if (hp.charAt(close + 1) != ':') {
                    throw bad(masked, "expected ':' after ']' in '" + hp + "'");
                }
                port = hp.substring(close + 2);
            }
        } else {
            int colon = hp.lastIndexOf(':');
            host = colon < 0 ? hp : hp.substring(0, colon);
            port = colon < 0 ? null : hp.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw bad(masked, "empty host in '" + hp + "'");
        }
        int p = defaultPort;
        if (port != null) {
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw bad(masked, "port must be a number, got '" + port + "'");
            }
            if (p < 1 || p > 65535) {
                throw bad(masked, "port must be 1..65535, got " + p);
            }
        }
        return new HostPort(host, p);
    }

    private static String decode(String s, String masked) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw bad(masked, "truncated percent escape");
                }
                try {
                    out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                } catch (NumberFormatException e) {
                    throw bad(masked, "bad percent escape '" + s.substring(i, i + 3) + "'");
                }
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The URI with any password replaced by {@code ***}, for messages and logs. */
    public static String mask(String uri) {
        if (uri == null) {
            return "null";
        }
        int schemeEnd = uri.indexOf("://");
        int at = uri.lastIndexOf('@');
        if (schemeEnd < 0 || at < schemeEnd) {
            return uri;
        }
        String info = uri.substring(schemeEnd + 3, at);
        int colon = info.indexOf(':');
        String shown = colon >= 0 ? info.substring(0, colon) + ":***" : "***";
        return uri.substring(0, schemeEnd + 3) + shown + uri.substring(at);
    }

    private static @Nullable String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static IllegalArgumentException bad(String masked, String what) {
        return new IllegalArgumentException("redis url '" + masked + "': " + what);
    }
}
