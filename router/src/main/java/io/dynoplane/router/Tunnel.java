package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;

/**
 * Raw bytes both ways between a client and a dyno once the dyno has switched protocols (101), e.g.
 * WebSocket. One instance sits last in each pipeline, in place of the HTTP handlers, and writes what its
 * channel reads to the other one; a channel stops reading while the other cannot take more (writability),
 * so a slow reader back-pressures the writer. When either side closes, the other is flushed and closed.
 * Both channels are on the same event loop (dyno connections are made on the client's loop). The idle
 * handlers stay: a tunnel with no traffic either way for the idle timeout is closed.
 */
final class Tunnel extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(Router.class.getName());

    /** Client-side HTTP handlers (see Router); any others (TLS, idle timeout) stay. */
    private static final String[] CLIENT_HTTP = {"route", "flow", "expect", "arrival", "encode", "head", "decode"};
    /** Dyno-side HTTP handlers (see BackendPool); its decoder stays, passing bytes through once switched. */
    private static final String[] DYNO_HTTP = {"dyno", "guard", "encode"};

    private final Channel peer;

    private Tunnel(Channel peer) {
        this.peer = peer;
    }

    /**
     * Rewires both pipelines. Called on their shared event loop, from the client's RequestRouter after the
     * 101 has been written (encoded) to the client. Bytes already read past the HTTP messages (buffered in
     * the decoders) come out of the removed decoders and through the tunnel.
     */
    static void splice(Channel client, Channel dyno) {
        assert client.eventLoop() == dyno.eventLoop();
        // Dyno side first: bytes the client side releases below are written to it at once.
        rewire(dyno.pipeline(), DYNO_HTTP, new Tunnel(client));
        rewire(client.pipeline(), CLIENT_HTTP, new Tunnel(dyno));
        client.config().setAutoRead(true);
        dyno.config().setAutoRead(true);
        if (!client.isActive()) {
            dyno.close();
        } else if (!dyno.isActive()) {
            client.close();
        }
    }

    private static void rewire(ChannelPipeline pipeline, String[] http, Tunnel tunnel) {
        pipeline.addLast("tunnel", tunnel);
        for (String name : http) {
            if (pipeline.get(name) != null) {
                pipeline.remove(name);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf bytes)) {
            ReferenceCountUtil.release(msg); // the (empty) end of the 101 from the dyno's decoder
            return;
        }
        if (!bytes.isReadable()) {
            bytes.release();
            return;
        }
        peer.writeAndFlush(bytes).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                ctx.close();
                peer.close();
            }
        });
        if (!peer.isWritable()) {
            ctx.channel().config().setAutoRead(false); // until the peer drains
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            peer.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (peer.isActive()) {
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            ctx.close(); // quiet both ways for the idle timeout
            return;
        }
        ReferenceCountUtil.release(evt); // e.g. the router's drain: a tunnel ends with the drain deadline
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(cause instanceof IOException ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                "closing tunnel " + ctx.channel() + ": " + cause, cause);
        ctx.close();
    }
}
