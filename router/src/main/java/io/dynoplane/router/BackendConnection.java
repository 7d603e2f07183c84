package io.dynoplane.router;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;

/**
 * Last handler of a dyno connection: hands each complete response to the exchange that owns the
 * connection right now, and tells it when the connection dies first. While the connection sits idle
 * in the pool it has no owner, and anything that arrives then means it is out of sync.
 */
final class BackendConnection extends ChannelInboundHandlerAdapter {
    private final InetSocketAddress address;
    private final BackendPool pool;
    private final DynoResponseDecoder decoder = new DynoResponseDecoder();
    private final IdleGuard idleGuard = new IdleGuard();
    private Channel channel;
    private ProxyExchange owner;
    private boolean reused;

    BackendConnection(InetSocketAddress address, BackendPool pool) {
        this.address = address;
        this.pool = pool;
    }

    InetSocketAddress address() {
        return address;
    }

    Channel channel() {
        return channel;
    }

    /** True once the connection has come out of the pool, i.e. served an earlier request. */
    boolean reused() {
        return reused;
    }

    void markReused() {
        reused = true;
    }

    /** The response decoder for this connection's pipeline. */
    DynoResponseDecoder decoder() {
        return decoder;
    }

    /** Goes first in this connection's pipeline, before the decoder. */
    ChannelInboundHandlerAdapter idleGuard() {
        return idleGuard;
    }

    /** True if bytes beyond the last response have arrived: the connection is out of step. */
    boolean hasStrayBytes() {
        return decoder.undecodedBytes() > 0;
    }

    void attach(ProxyExchange exchange, boolean headRequest) {
        owner = exchange;
        decoder.expectResponseTo(headRequest);
    }

    void detach() {
        owner = null;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpResponse response)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        int code = response.status().code();
        if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL && code != 101) {
            response.release(); // 1xx (e.g. 103 Early Hints): the final response follows
            return;
        }
        ProxyExchange exchange = owner;
        owner = null; // detach first: the close below must not also report a lost connection
        if (exchange == null) {
            response.release();
            ctx.close(); // nobody asked: the connection is out of sync
            return;
        }
        if (!response.decoderResult().isSuccess() || code == 101) {
            // Malformed or truncated, or an upgrade we never asked for: unusable either way.
            response.release();
            ctx.close();
            exchange.onBrokenResponse();
            return;
        }
        exchange.onResponse(response);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        pool.forget(this);
        ProxyExchange exchange = owner;
        owner = null;
        if (exchange != null) {
            exchange.onConnectionLost();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ProxyExchange exchange = owner;
        if (exchange != null && cause instanceof DecoderException) {
            // A protocol error (e.g. response over the size cap) is the dyno's answer going wrong,
            // not a stale pooled connection, so it must not be retried.
            owner = null;
            exchange.onBrokenResponse();
        }
        // I/O errors reach the exchange through channelInactive.
        ctx.close();
    }

    /**
     * Closes the connection if bytes arrive while it idles in the pool: nothing was asked, so they can
     * only be a misbehaving dyno's leftovers (say, a body after a 204), which would otherwise be taken
     * as the start of the next request's response.
     */
    private final class IdleGuard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (owner == null) {
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            // Idle timeout only applies while pooled; an exchange in progress has its own H12 timer.
            if (owner == null) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
