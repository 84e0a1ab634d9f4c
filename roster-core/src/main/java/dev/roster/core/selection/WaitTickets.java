package dev.roster.core.selection;

import dev.roster.core.config.TicketSecret;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Seals and checks wait tickets (decision SP1): HMAC-SHA256 under {@code selection.wait_ticket_secret},
 * cut to 128 bits, over the account, the token, the deadline (epoch milliseconds) and the request's group,
 * platform, session key and model, each length-prefixed so no two inputs share an encoding. Any
 * instance holding the same key checks any other's tickets without asking the store. Thread-safe.
 */
final class WaitTickets {
    private static final String ALGORITHM = "HmacSHA256";
    private static final byte VERSION = 1;

    private final SecretKeySpec key;

    WaitTickets(TicketSecret secret) {
        this.key = new SecretKeySpec(secret.key(), ALGORITHM);
    }

    /** A sealed ticket for the store's place {@code token} on {@code accountId}, ending at {@code deadline}. */
    WaitTicket seal(long accountId, String token, Instant deadline, SelectRequest r) {
        Instant end = Instant.ofEpochMilli(deadline.toEpochMilli());
        return new WaitTicket(accountId, token, end, mac(accountId, token, end, r));
    }

    /**
     * Checks that {@code t} was sealed by a selector with this key for a request like {@code r}.
     *
     * @throws InvalidWaitTicketException otherwise
     */
    void check(WaitTicket t, SelectRequest r) {
        if (!t.sealed()) {
            throw new InvalidWaitTicketException("it carries no seal; pass back the ticket select handed out");
        }
        byte[] expected = HexFormat.of().parseHex(mac(t.accountId(), t.token(), t.expiresAt(), r));
        byte[] given = HexFormat.of().parseHex(t.seal());
        if (!MessageDigest.isEqual(expected, given)) {
            throw new InvalidWaitTicketException("it was not issued for this request (forged, altered, issued for"
                    + " another group, platform, session or model, or under another selection.wait_ticket_secret)");
        }
    }

    private String mac(long accountId, String token, Instant deadline, SelectRequest r) {
        ByteBuffer b = ByteBuffer.allocate(4096);
        b.put(VERSION).putLong(accountId).putLong(deadline.toEpochMilli());
        put(b, token);
        b.putLong(r.groupId() == null ? -1 : r.groupId());
        put(b, r.platform());
        put(b, r.sessionKey());
        put(b, r.model());
        try {
            Mac m = Mac.getInstance(ALGORITHM);
            m.init(key);
            m.update(b.array(), 0, b.position());
            return HexFormat.of().formatHex(Arrays.copyOf(m.doFinal(), 16));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** A length-prefixed string (-1 for none); the request bounds every string well below the buffer. */
    private static void put(ByteBuffer b, @Nullable String s) {
        if (s == null) {
            b.putInt(-1);
            return;
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putInt(bytes.length).put(bytes);
    }
}
