package io.dynoplane.router;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;

import java.io.IOException;

/**
 * The connection-level end of an HTTP/2 client connection (streams are served by their own child
 * channels). Sits in front of the frame codec: on {@link RequestRouter.Drain} (router closing) or an
 * idle connection it closes the channel from the tail, which the codec turns into a graceful shutdown
 * (GOAWAY, then close once the open streams are done, or after its timeout).
 */
final class Http2Connection extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(Router.class.getName());

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == RequestRouter.Drain.INSTANCE || evt instanceof IdleStateEvent) {
            ctx.channel().close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // The codec handles protocol errors itself (GOAWAY / RST_STREAM); what reaches here is I/O.
        LOG.log(cause instanceof IOException ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                "closing HTTP/2 client connection " + ctx.channel() + ": " + cause, cause);
        ctx.close();
    }
}
