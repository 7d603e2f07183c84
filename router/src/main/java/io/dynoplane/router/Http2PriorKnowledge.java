package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * On the plain listener, in front of the HTTP/1.1 decoder: looks at a connection's first bytes once.
 * The HTTP/2 connection preface (h2c with prior knowledge, RFC 9113 §3.3) turns the connection into an
 * HTTP/2 one; anything else leaves the HTTP/1.1 pipeline as it is. Either way this handler then leaves
 * the pipeline, passing on what it held. No byte is consumed, and nothing is decided on a prefix that
 * could still go either way (a bare {@code P} waits for the next byte).
 */
final class Http2PriorKnowledge extends ByteToMessageDecoder {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final ClientPipelines pipelines;

    Http2PriorKnowledge(ClientPipelines pipelines) {
        this.pipelines = pipelines;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int n = Math.min(in.readableBytes(), PREFACE.length);
        for (int i = 0; i < n; i++) {
            if (in.getByte(in.readerIndex() + i) != PREFACE[i]) {
                ctx.pipeline().remove(this); // HTTP/1.x: the held bytes go on to the decoder
                return;
            }
        }
        if (n == PREFACE.length) {
            pipelines.http2PriorKnowledge(ctx);
            ctx.pipeline().remove(this); // the held bytes, preface included, go on to the HTTP/2 codec
        }
        // else: a prefix of the preface so far; wait for more (the base class reads on)
    }
}
