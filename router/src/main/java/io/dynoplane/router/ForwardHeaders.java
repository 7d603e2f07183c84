package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Pure header rewriting between client, router and dyno. No I/O, so it is unit-tested directly. */
final class ForwardHeaders {
    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_PORT = AsciiString.cached("x-forwarded-port");
    static final AsciiString X_REQUEST_START = AsciiString.cached("x-request-start");
    static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");

    /** What the router adds to a request on its way to a dyno. */
    record Forwarding(String forwardedFor, String proto, int routerPort, String requestId, String routerName,
                      long requestStartMillis) {
        /** A request that came in over plain HTTP. */
        Forwarding(String forwardedFor, int routerPort, String requestId, String routerName, long requestStartMillis) {
            this(forwardedFor, "http", routerPort, requestId, routerName, requestStartMillis);
        }
    }

    private ForwardHeaders() {
    }

    /** The X-Forwarded-For value to send: every incoming value, then the client's address. */
    static String forwardedFor(HttpHeaders headers, String clientIp) {
        if (!headers.contains(X_FORWARDED_FOR)) {
            return clientIp;
        }
        List<String> prior = headers.getAll(X_FORWARDED_FOR);
        if (prior.isEmpty()) {
            return clientIp;
        }
        StringBuilder chain = new StringBuilder();
        for (String value : prior) {
            String trimmed = value.strip();
            if (!trimmed.isEmpty()) {
                chain.append(trimmed).append(", ");
            }
        }
        return chain.append(clientIp).toString();
    }

    /**
     * Rewrites a client request head, in place, into the head the dyno receives. The body keeps its
     * framing: a Content-Length stays (the strict decoder let through at most one, and only without
     * Transfer-Encoding), a chunked body goes on chunked, and no framing means no body.
     */
    static void toDyno(HttpRequest request, Forwarding forwarding) {
        if (request instanceof PassThroughRequest passThrough) {
            passThrough.forwardWith(forwarding); // nothing to strip or replace: the router's lines go after its own
            return;
        }
        HttpHeaders h = request.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(request);
        String upgrade = tunnelledUpgrade(request);
        stripHopByHop(h);
        if (upgrade != null) {
            // The one hop-by-hop exchange passed on: the dyno answers the upgrade, the router tunnels.
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            h.set(HttpHeaderNames.UPGRADE, upgrade);
        }
        // ExpectContinue has already answered any 100-continue; the dyno gets the body straight away.
        h.remove(HttpHeaderNames.EXPECT);
        // Dyno connections are always HTTP/1.1 keep-alive, whatever the client spoke.
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        h.set(X_FORWARDED_FOR, forwarding.forwardedFor());
        h.set(X_FORWARDED_PROTO, forwarding.proto());
        h.set(X_FORWARDED_PORT, portText(forwarding.routerPort()));
        h.set(X_REQUEST_START, millisText(forwarding.requestStartMillis()));
        h.set(X_REQUEST_ID, forwarding.requestId());
        appendVia(h, forwarding.routerName());
        if (chunked) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else if (!h.contains(HttpHeaderNames.CONTENT_LENGTH) && expectsBody(request.method())) {
            h.setInt(HttpHeaderNames.CONTENT_LENGTH, 0); // say so rather than leave a dyno guessing
        }
    }

