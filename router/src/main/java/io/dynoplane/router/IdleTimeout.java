package io.dynoplane.router;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * Fires an {@link IdleStateEvent} (all idle) when a connection has neither read nor written anything for
 * the timeout; the handlers behind it decide what idle means for them. Like Netty's IdleStateHandler with
 * only an all-idle time, but cheaper on the hot path: a write counts when it is issued rather than when it
 * completes, so no listener is added to every write, and the timer is a {@link LazyTimer} that only
 * reschedules itself when it runs.
 */
final class IdleTimeout extends ChannelDuplexHandler {
    private final long timeoutNanos;
    private LazyTimer timer;
    private long lastActivityNanos;

    IdleTimeout(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = new LazyTimer(ctx.executor(), () -> expired(ctx));
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
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

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        lastActivityNanos = System.nanoTime();
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        lastActivityNanos = System.nanoTime();
        ctx.write(msg, promise);
    }

    private void start() {
        if (!timer.armed()) {
            lastActivityNanos = System.nanoTime();
            timer.arm(lastActivityNanos + timeoutNanos);
        }
    }

    private void expired(ChannelHandlerContext ctx) {
        if (!ctx.channel().isOpen()) {
            return;
        }
        long idleFor = System.nanoTime() - lastActivityNanos;
        if (idleFor < timeoutNanos) {
            timer.arm(lastActivityNanos + timeoutNanos); // activity since: not idle yet
            return;
        }
        timer.arm(System.nanoTime() + timeoutNanos); // and again after another idle period, as Netty's does
        ctx.fireUserEventTriggered(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
    }
}
