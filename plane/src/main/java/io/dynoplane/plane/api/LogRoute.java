package io.dynoplane.plane.api;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code GET /apps/{app}/log-sessions?tail=true&dyno=web.1&source=app&lines=N}: the log lines, one
 * per line of a close-delimited text body; with {@code tail}, new lines follow until the client
 * closes the connection.
 */
final class LogRoute {
    private LogRoute() {}

    static Reply stream(ControlBackend backend, Exchange ex) throws IOException {
        LogQuery query = query(ex);
        Sink sink = new Sink(ex.out());
        // The backlog arrives during logs(); the head waits for it so that an unknown app is still a 404.
        try (LogSubscription subscription = backend.logs(ex.param("app"), query, sink)) {
            sink.goLive();
            if (query.tail()) {
                // Nothing more comes from the client; its end is the session's end.
                while (ex.in().read() >= 0) { /* ignore */ }
            }
        }
        return Reply.STREAMED;
    }

    private static LogQuery query(Exchange ex) {
        String tail = ex.query("tail");
        if (tail != null && !tail.equals("true") && !tail.equals("false") && !tail.isEmpty()) throw ApiException.invalid("bad tail '" + tail + "': use true or false");
        String source = ex.query("source");
        if (source != null && !source.equals("app") && !source.equals("heroku")) throw ApiException.invalid("bad source '" + source + "': use app or heroku");
        String dyno = ex.query("dyno");
        if (dyno != null && !dyno.matches("[a-z0-9_-]{1,30}(\\.[0-9]+)?")) throw ApiException.invalid("bad dyno '" + dyno + "': use a dyno (web.1) or a process type (web)");
        int lines = LogQuery.DEFAULT_LINES;
        String n = ex.query("lines");
        if (n != null) {
            try {
                lines = Integer.parseInt(n);
            } catch (NumberFormatException e) {
                lines = -1;
            }
            if (lines < 0 || lines > LogQuery.MAX_LINES) throw ApiException.invalid("bad lines '" + n + "': use 0-" + LogQuery.MAX_LINES);
        }
        return new LogQuery(tail != null && !tail.equals("false"), dyno, source, lines);
    }

    /** Holds lines until the head is out, then writes each as it comes; a gone client silences it. */
    private static final class Sink implements Consumer<String> {
        private final OutputStream out;
        private final List<String> pending = new ArrayList<>();
        private boolean live, broken;

        Sink(OutputStream out) { this.out = out; }

        @Override
        public synchronized void accept(String line) {
            if (broken) return;
            if (!live) {
                pending.add(line);
                return;
            }
            try {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                broken = true;
            }
        }

        synchronized void goLive() throws IOException {
            HttpResponses.head(out, 200, Map.of("Content-Type", "text/plain; charset=utf-8"));
            for (String line : pending) out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            pending.clear();
            live = true;
        }
    }
}
