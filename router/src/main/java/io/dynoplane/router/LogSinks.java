package io.dynoplane.router;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/** Fan-out of router log lines with their app (null: a request for no app). Sinks run on event loops, so they must be quick and non-blocking. */
final class LogSinks {
    private static final System.Logger LOG = System.getLogger(Router.class.getName());

    private final List<BiConsumer<String, String>> sinks = new CopyOnWriteArrayList<>();

    void add(BiConsumer<String, String> sink) {
        sinks.add(sink);
    }

    boolean isEmpty() {
        return sinks.isEmpty();
    }

    void emit(String app, String line) {
        for (BiConsumer<String, String> sink : sinks) {
            try {
                sink.accept(app, line);
            } catch (RuntimeException e) {
                // A broken sink must not break request handling.
                LOG.log(System.Logger.Level.WARNING, "router log sink failed", e);
            }
        }
    }
}
