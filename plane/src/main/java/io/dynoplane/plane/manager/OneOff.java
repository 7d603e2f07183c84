package io.dynoplane.plane.manager;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;

/**
 * A one-off dyno ({@code run.N}): the app's release running one command, with the same isolation and
 * egress as any dyno, never restarted. Attached, its standard streams are the caller's; detached, its
 * output goes to the app's logs and the streams are empty.
 */
public interface OneOff {
    /** {@code run.1}, {@code run.2}, ... */
    String name();

    /** The command's standard input (attached only; closing it sends EOF). */
    OutputStream stdin();

    /** The command's standard output (attached only). */
    InputStream stdout();

    /** The command's standard error (attached only). */
    InputStream stderr();

    /** Completes with the command's exit status once the dyno is gone (unwired). */
    CompletableFuture<Integer> exit();

    /** SIGTERM, then SIGKILL after the grace period. */
    void stop();
}
