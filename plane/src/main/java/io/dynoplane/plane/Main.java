package io.dynoplane.plane;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** The CLI behind {@code ./dynoplane}: {@code demo}, {@code ps}. */
public final class Main {
    static final ObjectMapper JSON = new ObjectMapper();

    private Main() {}

    public static void main(String[] args) {
        Deque<String> rest = new ArrayDeque<>(List.of(args));
        String command = rest.isEmpty() ? "help" : rest.pop();
        try {
            switch (command) {
                case "demo" -> Demo.run(Demo.Options.parse(rest));
                case "ps" -> ps(rest);
                case "help", "--help", "-h" -> usage();
                default -> fail("unknown command '" + command + "'; try ./dynoplane help");
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            fail(e.getMessage());
        }
    }

    private static void ps(Deque<String> args) throws IllegalArgumentException {
        boolean json = false;
        for (String a : args) {
            if (a.equals("--json")) json = true;
            else throw new IllegalArgumentException("ps: unknown option '" + a + "'");
        }
        Path socket = ControlSocket.path();
        String body = ControlSocket.get(socket, "/dynos");
        if (body == null) throw new IllegalStateException("no plane is running (nothing answers on " + socket + "); start one with ./dynoplane demo");
        if (json) {
            System.out.println(body);
            return;
        }
        try {
            DynoStatus[] dynos = JSON.readValue(body, DynoStatus[].class);
            System.out.printf("%-10s %-12s %-9s %-15s %-22s %s%n", "DYNO", "APP", "STATE", "ADDRESS", "NETNS", "PID");
            for (DynoStatus d : dynos) {
                System.out.printf("%-10s %-12s %-9s %-15s %-22s %d%n", d.name(), d.app(), d.state(), d.address(), d.netns(), d.pid());
            }
        } catch (IOException e) {
            throw new IllegalStateException("the plane answered something that is not a dyno list: " + e.getMessage());
        }
    }

    static String toJson(Object value) {
        try {
            return JSON.copy().disable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void usage() {
        System.out.println("""
                usage: ./dynoplane COMMAND
                  demo [--port N] [--admin-port N] [--web N] [--app DIR] [--state DIR] [--pool CIDR] [--uplink IFACE]
                                                          run the plane with the example app until Ctrl-C
                  ps [--json]                             list the dynos of the running plane
                  test                                    run every test
                  bench NAME [options]                    run a benchmark (smoke)""");
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
