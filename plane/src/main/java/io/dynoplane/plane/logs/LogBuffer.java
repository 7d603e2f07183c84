package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;

import java.util.ArrayList;
import java.util.List;

/** The last {@code capacity} lines of one app, oldest overwritten first. Not thread-safe: {@link LogHub} locks. */
final class LogBuffer {
    private final LogLine[] ring;
    private long written;

    LogBuffer(int capacity) { this.ring = new LogLine[capacity]; }

    void add(LogLine line) {
        ring[(int) (written++ % ring.length)] = line;
    }

    /** The last {@code limit} lines that match, oldest first. */
    List<LogLine> last(LogFilter filter, int limit) {
        int held = (int) Math.min(written, ring.length);
        ArrayList<LogLine> newestFirst = new ArrayList<>(Math.min(limit, held));
        for (long i = written - 1; i >= written - held && newestFirst.size() < limit; i--) {
            LogLine line = ring[(int) (i % ring.length)];
            if (filter.matches(line)) newestFirst.add(line);
        }
        return newestFirst.reversed();
    }
}
