package io.dynoplane.provisioner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Running ip(8), sysctl and the like from the topology tests: output back, a clear failure otherwise. */
final class Commands {
    private Commands() {}

    /** Runs {@code command} (no stdin) and returns its output; throws naming it if it fails or takes over 30 s. */
    static String sh(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish");
            }
            if (p.exitValue() != 0) throw new IllegalStateException(String.join(" ", command) + " exited " + p.exitValue() + ": " + out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** As {@link #sh}, for cleanup: what is already gone is no failure. */
    static void quietly(String... command) {
        try { sh(command); } catch (RuntimeException ignored) { /* already gone */ }
    }
}
