package io.dynoplane.router;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.fail;

/**
 * Collects router log lines. The line is emitted once the response is written, which can be a moment
 * after the client has read it, so tests await it.
 */
final class LogCapture implements Consumer<String> {
    private final LinkedBlockingQueue<String> incoming = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    @Override
    public void accept(String line) {
        incoming.add(line);
    }

    /** The first line containing {@code needle}, waiting up to 5 s for it. */
    String await(String needle) throws InterruptedException {
        return await(line -> line.contains(needle), needle);
    }

    synchronized String await(Predicate<String> match, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            for (String line : seen) {
                if (match.test(line)) {
                    return line;
                }
            }
            String next = incoming.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (next == null) {
                return fail("no router log line matching " + what + "; saw " + seen);
            }
            seen.add(next);
        }
    }
}
