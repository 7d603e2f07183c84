package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

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
    /** Room left after the dyno's lines for the router's own, which {@link ForwardHeaders#appendRouterLines} adds. */
    private static final int ROUTER_LINES_ROOM = 128;
    private static final byte[] HTTP_1_1 = {'H', 'T', 'T', 'P', '/', '1', '.', '1', ' '};

    // Names compared case-insensitively, as lower case.
    private static final byte[] CONTENT_LENGTH = HeadScan.ascii("content-length");
    private static final byte[] CONNECTION = HeadScan.ascii("connection");
    private static final byte[] KEEP_ALIVE = HeadScan.ascii("keep-alive");
    private static final byte[] CLOSE = HeadScan.ascii("close");
    /** Hop-by-hop headers that only ever describe the dyno's connection: their lines are left out. */
    private static final byte[][] DROPPED = {KEEP_ALIVE, HeadScan.ascii("proxy-connection"), HeadScan.ascii("te"), HeadScan.ascii("trailer")};
    /** Headers the router rewrites, or that change the framing: such a head takes the decoding path. */
    private static final byte[][] REWRITTEN = {
            HeadScan.ascii("transfer-encoding"), HeadScan.ascii("upgrade"), HeadScan.ascii("x-request-id"), HeadScan.ascii("via")};

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
     * {@link #NOT_YET} if what has come so far qualifies (and is shorter than {@link HeadScan#MAX_HEAD_BYTES}), else null.
     */
    static PassThroughHead readFrom(ByteBuf in) {
        return HeadScan.read(in, PassThroughHead::scan, NOT_YET);
    }

    private static PassThroughHead scan(ByteBuf in, HeadScan.Scratch scratch, int n) {
        byte[] a = scratch.bytes;
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
            pos = HeadScan.endOfValue(a, pos + 1, n);
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
        int[] dropped = scratch.dropped; // start and end of each line left out
        int drops = 0;
        int[] field = scratch.field;
        int next;
        for (int headers = 0; (next = HeadScan.nextField(a, pos, n, headers, field)) >= 0; headers++) {
            int nameStart = field[0], nameLength = field[1], valueStart = field[2];
            pos = field[3];
            boolean drop = false;
            if (HeadScan.nameIs(a, nameStart, nameLength, CONTENT_LENGTH)) {
                if (contentLength >= 0) return null; // two: the decoder decides what that means
                contentLength = digits(a, valueStart, pos);
                if (contentLength < 0) return null;
            } else if (HeadScan.nameIs(a, nameStart, nameLength, CONNECTION)) {
                // keep-alive or close only: any other token names a header to strip, the decoding path's job.
                if (HeadScan.valueIs(a, valueStart, pos, CLOSE)) {
                    keepAlive = false;
                } else if (!HeadScan.valueIs(a, valueStart, pos, KEEP_ALIVE)) {
                    return null;
                }
                drop = true;
            } else if (HeadScan.isOneOf(a, nameStart, nameLength, DROPPED)) {
                drop = true;
            } else if (HeadScan.isOneOf(a, nameStart, nameLength, REWRITTEN)) {
                return null;
            }
            pos += 2;
            if (drop) {
                if (drops == HeadScan.MAX_DROPPED_LINES) return null;
                dropped[2 * drops] = nameStart;
                dropped[2 * drops + 1] = pos;
                drops++;
            }
        }
        if (next != HeadScan.END) {
            return next == HeadScan.MORE ? NOT_YET : null; // BAD: obs-fold, a bad byte, a bare LF, too many lines
        }
        if (contentLength < 0) {
            return null;
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
}
