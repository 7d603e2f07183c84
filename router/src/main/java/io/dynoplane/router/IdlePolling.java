package io.dynoplane.router;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.ThreadAwareExecutor;

import java.time.Duration;

/**
 * An io_uring loop that, with nothing to do, polls its ring for a while before it sleeps in {@code io_uring_enter}.
 *
 * <p>Why: a loop that sleeps has to be woken by whichever core completes its I/O, and on a VM a halted vCPU takes
 * tens of microseconds to wake; under load that comes hundreds of times a second, each time on the critical path
 * of the requests in flight. For a loop pinned to a core of its own, spinning costs nothing anyone else needed.
 *
 * <p>How long: the window adapts as the kernel's haltpoll governor does. It grows (doubling, from a quarter of the
 * maximum) after a sleep that a longer poll would have avoided (work came within the maximum), and halves after a
 * sleep longer than the maximum (polling would have been wasted). So an idle router stops spinning, and one
 * whose work comes in quick gaps polls through them. It never polls past the loop's next scheduled task, and stops
 * as soon as a task is queued.
 */
final class IdlePolling implements IoHandler {
    /**
     * A look that does not wait: Netty's io_uring loop then enters the kernel only if it has submissions or the
     * ring's shared flags say deferred completions are pending (the ring is set up with DEFER_TASKRUN and
     * TASKRUN_FLAG), so an idle poll reads memory and makes no system call, arms no timer.
     */
    private static final IoHandlerContext POLL = new IoHandlerContext() {
        @Override
        public boolean canBlock() {
            return false;
        }

        @Override
        public long delayNanos(long currentTimeNanos) {
            return 0;
        }

        @Override
        public long deadlineNanos() {
            return 0;
        }
    };

    /**
     * How often the poll looks at the ring: each look costs Netty a completion callback object (16 bytes; at every
     * look, some 100 MB/s of garbage), and finding work a microsecond later costs far less than a wake-up.
     */
    private static final long LOOK_EVERY_NANOS = 2_000;

    private final IoHandler ring;
    private final long maxNanos;
    private final long growStartNanos;
    private long windowNanos;

    private IdlePolling(IoHandler ring, long maxNanos) {
        this.ring = ring;
        this.maxNanos = maxNanos;
        this.growStartNanos = Math.max(1, maxNanos / 4);
    }

    /** {@code ring}'s handlers, each polling for up to {@code max} before it sleeps; {@code ring} itself for zero. */
    static IoHandlerFactory wrap(IoHandlerFactory ring, Duration max) {
        long maxNanos = max.toNanos();
        if (maxNanos == 0) {
            return ring;
        }
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor executor) {
                return new IdlePolling(ring.newHandler(executor), maxNanos);
            }

            @Override
            public boolean isChangingThreadSupported() {
                return ring.isChangingThreadSupported();
            }
        };
    }

    @Override
    public int run(IoHandlerContext context) {
        if (!context.canBlock()) {
            return ring.run(context);
        }
        long start = System.nanoTime();
        long window = Math.min(windowNanos, context.delayNanos(start));
        if (window > 0) {
            long end = start + window;
            long now = start;
            do {
                int completions = ring.run(POLL);
                // Something completed, or a handler queued a task: back to the loop.
                if (completions > 0 || !context.canBlock()) {
                    return completions;
                }
                long nextLook = now + LOOK_EVERY_NANOS;
                do {
                    Thread.onSpinWait();
                    now = System.nanoTime();
                } while (now - nextLook < 0);
            } while (now - end < 0);
        }
        int completions = ring.run(context);
        adapt(System.nanoTime() - start);
        return completions;
    }

    /** After a sleep of {@code idleNanos} (poll included): haltpoll's rule. */
    private void adapt(long idleNanos) {
        if (idleNanos <= maxNanos) {
            windowNanos = Math.min(maxNanos, Math.max(growStartNanos, windowNanos * 2));
        } else {
            windowNanos /= 2;
        }
    }

    @Override
    public void initialize() {
        ring.initialize();
    }

    @Override
    public void prepareToDestroy() {
        ring.prepareToDestroy();
    }

    @Override
    public void destroy() {
        ring.destroy();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        return ring.register(handle);
    }

    @Override
    public void wakeup() {
        ring.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return ring.isCompatible(handleType);
    }
}
