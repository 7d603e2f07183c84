package io.dynoplane.router;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * Fires an {@link IdleStateEvent} (all idle) when a connection has neither read nor written anything for
 * the timeout; the handlers behind it decide what idle means for them. Like Netty's IdleStateHandler with
 * only an all-idle time, but cheaper on the hot path: a read or write only sets a flag (no clock read, no
 * listener on every write; a write counts when it is issued), and a {@link LazyTimer} looks at the flag
 * every sixteenth of the timeout while there is traffic. So a connection is reported idle between the
 * timeout and a sixteenth more after its last activity, never earlier.
 */
final class IdleTimeout extends ChannelDuplexHandler {
    private final long timeoutNanos;
    private final long checkNanos;
    private LazyTimer timer;
    private boolean active;          // read or written since the last look
    private long lastActivityNanos;  // when activity was last seen (at most checkNanos late)

    IdleTimeout(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
        this.checkNanos = Math.max(1, timeoutNanos / 16);
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
        active = true;
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        active = true;
        ctx.write(msg, promise);
    }

    private void start() {
        if (!timer.armed()) {
            lastActivityNanos = System.nanoTime();
            timer.arm(lastActivityNanos + checkNanos);
        }
    }

    private void expired(ChannelHandlerContext ctx) {
        if (!ctx.channel().isOpen()) {
            return;
        }
        long now = System.nanoTime();
        if (active) {
            active = false;
            lastActivityNanos = now;
            timer.arm(now + checkNanos); // traffic: look again soon, so the estimate stays close
            return;
        }
        if (now - lastActivityNanos < timeoutNanos) {
            timer.arm(lastActivityNanos + timeoutNanos);
            return;
        }
        lastActivityNanos = now;
        timer.arm(now + timeoutNanos); // and again after another idle period, as Netty's does
        ctx.fireUserEventTriggered(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
    }
}
