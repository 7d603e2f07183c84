package io.dynoplane.ffm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/** Runs ip/tc/gcc for the tests, which build their own topology. */
final class Shell {
    private Shell() {}

    /** Runs a command, returns its output (stdout and stderr), fails with it on a non-zero exit. */
    static String run(String... command) {
        Result result = exec(command);
        if (result.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + result.exitCode() + ":\n" + result.output());
        }
        return result.output();
    }

    /** For cleanup: runs a command and ignores how it ends. */
    static void runQuietly(String... command) {
        try {
            exec(command);
        } catch (RuntimeException ignored) {
            // Best effort: the thing may already be gone.
        }
    }

    static Result exec(String... command) {
        try {
            Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish");
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A name unique to this run: prefix + 6 hex digits (interface names must stay within 15 characters). */
    static String uniqueName(String prefix) {
        byte[] random = new byte[3];
        ThreadLocalRandom.current().nextBytes(random);
        return prefix + HexFormat.of().formatHex(random);
    }

    record Result(int exitCode, String output) {}
}
