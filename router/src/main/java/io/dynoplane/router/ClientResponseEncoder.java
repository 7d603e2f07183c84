package io.dynoplane.router;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * The HTTP/1.x client connection's response encoder: encodes the router's response objects as Netty does, and lets a
 * {@link PassThrough} response go out as the bytes it holds. A passed-through response is always whole between two
 * encoded ones, so the encoder's own state (which waits for a message start) is never in the middle of one.
 */
final class ClientResponseEncoder extends HttpResponseEncoder {
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof PassThrough bytes) {
            ctx.write(bytes.content(), promise);
            return;
        }
        super.write(ctx, msg, promise);
    }
}