    /**
     * The Upgrade value to pass on to the dyno, or null: a bodiless HTTP/1.1 request with one Upgrade
     * header and {@code upgrade} among its Connection tokens, for any protocol (WebSocket and others)
     * except h2c, which is the router's own business with the client, never the dyno's.
     */
    static String tunnelledUpgrade(HttpRequest request) {
        HttpHeaders h = request.headers();
        if (!h.contains(HttpHeaderNames.UPGRADE)) {
            return null; // the usual case
        }
        List<String> upgrades = h.getAll(HttpHeaderNames.UPGRADE);
        if (upgrades.size() != 1 || upgrades.getFirst().isBlank()
                || !request.protocolVersion().equals(HttpVersion.HTTP_1_1)
                || HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) != 0) {
            return null;
        }
        if (!h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
            return null;
        }
        String upgrade = upgrades.getFirst().strip();
        for (String protocol : upgrade.split(",")) {
            if (protocol.strip().equalsIgnoreCase("h2c")) {
                return null;
            }
        }
        return upgrade;
    }

    /**
     * Rewrites a dyno response head, in place, for the client (the router's own headers come later).
     * A Content-Length the dyno sent stays; without one the client side picks chunked or
     * close-delimited framing.
     */
    static void fromDyno(HttpResponse response, boolean headRequest) {
        HttpHeaders h = response.headers();
        stripHopByHop(h);
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        int code = response.status().code();
        if (headRequest || code == 304) {
            return; // Content-Length describes the body a GET would get; pass it through untouched
        }
        if (code == 204 || response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
        }
    }

    /** The last chunk without trailer fields: trailers are not passed on in either direction. */
    static LastHttpContent withoutTrailers(LastHttpContent last) {
        if (last.trailingHeaders().isEmpty()) {
            return last;
        }
        LastHttpContent bare = new DefaultLastHttpContent(last.content().retain());
        last.release();
        return bare;
    }

    /**
     * Removes hop-by-hop headers (RFC 9110 §7.6.1): the fixed set plus any header the Connection header
     * names. Host and Content-Length are never removed that way: a client cannot strip the routing key,
     * nor the framing the router itself read the body by.
     */
    static void stripHopByHop(HttpHeaders h) {
        if (!hasHopByHop(h)) {
            return; // the usual message: one pass over its names instead of a lookup per hop-by-hop name
        }
        List<String> connection = h.contains(HttpHeaderNames.CONNECTION) ? h.getAll(HttpHeaderNames.CONNECTION) : List.of();
        for (String value : connection) {
            for (String token : value.split(",")) {
                String name = token.strip();
                if (!name.isEmpty() && !HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)
                        && !HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
                    h.remove(name);
                }
            }
        }
        h.remove(HttpHeaderNames.CONNECTION);
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove(PROXY_CONNECTION);
        h.remove(HttpHeaderNames.TE);
        h.remove(HttpHeaderNames.TRAILER);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.remove(HttpHeaderNames.UPGRADE);
    }

    private static final byte[] X_REQUEST_ID_PREFIX = "x-request-id: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] VIA_PREFIX = "\r\nvia: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE_END = "\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /**
     * Completes, in place, the head a client gets for a passed-through dyno head ({@link PassThroughHead}, which has
     * nothing the router rewrites): after the dyno's lines, the router's own, as {@link RequestRouter} adds them to
     * any other response: X-Request-Id, Via (the dyno sent none to append to) and, if the connection closes after
     * it, Connection; then the blank line.
     */
    static void appendRouterLines(ByteBuf head, String requestId, String routerName, boolean close) {
        head.writeBytes(X_REQUEST_ID_PREFIX);
        ByteBufUtil.writeAscii(head, requestId);
        head.writeBytes(VIA_PREFIX);
        ByteBufUtil.writeAscii(head, viaHop(routerName));
        head.writeBytes(close ? CLOSE_END : END);
    }

    /** Room for {@link #appendForwardLines}: the names, a UUID, an IPv6 address, a router name of usual length. */
    static final int FORWARD_LINES_ROOM = 256;
    private static final byte[] XFF_PREFIX = "x-forwarded-for: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] XFPROTO_PREFIX = "\r\nx-forwarded-proto: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] XFPORT_PREFIX = "\r\nx-forwarded-port: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] START_PREFIX = "\r\nx-request-start: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] REQUEST_ID_PREFIX = "\r\nx-request-id: ".getBytes(StandardCharsets.US_ASCII);

    /**
     * Ends, after a passed-through client head ({@link PassThroughRequest}, which has none of these), the head a dyno
     * gets: the lines {@link #toDyno} sets on any other request, in its order, then the blank line.
     */
    static void appendForwardLines(ByteBuf head, Forwarding forwarding) {
        head.writeBytes(XFF_PREFIX);
        ByteBufUtil.writeAscii(head, forwarding.forwardedFor());
        head.writeBytes(XFPROTO_PREFIX);
        ByteBufUtil.writeAscii(head, forwarding.proto());
        head.writeBytes(XFPORT_PREFIX);
        ByteBufUtil.writeAscii(head, portText(forwarding.routerPort()));
        head.writeBytes(START_PREFIX);
        ByteBufUtil.writeAscii(head, millisText(forwarding.requestStartMillis()));
        head.writeBytes(REQUEST_ID_PREFIX);
        ByteBufUtil.writeAscii(head, forwarding.requestId());
        head.writeBytes(VIA_PREFIX);
        ByteBufUtil.writeAscii(head, viaHop(forwarding.routerName()));
        head.writeBytes(END);
    }

    private static final AsciiString[] HOP_BY_HOP = {HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE,
            PROXY_CONNECTION, HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.TRANSFER_ENCODING,
            HttpHeaderNames.UPGRADE};

    private static boolean hasHopByHop(HttpHeaders h) {
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            CharSequence name = it.next().getKey();
            for (AsciiString hop : HOP_BY_HOP) {
                if (hop.length() == name.length() && hop.contentEqualsIgnoreCase(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * A number's text, kept while it stays the same: the router's port always, a start time for a millisecond. The
     * field is written only when the number changes: a volatile store per request is not free.
     */
    private static final class NumberText {
        private record Cached(long value, String text) {
        }

        private volatile Cached last = new Cached(-1, "-1");

        String of(long n) {
            Cached cached = last;
            if (cached.value() != n) {
                cached = new Cached(n, Long.toString(n));
                last = cached;
            }
            return cached.text();
        }
    }

    private static final NumberText PORT_TEXT = new NumberText();
    private static final NumberText MILLIS_TEXT = new NumberText();

    private static String portText(int port) {
        return PORT_TEXT.of(port);
    }

    private static String millisText(long millis) {
        return MILLIS_TEXT.of(millis);
    }

    /** Appends {@code 1.1 <routerName>} to any existing Via chain. */
    static void appendVia(HttpHeaders h, String routerName) {
        String hop = viaHop(routerName);
        if (!h.contains(HttpHeaderNames.VIA)) {
            h.set(HttpHeaderNames.VIA, hop); // the usual case: no list, no concatenation
            return;
        }
        List<String> prior = h.getAll(HttpHeaderNames.VIA);
        h.set(HttpHeaderNames.VIA, String.join(", ", prior) + ", " + hop);
    }

    /** A router's own Via entry and its name, kept so the entry is not rebuilt for every message. */
    private record ViaHop(String routerName, String hop) {
    }

    private static volatile ViaHop lastViaHop = new ViaHop("", "1.1 ");

    private static String viaHop(String routerName) {
        ViaHop cached = lastViaHop;
        if (!cached.routerName().equals(routerName)) {
            cached = new ViaHop(routerName, "1.1 " + routerName);
            lastViaHop = cached;
        }
        return cached.hop();
    }

    private static boolean expectsBody(HttpMethod method) {
        return HttpMethod.POST.equals(method) || HttpMethod.PUT.equals(method) || HttpMethod.PATCH.equals(method);
    }
}
