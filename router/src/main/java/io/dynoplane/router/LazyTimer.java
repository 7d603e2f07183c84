package io.dynoplane.router;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * A deadline that can move on every request without a schedule and a cancel each time. One task at most is
 * scheduled; moving the deadline later, or disarming it, leaves that task alone: when it runs early it
 * reschedules itself for the deadline, or does nothing if disarmed. Only a deadline earlier than the
 * scheduled task replaces it. So a keep-alive connection serving thousands of requests a second schedules
 * about one task per timeout period instead of several per request.
 *
 * <p>Confined to one event loop: every method must be called on {@code executor}.
 */
final class LazyTimer {
    private final EventExecutor executor;
    private final Runnable onExpiry;
    private final Runnable fire = this::fire;
    private boolean armed;
    private long deadlineNanos;
    private ScheduledFuture<?> task;   // null when nothing is scheduled
    private long taskAtNanos;

    LazyTimer(EventExecutor executor, Runnable onExpiry) {
        this.executor = executor;
        this.onExpiry = onExpiry;
    }

    /** Runs {@code onExpiry} once {@link System#nanoTime()} reaches {@code deadline}, unless moved or disarmed first. */
    void arm(long deadline) {
        armed = true;
        deadlineNanos = deadline;
        if (task == null || taskAtNanos - deadline > 0) {
            if (task != null) {
                task.cancel(false);
            }
            schedule(deadline);
        }
    }

    boolean armed() {
        return armed;
    }

    /** No expiry until armed again; a scheduled task stays (and finds nothing to do). */
    void disarm() {
        armed = false;
    }

    /** Disarms and drops the scheduled task: the owner is going away. */
    void cancel() {
        armed = false;
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    private void schedule(long deadline) {
        taskAtNanos = deadline;
        task = executor.schedule(fire, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void fire() {
        task = null;
        if (!armed) {
            return;
        }
        if (System.nanoTime() - deadlineNanos < 0) {
            schedule(deadlineNanos); // moved later since this task was scheduled
            return;
        }
        armed = false;
        onExpiry.run();
    }
}
