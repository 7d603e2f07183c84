package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One drain of one app: a bounded queue that {@link #offer} fills without ever waiting, and a thread of
 * its own that empties it to the peer. Subclasses say how a batch is sent.
 */
abstract sealed class LogDrain permits SyslogDrain, HttpsDrain {
    /** Wakes the worker (closing, or a connection seen to end); never sent. */
    static final LogLine WAKE = new LogLine(Instant.EPOCH, "heroku", "drain", "");

    final String id;
    final String token;
    final String app;
    final DrainUrl url;
    final DrainSettings settings;
    private final BlockingQueue<LogLine> queue;
    final AtomicLong sent = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    volatile boolean closing;
    private Thread worker;
    /** The batch being sent, so lines the worker holds when it is stopped are counted as dropped. Worker thread only. */
    List<LogLine> inFlight = List.of();

    LogDrain(String id, String app, DrainUrl url, DrainSettings settings) {
        this.id = id;
        this.token = "d." + id;
        this.app = app;
        this.url = url;
        this.settings = settings;
        this.queue = new ArrayBlockingQueue<>(settings.queueLines());
    }

    static LogDrain open(String id, String app, DrainUrl url, DrainSettings settings) {
        LogDrain drain = url.kind() == DrainUrl.Kind.HTTPS ? new HttpsDrain(id, app, url, settings) : new SyslogDrain(id, app, url, settings);
        drain.worker = Thread.ofVirtual().name("log-drain-" + id).start(drain::work);
        return drain;
    }

    /** Never blocks: a full queue (or a closing drain) drops the line and counts it. */
    void offer(LogLine line) {
        if (closing || !queue.offer(line)) dropped.incrementAndGet();
    }

    /** Lines waiting: the queue less its wake-up markers (a peer that just hung up leaves one until the worker looks). */
    DrainStatus status() {
        int queued = (int) queue.stream().filter(line -> line != WAKE).count();
        return new DrainStatus(id, token, app, url.uri().toString(), sent.get(), dropped.get(), errors.get(), queued);
    }

    /** Stops taking lines, sends what is queued until {@code deadline}, then gives up the rest (counted as dropped). */
    void beginClose() {
        closing = true;
        queue.offer(WAKE);
    }

    void awaitClose(Instant deadline) {
        try {
            Duration left = Duration.between(Instant.now(), deadline);
            if (!(left.isPositive() && worker.join(left))) {
                worker.interrupt();
                release(); // unblocks a write stuck on a peer that does not read
                worker.join(Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (LogLine line; (line = queue.poll()) != null; ) if (line != WAKE) dropped.incrementAndGet();
    }

    /** Nudges the worker (a peer hung up); not once closing, when nothing is left for it to do and the queue must stay empty. */
    void wake() {
        if (!closing) queue.offer(WAKE);
    }

    private void work() {
        try {
            run();
        } catch (InterruptedException e) {
            // closed past its deadline
        } finally {
            dropped.addAndGet(inFlight.size());
            inFlight = List.of();
            release();
        }
    }

    /** Sends batches until the drain is closing and its queue is empty. */
    abstract void run() throws InterruptedException;

    /** Closes connections; may be called from another thread while {@link #run} is blocked on them. */
    abstract void release();

    boolean finished() { return closing && queue.isEmpty(); }

    /**
     * Waits for a first line, then takes up to {@code max} lines arriving within {@code linger} of it.
     * Empty when woken with nothing to send (closing, or a connection to look at).
     */
    List<LogLine> nextBatch(int max, Duration linger) throws InterruptedException {
        List<LogLine> batch = new ArrayList<>();
        inFlight = batch;
        if (finished()) return batch;
        LogLine first = queue.take();
        if (first == WAKE) return batch;
        batch.add(first);
        long until = System.nanoTime() + linger.toNanos();
        while (batch.size() < max) {
            long left = until - System.nanoTime();
            LogLine next = closing || left <= 0 ? queue.poll() : queue.poll(left, TimeUnit.NANOSECONDS);
            if (next == null) {
                if (closing || left <= 0) break;
            } else if (next != WAKE) {
                batch.add(next);
            }
        }
        return batch;
    }

    /** The batch is sent, or given up and counted as dropped. */
    void done(List<LogLine> batch, boolean delivered) {
        (delivered ? sent : dropped).addAndGet(batch.size());
        inFlight = List.of();
    }

    /** Exponential back-off after failed try {@code attempt} (1-based). */
    void backOff(int attempt) throws InterruptedException {
        Thread.sleep(settings.backoff().multipliedBy(1L << Math.min(attempt - 1, 6)));
    }
}
