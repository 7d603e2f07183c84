package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fixtures in, verdict out: which client request heads go to the dyno as the client's bytes
 * ({@link PassThroughRequest}), what the dyno then gets, and which take the decoding path (nothing read, so
 * {@link StrictRequestDecoder}'s checks and Netty's decoder see the head whole).
 */
class PassThroughRequestTest {
    private static final ForwardHeaders.Forwarding FORWARDING =
            new ForwardHeaders.Forwarding("10.1.2.3", 8080, "0f3c1c1e-8a4b-4b4e-9d7a-3b1f2c3d4e5f", "r1", 1_700_000_000_123L);

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    @Test
    void plainGetPassesWithItsHostAndLeavesThePipelinedRest() {
        ByteBuf in = bytes("GET /a/b?c=d%20e HTTP/1.1\r\nHost:  App.Example.com \r\nUser-Agent: wrk\r\n\r\nGET /next");
        PassThroughRequest request = PassThroughRequest.readFrom(in);
        try {
            assertThat(request).isNotNull().isNotSameAs(PassThroughRequest.NOT_YET);
            assertThat(request.uri()).isEqualTo("/a/b?c=d%20e");
            assertThat(request.headers().get(HttpHeaderNames.HOST)).isEqualTo("App.Example.com");
            assertThat(HttpUtil.isKeepAlive(request)).isTrue();
            assertThat(in.toString(StandardCharsets.ISO_8859_1)).as("the next request stays").isEqualTo("GET /next");
        } finally {
            in.release();
        }
    }

    /**
     * Requests naming the target and Host of the one before share its strings: each still gets its own, whether
     * it differs in a byte, in length, or goes back to an earlier one.
     */
    @ParameterizedTest
    @ValueSource(strings = {"/a|a.example.com", "/b|b.example.com", "/a|a.example.com", "/a|a.example.co",
            "/a?|a.example.co", "/a|a.example.com", "/|a.example.com", "/|a.example.com"})
    void eachRequestGetsItsOwnTargetAndHostInTurn(String targetAndHost) {
        String[] parts = targetAndHost.split("\\|");
        ByteBuf in = bytes("GET " + parts[0] + " HTTP/1.1\r\nHost: " + parts[1] + "\r\n\r\n");
        try {
            PassThroughRequest request = PassThroughRequest.readFrom(in);
            assertThat(request).isNotNull().isNotSameAs(PassThroughRequest.NOT_YET);
            assertThat(request.uri()).isEqualTo(parts[0]);
            assertThat(request.headers().get(HttpHeaderNames.HOST)).isEqualTo(parts[1]);
        } finally {
            in.release();
        }
    }

    /** The point of the fast path: byte for byte what the decoding path sends, minus its work. */
    @ParameterizedTest
    @ValueSource(strings = {
            "GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n",
            "GET /search?q=a+b&x=%2F HTTP/1.1\r\nHost: app.example.com\r\nUser-Agent: curl/8.4\r\nAccept: */*\r\n\r\n",
            "GET /k HTTP/1.1\r\nAccept-Encoding: gzip\r\nHost: app.example.com:8080\r\nConnection: keep-alive\r\nCookie: a=b; c=d\r\n\r\n",
            "GET /t HTTP/1.1\r\nhost: app.example.com\r\nX-Custom: \"quoted\" value\r\nIf-None-Match: W/\"1\"\r\n\r\n",
    })
    void dynoGetsWhatTheDecodingPathWouldSend(String head) {
        assertThat(passedThrough(head)).isEqualTo(decodedAndEncoded(head));
    }

    @Test
    void keepAliveConnectionLineIsLeftOut() {
        assertThat(passedThrough("GET / HTTP/1.1\r\nConnection: Keep-Alive\r\nHost: a\r\n\r\n"))
                .startsWith("GET / HTTP/1.1\r\nHost: a\r\nx-forwarded-for: 10.1.2.3\r\n");
    }

    @Test
    void routerLinesFollowTheClientsInTheDecodingPathsOrder() {
        assertThat(passedThrough("GET /x HTTP/1.1\r\nHost: a\r\nAccept:  text/html\r\n\r\n")).isEqualTo(
                "GET /x HTTP/1.1\r\nHost: a\r\nAccept:  text/html\r\n"
                        + "x-forwarded-for: 10.1.2.3\r\nx-forwarded-proto: http\r\nx-forwarded-port: 8080\r\n"
                        + "x-request-start: 1700000000123\r\nx-request-id: 0f3c1c1e-8a4b-4b4e-9d7a-3b1f2c3d4e5f\r\n"
                        + "via: 1.1 r1\r\n\r\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "POST / HTTP/1.1\r\nHost: a\r\n\r\n",
            "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
            "get / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.0\r\nHost: a\r\n\r\n",
            "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /\ta HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /  HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, x-secret\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: keep-alive\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nKeep-Alive: timeout=5\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: abcdefghijklmnopqrstuvwxyz\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-Request-Start: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 other\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nx-dynoplane-arrival: 1 2\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\u0000b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: \u007f\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n: empty name\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nBad(name): x\r\n\r\n",
    })
    void takesTheDecodingPath(String head) {
        ByteBuf in = bytes(head);
        try {
            assertThat(PassThroughRequest.readFrom(in)).isNull();
            assertThat(in.readerIndex()).as("nothing read").isZero();
        } finally {
            in.release();
        }
    }

