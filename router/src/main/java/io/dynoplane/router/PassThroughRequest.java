package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import io.netty.util.concurrent.FastThreadLocal;

import java.nio.charset.StandardCharsets;

/**
 * A client's request head that goes to the dyno as the bytes the client sent, with only the router's own lines added,
 * instead of being parsed into a header map, rewritten and encoded again: the request half of the router's fast
 * path ({@link PassThroughHead} is the response half).
 *
 * <p>Only a head the router need not rewrite qualifies, so the dyno gets what the decoding path would send it: a
 * {@code GET} of an origin-form target (visible ASCII) over {@code HTTP/1.1}, every line CRLF-terminated, no obs-fold,
 * token names, no control characters in values, exactly one Host that is not a list, no body framing
 * (Content-Length, Transfer-Encoding) and nothing the router adds, replaces or strips (X-Forwarded-For/-Proto/-Port,
 * X-Request-Start, X-Request-Id, Via, Expect, Upgrade, HTTP2-Settings, hop-by-hop headers). A
 * {@code Connection: keep-alive} line is left out, as the decoding path strips it. Any other head goes through
 * {@link StrictRequestDecoder}'s checks and Netty's decoder as before, which stay the one judge of malformed and
 * ambiguous requests: a qualifying head has no body, so there is no framing to read two ways.
 *
 * <p>To everything between the two connections (routing, the exchange, the request log) it is an HTTP request whose
 * header map holds the one header they read, Host. {@link ForwardHeaders#toDyno} records what the router adds
 * instead of setting headers, and {@link DynoRequestEncoder} writes the client's lines, then the router's. The lines
 * are a plain array, not a reference-counted buffer, so a retry on another dyno can write them again.
 */
final class PassThroughRequest extends DefaultHttpRequest {
    private static final byte[] GET = {'G', 'E', 'T', ' ', '/'};
    private static final byte[] VERSION = {' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1', '\r', '\n'};

    private static final byte[] HOST = HeadScan.ascii("host");
    private static final byte[] CONNECTION = HeadScan.ascii("connection");
    private static final byte[] KEEP_ALIVE = HeadScan.ascii("keep-alive");
    /** Headers the router rewrites or strips, or that frame a body: such a head takes the decoding path. */
    private static final byte[][] REWRITTEN = {
            HeadScan.ascii("content-length"), HeadScan.ascii("transfer-encoding"), KEEP_ALIVE,
            HeadScan.ascii("proxy-connection"), HeadScan.ascii("te"), HeadScan.ascii("trailer"),
            HeadScan.ascii("upgrade"), HeadScan.ascii("expect"), HeadScan.ascii("http2-settings"),
            HeadScan.ascii("x-forwarded-for"), HeadScan.ascii("x-forwarded-proto"), HeadScan.ascii("x-forwarded-port"),
            HeadScan.ascii("x-request-start"), HeadScan.ascii("x-request-id"), HeadScan.ascii("via"),
            HeadScan.ascii(ArrivalStamper.ARRIVAL.toString())};

    /** Returned for a head that qualifies so far but has not all arrived. */
    static final PassThroughRequest NOT_YET = new PassThroughRequest(new byte[0], "/", hostOnly(""));

    private static final FastThreadLocal<Recent> RECENT = new FastThreadLocal<>() {
        @Override
        protected Recent initialValue() {
            return new Recent();
        }
    };

    private final byte[] lines;
    private long arrivalNanos;
    private long arrivalMillis;
    private ForwardHeaders.Forwarding forwarding;

    private PassThroughRequest(byte[] lines, String uri, HttpHeaders hostOnly) {
        super(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, hostOnly);
        this.lines = lines;
    }

    /**
     * Host alone, in a read-only list of one pair rather than a hash table (a table is several objects per request),
     * shared by the requests naming the same Host ({@link Recent}). Nothing writes to a passed-through request's
     * headers: what the router adds goes in {@link #forwardWith}. Unvalidated: the scan has checked the Host bytes
     * already, more strictly.
     */
    private static HttpHeaders hostOnly(String host) {
        return new ReadOnlyHttpHeaders(false, HttpHeaderNames.HOST, host);
    }

    /** When the head came in ({@link ArrivalStamper}): monotonic nanos and wall-clock millis. */
    void arrived(long nanos, long epochMillis) {
        arrivalNanos = nanos;
        arrivalMillis = epochMillis;
    }

    ArrivalStamper.Arrival arrival() {
        return arrivalMillis == 0 ? ArrivalStamper.Arrival.now() : new ArrivalStamper.Arrival(arrivalNanos, arrivalMillis);
    }

    /** What the router adds on the way to the dyno ({@link ForwardHeaders#toDyno}). */
    void forwardWith(ForwardHeaders.Forwarding forwarding) {
        this.forwarding = forwarding;
    }

