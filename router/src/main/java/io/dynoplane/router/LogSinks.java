package io.dynoplane.router;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** Fan-out of router log lines. Sinks run on event loops, so they must be quick and non-blocking. */
final class LogSinks {
    private static final System.Logger LOG = System.getLogger(Router.class.getName());

    private final List<Consumer<String>> sinks = new CopyOnWriteArrayList<>();

    void add(Consumer<String> sink) {
        sinks.add(sink);
    }

    boolean isEmpty() {
        return sinks.isEmpty();
    }

    void emit(String line) {
        for (Consumer<String> sink : sinks) {
            try {
                sink.accept(line);
            } catch (RuntimeException e) {
                // A broken sink must not break request handling.
                LOG.log(System.Logger.Level.WARNING, "router log sink failed", e);
            }
        }
    }
}
