package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One {@code logs --tail} subscriber. Producers only offer to its bounded queue; a thread of its own
 * hands lines to the consumer, so a subscriber that stops reading costs dropped lines, never a blocked dyno.
 */
public final class LogTail implements AutoCloseable {
    private final LogFilter filter;
    private final BlockingQueue<LogLine> queue;
    private final AtomicLong dropped = new AtomicLong();
    private final Thread delivery;
    private final Runnable onClose;
    private volatile boolean closed;

    LogTail(String app, LogFilter filter, int capacity, Consumer<LogLine> consumer, Runnable onClose) {
        this.filter = filter;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.onClose = onClose;
        this.delivery = Thread.ofVirtual().name("log-tail-" + app).unstarted(() -> {
            try {
                while (!closed) consumer.accept(queue.take());
            } catch (InterruptedException e) {
                // closed
            } catch (RuntimeException e) {
                close(); // a consumer that throws (its client went away) ends its tail
            }
        });
    }

    void start() { delivery.start(); }

    /** Never blocks: a full queue drops the line and counts it. */
    void offer(LogLine line) {
        if (closed || !filter.matches(line)) return;
        if (!queue.offer(line)) dropped.incrementAndGet();
    }

    /** Lines this subscriber missed because it did not keep up. */
    public long dropped() { return dropped.get(); }

    public boolean isClosed() { return closed; }

    /** Stops delivery, even to a consumer stuck inside accept (it is interrupted). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        onClose.run();
        delivery.interrupt();
    }
}
