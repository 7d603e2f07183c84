package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * A dyno's response head that the router passes to the client as the bytes the dyno sent, with only the router's
 * own lines added, instead of parsing it into headers and encoding it again: the router's fast path, about a third of
 * its per-request work on the usual small response.
 *
 * <p>Only a head the router need not rewrite qualifies, so the bytes passed on are exactly what the decoding path
 * would have sent: {@code HTTP/1.1}, a final status that has a body (not 1xx, 204 or 304), framed by one well-formed
 * Content-Length, every line CRLF-terminated, no obs-fold, only token characters in names and no control characters
 * in values, and nothing the router rewrites (Transfer-Encoding, Upgrade, X-Request-Id, Via, a Connection header
 * naming other headers). The hop-by-hop lines that concern only the dyno's connection ({@code Connection: keep-alive}
 * or {@code close}, Keep-Alive, Proxy-Connection, TE, Trailer) are left out, as the decoding path strips them. Any
 * other head goes through {@link DynoResponseDecoder}'s HTTP decoder as before, which stays the
 * one judge of malformed responses.
 *
 * <p>Holds the status line and header lines, each with its CRLF, without the blank line that ends the head, in a
 * buffer of its own with room for the router's lines.
 */
final class PassThroughHead extends DefaultByteBufHolder implements PassThrough {
    /** Longer heads take the decoding path (and its limits). */
    static final int MAX_HEAD_BYTES = 4096;
    /** Bytes scanned first: a usual head fits, and a 16 KB response's body need not be copied to find its end. */
    private static final int FIRST_SCAN = 1024;
    /** Room left after the dyno's lines for the router's own, which {@link ForwardHeaders#appendRouterLines} adds. */
    private static final int ROUTER_LINES_ROOM = 128;
    private static final int MAX_HEADERS = 100;
    private static final byte[] HTTP_1_1 = {'H', 'T', 'T', 'P', '/', '1', '.', '1', ' '};

    private static final int MAX_DROPPED = 4;

    // Names compared case-insensitively, as lower case.
    private static final byte[] CONTENT_LENGTH = ascii("content-length");
    private static final byte[] CONNECTION = ascii("connection");
    private static final byte[] KEEP_ALIVE = ascii("keep-alive");
    private static final byte[] CLOSE = ascii("close");
    /** Hop-by-hop headers that only ever describe the dyno's connection: their lines are left out. */
    private static final byte[][] DROPPED = {KEEP_ALIVE, ascii("proxy-connection"), ascii("te"), ascii("trailer")};
    /** Headers the router rewrites, or that change the framing: such a head takes the decoding path. */
    private static final byte[][] REWRITTEN = {
            ascii("transfer-encoding"), ascii("upgrade"), ascii("x-request-id"), ascii("via")};

    /** RFC 9110 §5.6.2 tchar. */
    private static final boolean[] TOKEN = new boolean[256];

    static {
        for (char c = '0'; c <= '9'; c++) TOKEN[c] = true;
        for (char c = 'a'; c <= 'z'; c++) TOKEN[c] = true;
        for (char c = 'A'; c <= 'Z'; c++) TOKEN[c] = true;
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TOKEN[c] = true;
    }

