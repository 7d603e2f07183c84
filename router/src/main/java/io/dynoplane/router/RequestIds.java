package io.dynoplane.router;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/** Heroku's X-Request-Id rules: keep a sane client value, otherwise mint a UUID. */
final class RequestIds {
    static final int MIN_LENGTH = 20;
    static final int MAX_LENGTH = 200;

    private RequestIds() {
    }

    /** The client's id if it is 20–200 characters of {@code A-Za-z0-9+/=-}, else a fresh one. */
    static String resolve(String clientValue) {
        return isValid(clientValue) ? clientValue : newId();
    }

    static boolean isValid(String id) {
        if (id == null || id.length() < MIN_LENGTH || id.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '+' || c == '/' || c == '=' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * A version-4 UUID from ThreadLocalRandom. UUID.randomUUID() would serialise every event loop on
     * one shared SecureRandom; request ids need uniqueness, not secrecy.
     */
    static String newId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long msb = (random.nextLong() & ~0xF000L) | 0x4000L;                         // version 4
        long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;  // IETF variant
        return new UUID(msb, lsb).toString();
    }
}
