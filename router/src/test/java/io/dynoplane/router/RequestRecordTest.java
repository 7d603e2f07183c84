package io.dynoplane.router;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RequestRecordTest {

    @Test
    void formatsASuccessfulRequestLikeHeroku() {
        RequestRecord rec = new RequestRecord("GET", "/", "http1.1", 0);
        rec.host = "hello.localhost";
        rec.requestId = "abcdefghij0123456789";
        rec.fwd = "127.0.0.1";
        rec.app = "hello";
        rec.dyno = "web.1";
        rec.connectNanos = 1_400_000;
        rec.serviceNanos = 18_000_000;
        rec.status = 200;
        rec.bytes = 13;
        assertThat(rec.logLine()).isEqualTo("at=info method=GET path=\"/\" host=hello.localhost"
                + " request_id=abcdefghij0123456789 fwd=\"127.0.0.1\" dyno=web.1 connect=1ms service=18ms"
                + " status=200 bytes=13 protocol=http1.1 tls=false");
    }

    @Test
    void formatsARouterErrorWithCodeAndEmptyTimings() {
        RequestRecord rec = new RequestRecord("POST", "/a\"b", "http1.0", 0);
        rec.host = "empty.localhost";
        rec.requestId = "id";
        rec.fwd = "1.2.3.4, 127.0.0.1";
        rec.error = RouterError.H14;
        rec.status = 503;
        rec.bytes = 150;
        assertThat(rec.logLine()).isEqualTo("at=error code=H14 desc=\"No web dynos running\" method=POST"
                + " path=\"/a\\\"b\" host=empty.localhost request_id=id fwd=\"1.2.3.4, 127.0.0.1\" dyno= connect="
                + " service= status=503 bytes=150 protocol=http1.0 tls=false");
    }

    @Test
    void errorPagesAreShortHtml() {
        var response = RouterError.H14.newResponse(io.netty.buffer.ByteBufAllocator.DEFAULT);
        try {
            String html = response.content().toString(java.nio.charset.StandardCharsets.UTF_8);
            assertThat(response.status().code()).isEqualTo(503);
            assertThat(html).startsWith("<!DOCTYPE html>").contains("No web dynos running (H14)");
            assertThat(response.headers().getInt("Content-Length")).isEqualTo(response.content().readableBytes());
        } finally {
            response.release();
        }
    }
}