    // The head is scanned in a copy: a plain array is much cheaper to walk than a (direct) buffer byte by byte.
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[MAX_HEAD_BYTES];
        }
    };

    /** Returned for a head that qualifies so far but has not all arrived; holds nothing. */
    static final PassThroughHead NOT_YET = new PassThroughHead(Unpooled.EMPTY_BUFFER, 0, 0, false);

    private final int status;
    private final long contentLength;
    private final boolean keepAlive;

    PassThroughHead(ByteBuf lines, int status, long contentLength, boolean keepAlive) {
        super(lines);
        this.status = status;
        this.contentLength = contentLength;
        this.keepAlive = keepAlive;
    }

    /** False if the dyno said {@code Connection: close}. */
    boolean keepAlive() {
        return keepAlive;
    }

    int status() {
        return status;
    }

    long contentLength() {
        return contentLength;
    }

    @Override
    public PassThroughHead replace(ByteBuf content) {
        return new PassThroughHead(content, status, contentLength, keepAlive);
    }

    /**
     * Reads a qualifying head (and the blank line after it) from {@code in}. Otherwise reads nothing and returns
     * {@link #NOT_YET} if what has come so far qualifies (and is shorter than {@link #MAX_HEAD_BYTES}), else null.
     */
    static PassThroughHead readFrom(ByteBuf in) {
        int available = Math.min(in.readableBytes(), MAX_HEAD_BYTES);
        byte[] a = SCRATCH.get();
        int copied = Math.min(available, FIRST_SCAN);
        in.getBytes(in.readerIndex(), a, 0, copied);
        PassThroughHead head = scan(in, a, copied);
        if (head == NOT_YET && copied < available) {
            in.getBytes(in.readerIndex() + copied, a, copied, available - copied); // a long head: all of it
            head = scan(in, a, available);
        }
        if (head == NOT_YET && in.readableBytes() >= MAX_HEAD_BYTES) {
            return null; // too long to wait for
        }
        return head;
    }

    /** Scans the first {@code n} bytes of {@code in}, copied into {@code a}: {@link #readFrom}'s verdict. */
    private static PassThroughHead scan(ByteBuf in, byte[] a, int n) {
        for (int i = 0; i < Math.min(n, HTTP_1_1.length); i++) {
            if (a[i] != HTTP_1_1[i]) return null;
        }
        if (n < 19) {
            return NOT_YET; // shorter than "HTTP/1.1 200 \r\n" plus a header's worth
        }
        int status = digit(a[9]) * 100 + digit(a[10]) * 10 + digit(a[11]);
        if (status < 200 || status > 599 || status == 204 || status == 304) {
            return null; // also any non-digit, which makes the sum negative
        }
        int pos = 12;
        if (a[pos] == ' ') {
            pos = endOfValue(a, pos + 1, n);
        }
        if (pos < 0 || pos + 1 >= n) {
            return NOT_YET;
        }
        if (a[pos] != '\r' || a[pos + 1] != '\n') {
            return null;
        }
        pos += 2;
        long contentLength = -1;
        boolean keepAlive = true;
        int[] dropped = null; // start and end of each line left out
        int drops = 0;
        for (int headers = 0; ; headers++) {
            if (pos + 1 >= n) {
                return NOT_YET;
            }
            if (a[pos] == '\r') {
                if (a[pos + 1] != '\n' || contentLength < 0) return null;
                break;
            }
            if (headers == MAX_HEADERS) {
                return null;
            }
            int nameStart = pos;
            while (pos < n && TOKEN[a[pos] & 0xff]) pos++;
            if (pos >= n) {
                return NOT_YET;
            }
            if (pos == nameStart || a[pos] != ':') {
                return null; // empty name, obs-fold, a bad name character, whitespace before the colon
            }
            int nameLength = pos - nameStart;
            int valueStart = pos + 1;
            pos = endOfValue(a, valueStart, n);
            if (pos < 0 || pos + 1 >= n) {
                return NOT_YET;
            }
            if (a[pos] != '\r' || a[pos + 1] != '\n') {
                return null;
            }
            boolean drop = false;
            if (nameIs(a, nameStart, nameLength, CONTENT_LENGTH)) {
                if (contentLength >= 0) return null; // two: the decoder decides what that means
                contentLength = digits(a, valueStart, pos);
                if (contentLength < 0) return null;
            } else if (nameIs(a, nameStart, nameLength, CONNECTION)) {
                // keep-alive or close only: any other token names a header to strip, the decoding path's job.
                if (valueIs(a, valueStart, pos, CLOSE)) {
                    keepAlive = false;
                } else if (!valueIs(a, valueStart, pos, KEEP_ALIVE)) {
                    return null;
                }
                drop = true;
            } else if (isOneOf(a, nameStart, nameLength, DROPPED)) {
                drop = true;
            } else if (isOneOf(a, nameStart, nameLength, REWRITTEN)) {
                return null;
            }
            pos += 2;
            if (drop) {
                if (drops == MAX_DROPPED) return null;
                if (dropped == null) dropped = new int[2 * MAX_DROPPED];
                dropped[2 * drops] = nameStart;
                dropped[2 * drops + 1] = pos;
                drops++;
            }
        }
        // Copied from the scan's copy, leaving out the dropped lines, into the buffer the client's head is built in.
        ByteBuf lines = in.alloc().buffer(pos + ROUTER_LINES_ROOM);
        int from = 0;
        for (int d = 0; d < drops; d++) {
            lines.writeBytes(a, from, dropped[2 * d] - from);
            from = dropped[2 * d + 1];
        }
        lines.writeBytes(a, from, pos - from);
        in.skipBytes(pos + 2);
        return new PassThroughHead(lines, status, contentLength, keepAlive);
    }

    private static int digit(byte b) {
        return b >= '0' && b <= '9' ? b - '0' : -1000;
    }

    /** The index of the first byte from {@code from} that may not be in a field value (the CR, if well-formed), or -1. */
    private static int endOfValue(byte[] a, int from, int n) {
        int i = from;
        while (i < n) {
            int b = a[i] & 0xff;
            if (b < 0x20 && b != '\t' || b == 0x7f) {
                return i;
            }
            i++;
        }
        return -1;
    }

    /** A Content-Length value: digits, optionally wrapped in spaces or tabs; -1 if anything else. */
    private static long digits(byte[] a, int from, int to) {
        while (from < to && (a[from] == ' ' || a[from] == '\t')) from++;
        while (to > from && (a[to - 1] == ' ' || a[to - 1] == '\t')) to--;
        if (from == to || to - from > 18) {
            return -1;
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            if (a[i] < '0' || a[i] > '9') return -1;
            value = value * 10 + (a[i] - '0');
        }
        return value;
    }

    private static boolean isOneOf(byte[] a, int start, int length, byte[][] names) {
        for (byte[] name : names) {
            if (nameIs(a, start, length, name)) return true;
        }
        return false;
    }

    /** A field value that is one lower-case token, in any case, optionally wrapped in spaces or tabs. */
    private static boolean valueIs(byte[] a, int from, int to, byte[] lowerToken) {
        while (from < to && (a[from] == ' ' || a[from] == '\t')) from++;
        while (to > from && (a[to - 1] == ' ' || a[to - 1] == '\t')) to--;
        return nameIs(a, from, to - from, lowerToken);
    }

    /** Compares a token with a lower-case name: OR-ing 0x20 lowers A-Z and makes no other token character a letter or '-'. */
    private static boolean nameIs(byte[] a, int start, int length, byte[] lowerName) {
        if (length != lowerName.length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if ((a[start + i] | 0x20) != lowerName[i]) return false;
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