    /** The head the dyno gets: the client's lines, the router's, the blank line. */
    void writeTo(ByteBuf out) {
        out.writeBytes(lines);
        ForwardHeaders.appendForwardLines(out, forwarding);
    }

    int length() {
        return lines.length + ForwardHeaders.FORWARD_LINES_ROOM;
    }

    /**
     * Reads a qualifying head (and the blank line after it) from {@code in}. Otherwise reads nothing and returns
     * {@link #NOT_YET} if what has come so far qualifies (and is shorter than {@link HeadScan#MAX_HEAD_BYTES}), else
     * null.
     */
    static PassThroughRequest readFrom(ByteBuf in) {
        return HeadScan.read(in, PassThroughRequest::scan, NOT_YET);
    }

    private static PassThroughRequest scan(ByteBuf in, HeadScan.Scratch scratch, int n) {
        byte[] a = scratch.bytes;
        if (!startsWith(a, 0, n, GET)) {
            return null;
        }
        int pos = GET.length - 1; // the target's '/'
        while (pos < n && a[pos] > 0x20 && a[pos] < 0x7f) pos++;
        int targetEnd = pos;
        if (!startsWith(a, pos, n, VERSION)) {
            return null;
        }
        if (pos + VERSION.length > n) {
            return NOT_YET;
        }
        pos += VERSION.length;
        int hostStart = -1, hostEnd = -1;
        int dropStart = -1, dropEnd = -1; // the Connection: keep-alive line, left out
        int[] field = scratch.field;
        int next;
        for (int headers = 0; (next = HeadScan.nextField(a, pos, n, headers, field)) >= 0; headers++) {
            int nameStart = field[0], nameLength = field[1];
            if (HeadScan.nameIs(a, nameStart, nameLength, HOST)) {
                if (hostStart >= 0) return null; // two: the strict decoder refuses them
                hostStart = field[2];
                hostEnd = field[3];
                for (int i = hostStart; i < hostEnd; i++) {
                    if (a[i] == ',') return null; // a list: refused there too
                }
            } else if (HeadScan.nameIs(a, nameStart, nameLength, CONNECTION)) {
                if (dropStart >= 0 || !HeadScan.valueIs(a, field[2], field[3], KEEP_ALIVE)) return null;
                dropStart = pos;
                dropEnd = next;
            } else if (HeadScan.isOneOf(a, nameStart, nameLength, REWRITTEN)) {
                return null;
            }
            pos = next;
        }
        if (next != HeadScan.END) {
            return next == HeadScan.MORE ? NOT_YET : null; // BAD: obs-fold, a bad byte, a bare LF, too many lines
        }
        if (hostStart < 0) {
            return null;
        }
        byte[] lines;
        if (dropStart < 0) {
            lines = java.util.Arrays.copyOf(a, pos);
        } else {
            lines = new byte[pos - (dropEnd - dropStart)];
            System.arraycopy(a, 0, lines, 0, dropStart);
            System.arraycopy(a, dropEnd, lines, dropStart, pos - dropEnd);
        }
        in.skipBytes(pos + 2);
        while (hostStart < hostEnd && (a[hostStart] == ' ' || a[hostStart] == '\t')) hostStart++;
        while (hostEnd > hostStart && (a[hostEnd - 1] == ' ' || a[hostEnd - 1] == '\t')) hostEnd--;
        Recent recent = RECENT.get();
        return new PassThroughRequest(lines, recent.target(a, GET.length - 1, targetEnd),
                recent.hostOnly(a, hostStart, hostEnd));
    }

    /**
     * The last target and Host this thread passed through, so that the next request naming the same ones (most of
     * an edge's requests: a client's next request, another client of the same app) shares their String and header
     * list instead of making new ones. Compared byte for byte; the header list is read-only, so sharing it is safe.
     */
    private static final class Recent {
        private byte[] target = {'/'};
        private String targetString = "/";
        private byte[] host = {};
        private HttpHeaders hostHeaders = PassThroughRequest.hostOnly("");

        String target(byte[] a, int from, int to) {
            if (!java.util.Arrays.equals(target, 0, target.length, a, from, to)) {
                target = java.util.Arrays.copyOfRange(a, from, to);
                targetString = new String(target, StandardCharsets.ISO_8859_1);
            }
            return targetString;
        }

        HttpHeaders hostOnly(byte[] a, int from, int to) {
            if (!java.util.Arrays.equals(host, 0, host.length, a, from, to)) {
                host = java.util.Arrays.copyOfRange(a, from, to);
                hostHeaders = PassThroughRequest.hostOnly(new String(host, StandardCharsets.ISO_8859_1));
            }
            return hostHeaders;
        }
    }

    /** Whether {@code a}'s bytes from {@code from}, as far as the first {@code n} go, match {@code prefix}. */
    private static boolean startsWith(byte[] a, int from, int n, byte[] prefix) {
        for (int i = 0; i < prefix.length && from + i < n; i++) {
            if (a[from + i] != prefix[i]) return false;
        }
        return true;
    }
}
