package io.dynoplane.plane;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Hands log lines from threads that must not block (Netty event loops, for the router's lines)
 * to the sink on a thread of its own. When the sink falls behind, lines are dropped and counted,
 * never waited for.
 */
final class LogPump implements Consumer<LogLine>, AutoCloseable {
    private static final LogLine END = LogLine.heroku("plane", "");

    private final BlockingQueue<LogLine> queue;
    private final AtomicLong dropped = new AtomicLong();
    private final Thread drain;

    LogPump(Consumer<LogLine> sink, int capacity) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.drain = Thread.ofPlatform().daemon().name("log-pump").start(() -> {
            try {
                for (LogLine line; (line = queue.take()) != END; ) sink.accept(line);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Override
    public void accept(LogLine line) {
        if (!queue.offer(line)) dropped.incrementAndGet();
    }

    long dropped() { return dropped.get(); }

    /** Delivers what is queued, then stops. */
    @Override
    public void close() {
        try {
            queue.put(END);
            drain.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