    @Test
    void everyPrefixOfAQualifyingHeadWaits() {
        String head = "GET /p HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n";
        for (int n = 1; n < head.length(); n++) {
            ByteBuf in = bytes(head.substring(0, n));
            try {
                assertThat(PassThroughRequest.readFrom(in)).as("first %d bytes", n).isSameAs(PassThroughRequest.NOT_YET);
                assertThat(in.readerIndex()).isZero();
            } finally {
                in.release();
            }
        }
    }

    @Test
    void headLongerThanTheFirstCopyPassesAndOneOverTheLimitIsNotWaitedFor() {
        String cookie = "GET / HTTP/1.1\r\nHost: a\r\nCookie: " + "c".repeat(2000) + "\r\n\r\n";
        assertThat(passedThrough(cookie)).isEqualTo(decodedAndEncoded(cookie));
        ByteBuf over = bytes("GET / HTTP/1.1\r\nHost: a\r\nCookie: " + "c".repeat(HeadScan.MAX_HEAD_BYTES));
        try {
            assertThat(PassThroughRequest.readFrom(over)).isNull();
        } finally {
            over.release();
        }
    }

    @Test
    void headArrivingInPiecesComesOutOnceWhole() {
        EmbeddedChannel client = new EmbeddedChannel(new StrictRequestDecoder());
        assertThat(client.writeInbound(bytes("GET /p HTTP/1.1\r\nHo"))).isFalse();
        assertThat(client.writeInbound(bytes("st: a\r\n"))).isFalse();
        assertThat(client.writeInbound(bytes("\r\n"))).isTrue();
        assertThat((Object) client.readInbound()).isInstanceOf(PassThroughRequest.class);
        assertThat((Object) client.readInbound()).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(client.finishAndReleaseAll()).isFalse();
    }

    @Test
    void headCutShortByTheCloseIsJudgedAsWithoutTheFastPath() {
        String cut = "GET /p HTTP/1.1\r\nHost: a\r\n";
        EmbeddedChannel plain = new EmbeddedChannel(new HttpRequestDecoder());
        plain.writeInbound(bytes(cut));
        plain.close();
        HttpRequest expected = plain.readInbound();
        EmbeddedChannel client = new EmbeddedChannel(new StrictRequestDecoder());
        client.writeInbound(bytes(cut));
        client.close();
        HttpRequest actual = client.readInbound();
        assertThat(actual).isNotInstanceOf(PassThroughRequest.class);
        assertThat(actual.decoderResult().isFailure()).isEqualTo(expected.decoderResult().isFailure()).isTrue();
        plain.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    /** The head the dyno gets through StrictRequestDecoder's fast path and DynoRequestEncoder. */
    private static String passedThrough(String head) {
        EmbeddedChannel client = new EmbeddedChannel(new StrictRequestDecoder());
        client.writeInbound(bytes(head));
        HttpRequest request = client.readInbound();
        assertThat(request).isInstanceOf(PassThroughRequest.class);
        assertThat((Object) client.readInbound()).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(client.finishAndReleaseAll()).isFalse();
        ForwardHeaders.toDyno(request, FORWARDING);
        return encoded(new EmbeddedChannel(new DynoRequestEncoder()), request);
    }

    /** The head the dyno gets through Netty's decoder, {@link ForwardHeaders#toDyno} and Netty's encoder. */
    private static String decodedAndEncoded(String head) {
        EmbeddedChannel client = new EmbeddedChannel(new HttpRequestDecoder());
        client.writeInbound(bytes(head));
        HttpRequest request = client.readInbound();
        client.finishAndReleaseAll();
        ForwardHeaders.toDyno(request, FORWARDING);
        return encoded(new EmbeddedChannel(new HttpRequestEncoder()), request);
    }

    private static String encoded(EmbeddedChannel dyno, HttpRequest request) {
        dyno.writeOutbound(request, LastHttpContent.EMPTY_LAST_CONTENT);
        StringBuilder sent = new StringBuilder();
        for (ByteBuf b; (b = dyno.readOutbound()) != null; b.release()) {
            sent.append(b.toString(StandardCharsets.ISO_8859_1));
        }
        dyno.finishAndReleaseAll();
        return sent.toString();
    }
}
