package io.dynoplane.router;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ForwardHeadersTest {
    private static final ForwardHeaders.Forwarding FWD =
            new ForwardHeaders.Forwarding("127.0.0.1", 8080, "abcdefghij0123456789", "r1", 1_700_000_000_123L);

    @Test
    void forwardedForAppendsClientToEveryPriorValue() {
        HttpHeaders h = new DefaultHttpHeaders();
        assertThat(ForwardHeaders.forwardedFor(h, "10.1.1.1")).isEqualTo("10.1.1.1");
        h.add("X-Forwarded-For", "1.1.1.1, 2.2.2.2");
        h.add("X-Forwarded-For", "3.3.3.3");
        assertThat(ForwardHeaders.forwardedFor(h, "10.1.1.1")).isEqualTo("1.1.1.1, 2.2.2.2, 3.3.3.3, 10.1.1.1");
    }

    @Test
    void toDynoSetsRouterHeaders() {
        FullHttpRequest req = request(HttpVersion.HTTP_1_0, HttpMethod.GET, "");
        req.headers().set("X-Forwarded-Proto", "https").set("X-Forwarded-Port", "1").set("X-Request-Start", "0")
                .set("Via", "1.0 edge").set("X-Request-Id", "client-value");
        try {
            ForwardHeaders.toDyno(req, FWD);
            HttpHeaders h = req.headers();
            assertThat(req.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
            assertThat(h.get("X-Forwarded-For")).isEqualTo("127.0.0.1");
            assertThat(h.get("X-Forwarded-Proto")).isEqualTo("http");
            assertThat(h.get("X-Forwarded-Port")).isEqualTo("8080");
            assertThat(h.get("X-Request-Start")).isEqualTo("1700000000123");
            assertThat(h.get("X-Request-Id")).isEqualTo("abcdefghij0123456789");
            assertThat(h.get("Via")).isEqualTo("1.0 edge, 1.1 r1");
            assertThat(h.contains("Content-Length")).as("no length on an empty GET").isFalse();
        } finally {
            req.release();
        }
    }

    @Test
    void toDynoStripsHopByHopAndConnectionNamedHeaders() {
        FullHttpRequest req = request(HttpVersion.HTTP_1_1, HttpMethod.GET, "");
        req.headers().set("Host", "a.localhost").set("Connection", "keep-alive, X-Hop, Host")
                .set("X-Hop", "1").set("Keep-Alive", "timeout=5").set("Proxy-Connection", "keep-alive")
                .set("TE", "trailers").set("Trailer", "X-T")
                .set("Upgrade", "h2c").set("Expect", "100-continue").set("X-Keep", "yes");
        try {
            ForwardHeaders.toDyno(req, FWD);
            HttpHeaders h = req.headers();
            for (String gone : new String[] {"Connection", "X-Hop", "Keep-Alive", "Proxy-Connection", "TE",
                    "Trailer", "Transfer-Encoding", "Upgrade", "Expect", "Content-Length"}) {
                assertThat(h.contains(gone)).as(gone).isFalse();
            }
            assertThat(h.get("Host")).as("never strippable via Connection").isEqualTo("a.localhost");
            assertThat(h.get("X-Keep")).isEqualTo("yes");
        } finally {
            req.release();
        }
    }

    @Test
    void toDynoKeepsTheBodysFraming() {
        FullHttpRequest chunked = request(HttpVersion.HTTP_1_1, HttpMethod.POST, "");
        FullHttpRequest sized = request(HttpVersion.HTTP_1_1, HttpMethod.POST, "");
        FullHttpRequest emptyPost = request(HttpVersion.HTTP_1_1, HttpMethod.POST, "");
        FullHttpRequest get = request(HttpVersion.HTTP_1_1, HttpMethod.GET, "");
        try {
            chunked.headers().set("Transfer-Encoding", "chunked").set("Connection", "transfer-encoding");
            sized.headers().set("Content-Length", "5").set("Connection", "content-length");
            ForwardHeaders.toDyno(chunked, FWD);
            ForwardHeaders.toDyno(sized, FWD);
            ForwardHeaders.toDyno(emptyPost, FWD);
            ForwardHeaders.toDyno(get, FWD);
            assertThat(chunked.headers().getAll("Transfer-Encoding")).containsExactly("chunked");
            assertThat(chunked.headers().contains("Content-Length")).isFalse();
            assertThat(sized.headers().get("Content-Length")).as("framing cannot be named away").isEqualTo("5");
            assertThat(emptyPost.headers().get("Content-Length")).isEqualTo("0");
            assertThat(get.headers().contains("Content-Length")).isFalse();
        } finally {
            chunked.release();
            sized.release();
            emptyPost.release();
            get.release();
        }
    }

    @Test
    void fromDynoStripsHopByHopAndKeepsTheDynosLength() {
        FullHttpResponse res = response(HttpResponseStatus.OK, "body");
        FullHttpResponse unsized = response(HttpResponseStatus.OK, "body");
        res.headers().set("Connection", "close, X-Dyno-Hop").set("X-Dyno-Hop", "1").set("Keep-Alive", "timeout=1")
                .set("Content-Length", "4").set("X-App", "kept");
        unsized.headers().set("Transfer-Encoding", "chunked");
        try {
            ForwardHeaders.fromDyno(res, false);
            ForwardHeaders.fromDyno(unsized, false);
            assertThat(res.headers().names()).doesNotContain("Connection", "X-Dyno-Hop", "Keep-Alive", "Transfer-Encoding");
            assertThat(res.headers().get("Content-Length")).isEqualTo("4");
            assertThat(res.headers().get("X-App")).isEqualTo("kept");
            assertThat(unsized.headers().names()).doesNotContain("Transfer-Encoding", "Content-Length");
        } finally {
            res.release();
            unsized.release();
        }
    }

    @Test
    void fromDynoLeavesHeadAndNotModifiedLengthsAlone() {
        FullHttpResponse head = response(HttpResponseStatus.OK, "");
        FullHttpResponse notModified = response(HttpResponseStatus.NOT_MODIFIED, "");
        FullHttpResponse noContent = response(HttpResponseStatus.NO_CONTENT, "");
        try {
            head.headers().set("Content-Length", "1234");
            notModified.headers().set("Content-Length", "99");
            noContent.headers().set("Content-Length", "0");
            ForwardHeaders.fromDyno(head, true);
            ForwardHeaders.fromDyno(notModified, false);
            ForwardHeaders.fromDyno(noContent, false);
            assertThat(head.headers().get("Content-Length")).isEqualTo("1234");
            assertThat(notModified.headers().get("Content-Length")).isEqualTo("99");
            assertThat(noContent.headers().contains("Content-Length")).isFalse();
        } finally {
            head.release();
            notModified.release();
            noContent.release();
        }
    }

    @Test
    void appendViaChains() {
        HttpHeaders h = new DefaultHttpHeaders();
        ForwardHeaders.appendVia(h, "r1");
        assertThat(h.get("Via")).isEqualTo("1.1 r1");
        ForwardHeaders.appendVia(h, "r2");
        assertThat(h.get("Via")).isEqualTo("1.1 r1, 1.1 r2");
    }

    @Test
    void onlyABodilessHttp11UpgradeNamedByConnectionAndNotH2cIsTunnelled() {
        FullHttpRequest req = request(HttpVersion.HTTP_1_1, HttpMethod.GET, "");
        try {
            req.headers().set("Host", "a.localhost").set("Connection", "keep-alive, Upgrade").set("Upgrade", "websocket");
            assertThat(ForwardHeaders.tunnelledUpgrade(req)).isEqualTo("websocket");
            ForwardHeaders.toDyno(req, FWD);
            assertThat(req.headers().get("Upgrade")).isEqualTo("websocket");
            assertThat(req.headers().get("Connection")).isEqualTo("upgrade");

            req.headers().set("Connection", "keep-alive").set("Upgrade", "websocket");
            assertThat(ForwardHeaders.tunnelledUpgrade(req)).as("Connection must name it").isNull();
            req.headers().set("Connection", "Upgrade, HTTP2-Settings").set("Upgrade", "h2c");
            assertThat(ForwardHeaders.tunnelledUpgrade(req)).as("h2c is never passed on").isNull();
            req.headers().set("Connection", "Upgrade").set("Upgrade", "websocket").set("Content-Length", "3");
            assertThat(ForwardHeaders.tunnelledUpgrade(req)).as("not with a body").isNull();
            req.headers().remove("Content-Length");
            req.setProtocolVersion(HttpVersion.HTTP_1_0);
            assertThat(ForwardHeaders.tunnelledUpgrade(req)).as("not from HTTP/1.0").isNull();
        } finally {
            req.release();
        }
    }

    private static FullHttpRequest request(HttpVersion version, HttpMethod method, String body) {
        return new DefaultFullHttpRequest(version, method, "/", Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    }

    private static FullHttpResponse response(HttpResponseStatus status, String body) {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    }
}
