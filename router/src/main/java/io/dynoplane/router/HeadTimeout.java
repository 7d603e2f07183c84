package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Closes a client that takes too long to send a request head: the slowloris defence. Sits in front of
 * the decoder, so it sees raw bytes. The clock starts when the connection opens and, between requests
 * on a keep-alive connection, at the first byte of the next head (an idle keep-alive connection is the
 * idle timeout's business); {@link RequestRouter} stops it when a head has been decoded. A connection
 * that sends nothing, or a head a byte at a time, is closed when the time is up.
 */
final class HeadTimeout extends ChannelInboundHandlerAdapter {
    private final long timeoutNanos;
    private final Runnable onTimeout;
    private ChannelHandlerContext ctx;
    private boolean awaiting = true;     // between requests: the next bytes are a head
    private boolean bytesDuringRequest;  // bytes came in while a request was being served
    private LazyTimer timer;             // one per connection, armed per head (see LazyTimer)

    HeadTimeout(long timeoutNanos, Runnable onTimeout) {
        this.timeoutNanos = timeoutNanos;
        this.onTimeout = onTimeout;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.timer = new LazyTimer(ctx.executor(), this::expired);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        arm();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf) {
            if (awaiting) {
                arm();
            } else {
                bytesDuringRequest = true;
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** A whole request head has been decoded: stop the clock. */
    void headReceived() {
        awaiting = false;
        bytesDuringRequest = false;
        cancel();
    }

    /**
     * The request is over and the next head may come. If bytes arrived meanwhile (possibly the start of
     * a pipelined head) the clock starts now, else at the next byte.
     */
    void awaitHead() {
        awaiting = true;
        if (bytesDuringRequest) {
            bytesDuringRequest = false;
            arm();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        timer.cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        timer.cancel();
        ctx.fireChannelInactive();
    }

    private void arm() {
        if (!timer.armed() && ctx.channel().isActive()) {
            timer.arm(System.nanoTime() + timeoutNanos);
        }
    }

    private void cancel() {
        timer.disarm();
    }

    private void expired() {
        if (awaiting && ctx.channel().isActive()) {
            onTimeout.run();
            ctx.close();
        }
    }
}
