package io.dynoplane.router;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;

/**
 * Last handler of a dyno connection: hands each response head and each piece of its body, as they
 * arrive, to the exchange that owns the connection right now, passes on changes in writability (for
 * back-pressure on the upload), and tells the exchange when the connection dies first. While the connection sits idle
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
    private boolean skippingInterim;   // between a 1xx head and its empty end
    private boolean upgradeRequested;  // the request in flight asked for an Upgrade: 101 ends HTTP here

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

    /** {@code passThrough}: the client can take the response as the dyno's bytes ({@link PassThroughHead}). */
    void attach(ProxyExchange exchange, boolean headRequest, boolean upgrade, boolean passThrough) {
        owner = exchange;
        upgradeRequested = upgrade;
        skippingInterim = false;
        decoder.expectResponseTo(headRequest, passThrough && !upgrade);
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
        if (msg instanceof HttpResponse response) {
            responseHead(ctx, response);
        } else if (msg instanceof PassThroughHead head) {
            passThroughHead(ctx, head);
        } else if (msg instanceof HttpContent content) {
            responseContent(ctx, content);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void responseHead(ChannelHandlerContext ctx, HttpResponse response) {
        // Heads are not reference-counted (the decoder sends bodies as separate HttpContent).
        int code = response.status().code();
        ProxyExchange exchange = owner;
        if (exchange == null) {
            ctx.close(); // nobody asked: the connection is out of sync
            return;
        }
        if (code == 101 && upgradeRequested && response.decoderResult().isSuccess()) {
            // Switching protocols: the exchange takes this channel out of HTTP (and the pool) for good.
            owner = null;
            exchange.onUpgrade(response);
            return;
        }
        if (!response.decoderResult().isSuccess() || code == 101) {
            // Malformed or truncated, or an upgrade we never asked for: unusable either way.
            owner = null; // detach first: the close below must not also report a lost connection
            ctx.close();
            exchange.onBrokenResponse();
            return;
        }
        if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            skippingInterim = true; // 1xx (e.g. 103 Early Hints): the final response follows
            return;
        }
        exchange.onResponseHead(response);
    }

    private void passThroughHead(ChannelHandlerContext ctx, PassThroughHead head) {
        ProxyExchange exchange = owner;
        if (exchange == null) {
            head.release();
            ctx.close(); // nobody asked: the connection is out of sync
            return;
        }
        exchange.onPassThroughHead(head);
    }

    private void responseContent(ChannelHandlerContext ctx, HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (skippingInterim) {
            content.release(); // the (empty) end of an interim response
            skippingInterim = !last;
            return;
        }
        ProxyExchange exchange = owner;
        if (exchange == null) {
            content.release();
            ctx.close();
            return;
        }
        if (!content.decoderResult().isSuccess()) {
            // Cut short (the dyno closed mid-body) or a bad chunk: the response is broken.
            content.release();
            owner = null;
            ctx.close();
            exchange.onBrokenResponse();
            return;
        }
        exchange.onResponseContent(content); // may detach us and return us to the pool
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ProxyExchange exchange = owner;
        if (exchange != null) {
            exchange.dynoReadComplete();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ProxyExchange exchange = owner;
        if (exchange != null) {
            exchange.dynoWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
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
