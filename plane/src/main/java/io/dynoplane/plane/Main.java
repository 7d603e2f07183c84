package io.dynoplane.plane;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dynoplane.plane.api.ControlClient;
import io.dynoplane.plane.cli.Cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** The program behind {@code ./dynoplane}: {@code demo}, and every other command through {@link Cli}. */
public final class Main {
    static final ObjectMapper JSON = new ObjectMapper();

    private Main() {}

    public static void main(String[] args) {
        Deque<String> rest = new ArrayDeque<>(List.of(args));
        String command = rest.isEmpty() ? "help" : rest.peek();
        if (command.equals("demo")) {
            rest.pop();
            try {
                Demo.run(Demo.Options.parse(rest));
            } catch (IllegalArgumentException | IllegalStateException e) {
                fail(e.getMessage());
            }
            return;
        }
        System.out.flush();
        System.exit(cli(List.of(args)));
    }

    /** Every command but {@code demo}: the heroku-shaped CLI against the daemon's control socket. */
    static int cli(List<String> args) {
        Cli.Context context = new Cli.Context(new ControlClient(ControlSocket.path()), System.in, System.out, System.err, Main::up);
        int status = new Cli().run(args, context);
        System.out.flush();
        return status;
    }

    /** {@code ./dynoplane up}: the daemon is wired in by the daemon's own change; until then it says so. */
    private static int up(io.dynoplane.plane.cli.Args args) {
        System.err.println("dynoplane: up: not yet: the daemon is not wired in yet (./dynoplane demo runs the plane with one app)");
        return Cli.ERROR;
    }

    static String toJson(Object value) {
        try {
            return JSON.copy().disable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static void fail(String message) {
        System.err.println("dynoplane: " + message);
        System.exit(1);
    }

    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) return line.split("\\s+")[1].equals("0");
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    static void awaitForever() {
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
