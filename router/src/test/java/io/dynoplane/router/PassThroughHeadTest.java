package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fixtures in, verdict out: which dyno response heads pass through as bytes ({@link PassThroughHead}) and what
 * of them goes on, and which take the decoding path (nothing read, so Netty's decoder sees the head whole).
 */
class PassThroughHeadTest {
    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    @Test
    void plainHeadPassesWhole() {
        ByteBuf in = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
        PassThroughHead head = PassThroughHead.readFrom(in);
        try {
            assertThat(head).isNotNull();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.contentLength()).isEqualTo(5);
            assertThat(head.keepAlive()).isTrue();
            assertThat(head.content().toString(StandardCharsets.ISO_8859_1))
                    .isEqualTo("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n");
            assertThat(in.toString(StandardCharsets.ISO_8859_1)).as("left for the body").isEqualTo("hello");
        } finally {
            head.release();
            in.release();
        }
    }

    @Test
    void headLongerThanTheFirstScanPassesWhole() {
        String lines = "HTTP/1.1 200 OK\r\nSet-Cookie: " + "c".repeat(2000) + "\r\nContent-Length: 2\r\n";
        ByteBuf in = bytes(lines + "\r\nok");
        PassThroughHead head = PassThroughHead.readFrom(in);
        try {
            assertThat(head.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo(lines);
            assertThat(in.toString(StandardCharsets.ISO_8859_1)).isEqualTo("ok");
        } finally {
            head.release();
            in.release();
        }
    }

    @Test
    void connectionLinesOfTheDynoAreLeftOut() {
        ByteBuf in = bytes("HTTP/1.1 404 Not Found\r\nServer: nginx\r\nConnection: Keep-Alive\r\nKeep-Alive: timeout=5\r\n"
                + "content-length:0\r\nETag: \"x\"\r\n\r\n");
        PassThroughHead head = PassThroughHead.readFrom(in);
        try {
            assertThat(head.status()).isEqualTo(404);
            assertThat(head.contentLength()).isZero();
            assertThat(head.keepAlive()).isTrue();
            assertThat(head.content().toString(StandardCharsets.ISO_8859_1))
                    .isEqualTo("HTTP/1.1 404 Not Found\r\nServer: nginx\r\ncontent-length:0\r\nETag: \"x\"\r\n");
            assertThat(in.isReadable()).isFalse();
        } finally {
            head.release();
            in.release();
        }
    }

    @Test
    void connectionCloseIsLeftOutAndRemembered() {
        ByteBuf in = bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection:  close \r\n\r\nok");
        PassThroughHead head = PassThroughHead.readFrom(in);
        try {
            assertThat(head.keepAlive()).isFalse();
            assertThat(head.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
        } finally {
            head.release();
            in.release();
        }
    }

    /** Heads the router must rewrite or that only the decoder may judge: nothing is read. */
    @ParameterizedTest
    @ValueSource(strings = {
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n",                 // a bare LF ends the head
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",          // other framing
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",                     // close-delimited
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", // twice
            "HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close, X-Secret\r\n\r\n", // names a header to strip
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Request-Id: from-the-dyno-000000000\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nVia: 1.1 vegur\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nUpgrade: h2c\r\n\r\n",
            "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n",              // no body allowed
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 103 Early Hints\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",                     // keep-alive rules differ
            "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\n",                       // bare LF
            "HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n",                    // space before the colon
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: one\r\n two\r\n\r\n", // obs-fold
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: o\u0000ne\r\n\r\n",   // NUL in a value
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX(A): one\r\n\r\n",        // not a token
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n: empty name\r\n\r\n",
            "HTTP/1.0 2",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX(",
    })
    void headTakesTheDecodingPath(String fixture) {
        ByteBuf in = bytes(fixture + "ok");
        try {
            assertThat(PassThroughHead.readFrom(in)).isNull();
            assertThat(in.readerIndex()).as("nothing read").isZero();
        } finally {
            in.release();
        }
    }

    /** Every prefix of a qualifying head is worth waiting for; nothing is read until it is whole. */
    @Test
    void headNotYetWholeIsWaitedFor() {
        String whole = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n";
        for (int cut = 1; cut < whole.length(); cut++) {
            ByteBuf in = bytes(whole.substring(0, cut));
            try {
                assertThat(PassThroughHead.readFrom(in)).as("first %d bytes", cut).isSameAs(PassThroughHead.NOT_YET);
                assertThat(in.readerIndex()).isZero();
            } finally {
                in.release();
            }
        }
    }

    @Test
    void headLongerThanTheLimitTakesTheDecodingPath() {
        String big = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Big: " + "a".repeat(HeadScan.MAX_HEAD_BYTES) + "\r\n\r\nok";
        for (String fixture : new String[] {big, big.substring(0, HeadScan.MAX_HEAD_BYTES)}) {
            ByteBuf in = bytes(fixture);
            try {
                assertThat(PassThroughHead.readFrom(in)).as("no waiting beyond the limit").isNull();
                assertThat(in.readerIndex()).isZero();
            } finally {
                in.release();
            }
        }
    }
}
