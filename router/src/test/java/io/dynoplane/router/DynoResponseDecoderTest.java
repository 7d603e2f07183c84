package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The dyno-side decoder fed bytes as they may arrive: a head in pieces, a connection closing mid-head. */
class DynoResponseDecoderTest {
    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    @Test
    void headArrivingInPiecesStillPassesThrough() {
        DynoResponseDecoder decoder = new DynoResponseDecoder();
        EmbeddedChannel dyno = new EmbeddedChannel(decoder);
        decoder.expectResponseTo(false, true);
        assertThat(dyno.writeInbound(bytes("HTTP/1.1 200 OK\r\nContent-Le"))).isFalse();
        assertThat(dyno.writeInbound(bytes("ngth: 5\r\n"))).isFalse();
        assertThat(dyno.writeInbound(bytes("\r\nhel"))).isTrue();
        PassThroughHead head = dyno.readInbound();
        assertThat(head.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n");
        head.release();
        HttpContent first = dyno.readInbound();
        assertThat(first).isInstanceOf(PassThrough.Content.class);
        assertThat(first.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo("hel");
        first.release();
        dyno.writeInbound(bytes("lo"));
        LastHttpContent last = dyno.readInbound();
        assertThat(last).isInstanceOf(PassThrough.Last.class);
        assertThat(last.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo("lo");
        last.release();
        assertThat(decoder.undecodedBytes()).isZero();
        assertThat(dyno.finishAndReleaseAll()).isFalse();
    }

    @Test
    void headCutShortByTheCloseIsJudgedByTheHttpDecoder() {
        DynoResponseDecoder decoder = new DynoResponseDecoder();
        EmbeddedChannel dyno = new EmbeddedChannel(decoder);
        decoder.expectResponseTo(false, true);
        assertThat(dyno.writeInbound(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"))).isFalse();
        dyno.close();
        HttpResponse broken = dyno.readInbound();
        assertThat(broken.decoderResult().isFailure()).as("a failed head, as without pass-through").isTrue();
        dyno.finishAndReleaseAll();
    }

    @Test
    void passThroughNotAllowedDecodesAsBefore() {
        DynoResponseDecoder decoder = new DynoResponseDecoder();
        EmbeddedChannel dyno = new EmbeddedChannel(decoder);
        decoder.expectResponseTo(false, false);
        dyno.writeInbound(bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        assertThat((Object) dyno.readInbound()).isInstanceOf(HttpResponse.class);
        HttpContent body = dyno.readInbound();
        assertThat(body).isInstanceOf(LastHttpContent.class).isNotInstanceOf(PassThrough.class);
        body.release();
        dyno.finishAndReleaseAll();
    }
}
