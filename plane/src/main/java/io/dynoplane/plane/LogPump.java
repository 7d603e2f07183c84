package io.dynoplane.plane;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Hands log lines from threads that must not block (Netty event loops, for the router's lines)
 * to the sinks on a thread of its own: an app's lines to {@code appSink}, lines of no app to
 * {@code sink}. When the sinks fall behind, lines are dropped and counted, never waited for.
 */
final class LogPump implements AutoCloseable {
    private record Entry(String app, LogLine line) {}

    private static final Entry END = new Entry(null, LogLine.heroku("plane", ""));

    private final BlockingQueue<Entry> queue;
    private final AtomicLong dropped = new AtomicLong();
    private final Thread drain;

    LogPump(Consumer<LogLine> sink, BiConsumer<String, LogLine> appSink, int capacity) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.drain = Thread.ofPlatform().daemon().name("log-pump").start(() -> {
            try {
                for (Entry e; (e = queue.take()) != END; ) {
                    if (e.app() == null) sink.accept(e.line()); else appSink.accept(e.app(), e.line());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Queues {@code line} of {@code app} (null: of no app); never blocks. */
    void accept(String app, LogLine line) {
        if (!queue.offer(new Entry(app, line))) dropped.incrementAndGet();
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
