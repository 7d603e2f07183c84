package io.dynoplane.plane.api;

import io.dynoplane.plane.manager.OneOff;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * {@code POST /apps/{app}/dynos}: starts a one-off dyno. Detached, answers 201 with the dyno;
 * attached, answers {@code 101 Switching Protocols} and pipes the dyno's streams through
 * {@link AttachFrames} on the same connection until it exits.
 */
final class OneOffRoute {
    /** After the exit, how long output already in the pipes may take to drain (a child that keeps them open must not hold the caller). */
    private static final Duration DRAIN = Duration.ofSeconds(5);

    private OneOffRoute() {}

    static Reply start(ControlBackend backend, Exchange ex) throws IOException {
        JsonBody body = JsonBody.parse(ex.request().body(), Set.of("command", "attach"));
        String command = body.requiredString("command");
        boolean attach = body.optionalBoolean("attach");
        String app = ex.param("app");
        OneOff oneOff = backend.run(app, command, attach);
        if (!attach) return Reply.created(new OneOffInfo(oneOff.name(), app, command, false, "starting"));
        HttpResponses.head(ex.out(), 101, Map.of("Upgrade", "dynoplane-attach", "Connection", "Upgrade", "Dynoplane-Dyno", oneOff.name()));
        ex.out().flush();
        pipe(oneOff, ex.in(), ex.out());
        return Reply.STREAMED;
    }

    private static void pipe(OneOff oneOff, InputStream in, OutputStream out) throws IOException {
        Thread stdout = Thread.ofVirtual().start(() -> pump(oneOff, oneOff.stdout(), AttachFrames.STDOUT, out));
        Thread stderr = Thread.ofVirtual().start(() -> pump(oneOff, oneOff.stderr(), AttachFrames.STDERR, out));
        Thread.ofVirtual().start(() -> feedStdin(oneOff, in));
        int status = oneOff.exit().join();
        try {
            stdout.join(DRAIN);
            stderr.join(DRAIN);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (out) {
            AttachFrames.writeExit(out, status);
        }
    }

    private static void pump(OneOff oneOff, InputStream from, int stream, OutputStream out) {
        byte[] buffer = new byte[16 * 1024];
        try (from) {
            int n;
            while ((n = from.read(buffer)) >= 0) {
                synchronized (out) {
                    AttachFrames.write(out, stream, buffer, 0, n);
                }
            }
        } catch (IOException e) {
            // The caller is gone: an attached one-off lives only as long as its caller.
            if (!oneOff.exit().isDone()) oneOff.stop();
        }
    }

    private static void feedStdin(OneOff oneOff, InputStream in) {
        OutputStream stdin = oneOff.stdin();
        try {
            AttachFrames.Frame frame;
            while ((frame = AttachFrames.read(in)) != null) {
                if (frame.stream() != AttachFrames.STDIN) throw new IOException("the client may only send stdin frames, got stream " + frame.stream());
                if (frame.payload().length == 0) {
                    stdin.close();
                    continue;
                }
                try {
                    stdin.write(frame.payload());
                    stdin.flush();
                } catch (IOException ignored) {
                    // The command closed its stdin; what the caller types next has nowhere to go.
                }
            }
        } catch (IOException e) {
            // A broken stream is the caller gone, as is the end below.
        }
        if (!oneOff.exit().isDone()) oneOff.stop();
    }
}
