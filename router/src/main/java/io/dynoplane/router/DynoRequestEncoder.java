package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The dyno connection's request encoder: encodes request objects as Netty does, and writes a
 * {@link PassThroughRequest}'s head as the client's bytes and the router's lines. Such a request never has a body,
 * so what follows it is its empty end, which has nothing to encode; the encoder's own state (which waits for a
 * message start) is never in the middle of a message then.
 */
final class DynoRequestEncoder extends HttpRequestEncoder {
    private boolean passedThrough; // the last head went out as bytes: its end is still to come

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof PassThroughRequest request) {
            ByteBuf head = ctx.alloc().buffer(request.length());
            request.writeTo(head);
            passedThrough = true;
            ctx.write(head, promise);
            return;
        }
        if (passedThrough && msg instanceof LastHttpContent last && !last.content().isReadable()) {
            passedThrough = false;
            last.release();
            ctx.write(Unpooled.EMPTY_BUFFER, promise); // completes in order with the head
            return;
        }
        super.write(ctx, msg, promise);
    }
}
