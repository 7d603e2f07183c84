package io.dynoplane.plane;

import io.dynoplane.plane.api.ControlClient;
import io.dynoplane.plane.cli.Cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/** The program behind {@code ./dynoplane}: {@code demo}, and every other command through {@link Cli}. */
public final class Main {
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
        Cli.Context context = new Cli.Context(new ControlClient(io.dynoplane.plane.api.ControlApi.defaultPath()), System.in, System.out, System.err, Main::up);
        int status = new Cli().run(args, context);
        System.out.flush();
        return status;
    }

    /** {@code ./dynoplane up}: the daemon in the foreground until Ctrl-C, SIGTERM or {@code ./dynoplane down}. */
    private static int up(io.dynoplane.plane.cli.Args args) {
        Daemon daemon;
        try {
            daemon = DaemonSettings.defaults().with(args.options(), "up").start("up");
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("dynoplane: up: " + e.getMessage());
            return Cli.ERROR;
        }
        System.out.println("Ready. Try: ./dynoplane apps:create NAME; ./dynoplane deploy DIR -a NAME");
        daemon.stopped().join();
        return Cli.OK; // System.exit runs the shutdown hook: dynos stopped, kernel objects removed
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
}
