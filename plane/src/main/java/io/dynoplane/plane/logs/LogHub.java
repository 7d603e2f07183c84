package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Every app's log: the last lines kept in memory ({@code logs -n}), live subscribers ({@code logs --tail}),
 * and whatever comes next (the drains). {@link #accept} is called from dyno output readers, the manager and
 * Netty event loops, so it only appends under a short lock and offers to bounded queues: no I/O, no waiting.
 */
public final class LogHub {
    /** Heroku keeps the last 1,500 lines per app. */
    public static final int KEPT_LINES = 1_500;
    static final int TAIL_QUEUE = 10_000;

    private final Map<String, AppLog> apps = new ConcurrentHashMap<>();
    private final BiConsumer<String, LogLine> onward;
    private final int keptLines;
    private final int tailQueue;

    /** {@code onward} gets every line after the buffer and the tails (e.g. {@link LogDrains#accept}); it must not block. */
    public LogHub(BiConsumer<String, LogLine> onward) {
        this(onward, KEPT_LINES, TAIL_QUEUE);
    }

    LogHub(BiConsumer<String, LogLine> onward, int keptLines, int tailQueue) {
        this.onward = onward;
        this.keptLines = keptLines;
        this.tailQueue = tailQueue;
    }

    public void accept(String app, LogLine line) {
        apps.computeIfAbsent(app, a -> new AppLog(keptLines)).append(line);
        onward.accept(app, line);
    }

    /** The last {@code lines} lines that match, oldest first; at most {@value #KEPT_LINES}. */
    public List<LogLine> recent(String app, LogFilter filter, int lines) {
        checkLines(lines);
        AppLog log = apps.get(app);
        return log == null ? List.of() : log.recent(filter, lines);
    }

    /** Lines from now on, to {@code consumer} on a thread of the tail's own. */
    public LogTail tail(String app, LogFilter filter, Consumer<LogLine> consumer) {
        return tail(app, filter, 0, consumer);
    }

    /**
     * {@code logs -n backlog --tail}: the last {@code backlog} matching lines, then the new ones, with none
     * missed or repeated in between (the snapshot and the subscription happen under the app's lock).
     */
    public LogTail tail(String app, LogFilter filter, int backlog, Consumer<LogLine> consumer) {
        if (backlog != 0) checkLines(backlog);
        AppLog log = apps.computeIfAbsent(app, a -> new AppLog(keptLines));
        LogTail[] made = new LogTail[1];
        made[0] = new LogTail(app, filter, Math.max(tailQueue, backlog), consumer, () -> log.tails.remove(made[0]));
        log.subscribe(made[0], filter, backlog);
        made[0].start();
        return made[0];
    }

    /** The app is gone: its lines go and its tails end. */
    public void forget(String app) {
        AppLog log = apps.remove(app);
        if (log != null) log.tails.forEach(LogTail::close);
    }

    private static void checkLines(int lines) {
        if (lines < 1 || lines > KEPT_LINES) {
            throw new IllegalArgumentException("lines " + lines + ": expected 1 to " + KEPT_LINES);
        }
    }

    private static final class AppLog {
        private final LogBuffer buffer;
        private final List<LogTail> tails = new CopyOnWriteArrayList<>();

        AppLog(int kept) { this.buffer = new LogBuffer(kept); }

        synchronized void append(LogLine line) {
            buffer.add(line);
            for (LogTail tail : tails) tail.offer(line);
        }

        synchronized List<LogLine> recent(LogFilter filter, int lines) { return buffer.last(filter, lines); }

        synchronized void subscribe(LogTail tail, LogFilter filter, int backlog) {
            if (backlog > 0) buffer.last(filter, backlog).forEach(tail::offer);
            tails.add(tail);
        }
    }
}
