package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Netty's request decoder, made to accept only requests whose framing no other HTTP implementation
 * could read differently. Netty 4.2 already refuses bare-LF line endings, Transfer-Encoding together
 * with Content-Length (RFC 9112 §6.1: we reject rather than drop the Content-Length), Transfer-Encoding
 * on HTTP/1.0, a final coding other than chunked, differing Content-Lengths on HTTP/1.1, bad chunk
 * sizes and bad header names and values. This class adds what it lets through, by checking the raw
 * bytes of every head line the decoder consumed:
 * <ul>
 *   <li>request line and each header line at most {@value #MAX_LINE_BYTES} bytes, at most
 *       {@value #MAX_HEADERS} header lines (Heroku's limits; the whole head is also capped at
 *       {@value #MAX_HEAD_BYTES} bytes so a connection's memory stays bounded);</li>
 *   <li>no control characters (NUL, DEL, CR, tabs in the request line…) anywhere in a line;</li>
 *   <li>no obs-fold (a header line starting with space or tab), which Netty would silently join;</li>
 *   <li>Transfer-Encoding only as a single {@code chunked} (any case), spaces allowed around it;</li>
 *   <li>Content-Length only once, as plain digits, on any HTTP version;</li>
 *   <li>exactly one Host on HTTP/1.1, at most one on HTTP/1.0, and never a list.</li>
 * </ul>
 * A small bodiless GET whose head the router need not rewrite skips all of that: it comes out as a
 * {@link PassThroughRequest} (whose scan is stricter than these rules) and its empty end.
 * A request breaking any rule comes out as a {@link FullHttpRequest} with a failed decoder result
 * (like Netty's own failures) and everything after it on the connection is discarded: its framing can
 * no longer be trusted, so the connection must be answered with 400 and closed.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {
    static final int MAX_LINE_BYTES = 8192;
    static final int MAX_HEADERS = 1000;
    static final int MAX_HEAD_BYTES = 256 * 1024;

    /** Why a request was refused; the message is for debug logs only. */
    static final class RejectedRequestException extends IllegalArgumentException {
        RejectedRequestException(String message) {
            super(message, null);
        }
    }

    private static final byte[] TRANSFER_ENCODING = "transfer-encoding".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTENT_LENGTH = "content-length".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HOST = "host".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CHUNKED = "chunked".getBytes(StandardCharsets.US_ASCII);

    // Where the decoder is: reading a head (line by line) or a body.
    private boolean inHead = true;
    private boolean requestLineSeen;
    private String requestLine = "";
    private int headers;
    private int hosts;
    private int contentLengths;
    private int transferEncodings;
    private boolean discarding;   // after a rejection, until the connection closes
    private boolean closed;       // the client is gone: what is left is Netty's to judge, whole or not
    private final boolean passThrough;

    StrictRequestDecoder() {
        this(true);
    }

    /** {@code passThrough} false: every head takes the decoding path (the benchmark's baseline). */
    StrictRequestDecoder(boolean passThrough) {
        super(new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_LINE_BYTES)
                .setMaxHeaderSize(MAX_HEAD_BYTES)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                .setAllowDuplicateContentLengths(false)
                .setChunkedSupported(true));
        this.passThrough = passThrough;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (discarding) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (passThrough && inHead && !requestLineSeen && !closed) {
            PassThroughRequest request = PassThroughRequest.readFrom(in);
            if (request == PassThroughRequest.NOT_YET) {
                return; // qualifies so far: wait for the rest (cut short by a close, it goes to Netty's decoder)
            }
            if (request != null) {
                out.add(request);
                out.add(LastHttpContent.EMPTY_LAST_CONTENT);
                return;
            }
        }
        int start = in.readerIndex();
        int produced = out.size();
        super.decode(ctx, in, out);
        String violation = null;
        if (inHead) {
            // In a head the decoder only ever consumes whole lines, each ending in LF.
            violation = checkHeadLines(in, start, in.readerIndex());
        }
        for (int i = produced; i < out.size() && violation == null; i++) {
            Object msg = out.get(i);
            if (msg instanceof HttpRequest request) {
                if (!request.decoderResult().isSuccess()) {
                    discarding = true; // Netty refused it; same treatment
                    in.skipBytes(in.readableBytes());
                    return;
                }
                violation = checkRequest(request);
                inHead = false;
            }
            if (msg instanceof LastHttpContent) {
                if (!((LastHttpContent) msg).decoderResult().isSuccess()) {
                    discarding = true;
                    in.skipBytes(in.readableBytes());
                    return;
                }
                startHead();
            }
        }
        if (violation != null) {
            reject(in, out, produced, violation);
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (discarding) {
            in.skipBytes(in.readableBytes()); // already answered; a truncated remainder means nothing
            return;
        }
        closed = true;
        super.decodeLast(ctx, in, out);
    }

    private void startHead() {
        inHead = true;
        requestLineSeen = false;
        requestLine = "";
        headers = 0;
        hosts = 0;
        contentLengths = 0;
        transferEncodings = 0;
    }

    /** Replaces whatever this call produced with one failed request, and stops decoding. */
    private void reject(ByteBuf in, List<Object> out, int produced, String why) {
        while (out.size() > produced) {
            ReferenceCountUtil.release(out.removeLast());
        }
        in.skipBytes(in.readableBytes());
        discarding = true;
        FullHttpRequest failed = invalidRequest();
        failed.setDecoderResult(DecoderResult.failure(new RejectedRequestException(why)));
        out.add(failed);
    }

    /** The refused request as far as it can be told, for the log line; never forwarded. */
    private FullHttpRequest invalidRequest() {
        HttpMethod method = HttpMethod.GET;
        String uri = "/bad-request";
        String[] parts = requestLine.split(" ", -1);
        if (parts.length == 3) {
            try {
                method = HttpMethod.valueOf(parts[0]);
                uri = parts[1];
            } catch (IllegalArgumentException ignored) {
                // not a method token: keep the placeholder
            }
        }
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, Unpooled.EMPTY_BUFFER);
    }

    /** Checks the head lines in {@code in[from, to)}; returns why they are refused, or null. */
    private String checkHeadLines(ByteBuf in, int from, int to) {
        int i = from;
        if (!requestLineSeen) {
            // RFC 9112 §2.2: empty lines before the request line are tolerated (Netty skips them).
            while (i < to && (in.getByte(i) == '\r' || in.getByte(i) == '\n')) {
                i++;
            }
        }
        while (i < to) {
            int lf = in.indexOf(i, to, (byte) '\n');
            if (lf < 0) {
                return "partial line consumed"; // cannot happen in a head; refuse rather than guess
            }
            if (lf == i || in.getByte(lf - 1) != '\r') {
                return "line not ended by CRLF";
            }
            int end = lf - 1; // exclusive, before CR
            String why = requestLineSeen ? checkHeaderLine(in, i, end) : checkRequestLine(in, i, end);
            if (why != null) {
                return why;
            }
            i = lf + 1;
        }
        return null;
    }

    private String checkRequestLine(ByteBuf in, int start, int end) {
        requestLineSeen = true;
        if (end - start > MAX_LINE_BYTES) {
            return "request line longer than " + MAX_LINE_BYTES + " bytes";
        }
        for (int i = start; i < end; i++) {
            byte b = in.getByte(i);
            if (b < 0x20 || b == 0x7f) {
                return "control character in the request line";
            }
        }
        requestLine = in.toString(start, end - start, StandardCharsets.ISO_8859_1);
        return null;
    }

    private String checkHeaderLine(ByteBuf in, int start, int end) {
        if (start == end) {
            return null; // the empty line that ends the head
        }
        if (++headers > MAX_HEADERS) {
            return "more than " + MAX_HEADERS + " header lines";
        }
        if (end - start > MAX_LINE_BYTES) {
            return "header line longer than " + MAX_LINE_BYTES + " bytes";
        }
        byte first = in.getByte(start);
        if (first == ' ' || first == '\t') {
            return "obs-fold (header line starting with whitespace)";
        }
        int colon = -1;
        for (int i = start; i < end; i++) {
            byte b = in.getByte(i);
            if ((b < 0x20 && b != '\t') || b == 0x7f) {
                return "control character in a header line";
            }
            if (b == ':' && colon < 0) {
                colon = i;
            }
        }
        if (colon < 0) {
            return "header line without a colon";
        }
        int valueStart = colon + 1;
        if (nameIs(in, start, colon, TRANSFER_ENCODING)) {
            if (++transferEncodings > 1 || !valueIs(in, valueStart, end, CHUNKED)) {
                return "Transfer-Encoding other than one plain chunked";
            }
        } else if (nameIs(in, start, colon, CONTENT_LENGTH)) {
            if (++contentLengths > 1 || !valueIsDigits(in, valueStart, end)) {
                return "Content-Length repeated or not a plain number";
            }
        } else if (nameIs(in, start, colon, HOST)) {
            if (++hosts > 1) {
                return "more than one Host";
            }
        }
        return null;
    }

    private static boolean nameIs(ByteBuf in, int start, int end, byte[] lowerName) {
        if (end - start != lowerName.length) {
            return false;
        }
        for (int i = 0; i < lowerName.length; i++) {
            if ((in.getByte(start + i) | 0x20) != lowerName[i]) {
                return false;
            }
        }
        return true;
    }

    /** The value, between optional spaces (no tabs: a tab there is an obfuscation), is {@code token}. */
    private static boolean valueIs(ByteBuf in, int start, int end, byte[] lowerToken) {
        while (start < end && in.getByte(start) == ' ') {
            start++;
        }
        while (end > start && in.getByte(end - 1) == ' ') {
            end--;
        }
        return nameIs(in, start, end, lowerToken);
    }

    private static boolean valueIsDigits(ByteBuf in, int start, int end) {
        while (start < end && in.getByte(start) == ' ') {
            start++;
        }
        while (end > start && in.getByte(end - 1) == ' ') {
            end--;
        }
        if (start == end || end - start > 18) { // 18 digits always fit a long
            return false;
        }
        for (int i = start; i < end; i++) {
            byte b = in.getByte(i);
            if (b < '0' || b > '9') {
                return false;
            }
        }
        return true;
    }

    /** Rules about the request as a whole, once its head is decoded. */
    private String checkRequest(HttpRequest request) {
        List<String> host = request.headers().getAll(HttpHeaderNames.HOST);
        if (host.isEmpty() && !HttpVersion.HTTP_1_0.equals(request.protocolVersion())) {
            return "no Host on HTTP/1.1";
        }
        if (!host.isEmpty() && host.getFirst().indexOf(',') >= 0) {
            return "a list of Hosts";
        }
        return null;
    }
}
