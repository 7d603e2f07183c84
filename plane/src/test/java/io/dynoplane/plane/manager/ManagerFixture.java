package io.dynoplane.plane.manager;

import io.dynoplane.plane.LogLine;
import io.dynoplane.plane.Procfile;
import io.dynoplane.provisioner.IsolationPlane;
import io.dynoplane.provisioner.Provisioner;
import io.dynoplane.provisioner.ProvisionerConfig;
import io.dynoplane.router.Backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A dyno manager on the real provisioner, with a pool, state folder and guard pins of its own, recording
 * every log line and every route table it publishes; {@link #close()} leaves no dyno, namespace or pin.
 */
final class ManagerFixture implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(20);

    final String app = "mgr-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    final Path state;
    final ProvisionerConfig provisionerConfig;
    final IsolationPlane isolation;
    final Provisioner provisioner;
    final DynoManager manager;
    private final List<LogLine> logs = new ArrayList<>();
    private final List<Map<String, List<Backend>>> routes = new ArrayList<>();
    private final List<Path> releases = new ArrayList<>();

    ManagerFixture(ManagerConfig config) throws IOException {
        state = Files.createTempDirectory(app + "-state");
        // A pool and state folder of this run's own: nothing another test or plane runs is touched.
        provisionerConfig = new ProvisionerConfig("172.29." + ThreadLocalRandom.current().nextInt(256) + ".0/24", state);
        isolation = IsolationPlane.open(provisionerConfig.bpfPins());
        provisioner = new Provisioner(provisionerConfig, isolation);
        manager = new DynoManager(provisioner, config, this::log, this::route);
    }

    /** A release folder with {@code files} (name to content); its Procfile from {@code procfile}. */
    AppState.Release release(int version, Map<String, String> config, Map<String, String> procfile, Map<String, String> files) throws IOException {
        Path dir = Files.createTempDirectory(app + "-v" + version);
        releases.add(dir);
        StringBuilder lines = new StringBuilder();
        procfile.forEach((type, command) -> lines.append(type).append(": ").append(command).append('\n'));
        Files.writeString(dir.resolve("Procfile"), lines);
        for (Map.Entry<String, String> f : files.entrySet()) Files.writeString(dir.resolve(f.getKey()), f.getValue());
        return new AppState.Release(version, dir, config, Procfile.read(dir));
    }

    AppState state(AppState.Release release, Map<String, Integer> formation) {
        return new AppState(app, 0, false, release, formation);
    }

    private synchronized void log(String app, LogLine line) {
        if (app.equals(this.app)) logs.add(line);
        notifyAll();
    }

    private synchronized void route(Map<String, List<Backend>> table) {
        routes.add(table);
        notifyAll();
    }

    synchronized List<LogLine> logs() { return List.copyOf(logs); }

    synchronized List<Map<String, List<Backend>>> routes() { return List.copyOf(routes); }

    /** The log lines of {@code process} from source heroku or app, as {@code heroku: message}. */
    List<LogLine> linesOf(String process) {
        return logs().stream().filter(l -> l.process().equals(process)).toList();
    }

    /** Waits for the {@code n}-th line (1-based) matching; fails with the log if it does not come. */
    synchronized LogLine await(Predicate<LogLine> wanted, int n) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            List<LogLine> matching = logs.stream().filter(wanted).toList();
            if (matching.size() >= n) return matching.get(n - 1);
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new AssertionError("log line #" + n + " never came; log:\n" + String.join("\n", logs.stream().map(LogLine::toString).toList()));
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** The {@code n}-th heroku line of {@code process} that is exactly {@code message}. */
    LogLine await(String process, String message, int n) {
        return await(l -> l.process().equals(process) && l.source().equals("heroku") && l.message().equals(message), n);
    }

    /** The {@code n}-th heroku line of {@code process} starting with {@code prefix}. */
    LogLine awaitPrefix(String process, String prefix, int n) {
        return await(l -> l.process().equals(process) && l.source().equals("heroku") && l.message().startsWith(prefix), n);
    }

    LogLine await(String process, String message) {
        return await(process, message, 1);
    }

    /** Waits until a published route table satisfies {@code wanted}. */
    synchronized void awaitRoutes(Predicate<Map<String, List<Backend>>> wanted) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (routes.isEmpty() || !wanted.test(routes.getLast())) {
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new AssertionError("routes never as wanted; last: " + (routes.isEmpty() ? "none" : routes.getLast()));
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    static long upCount(Map<String, List<Backend>> table, String app) {
        return table.getOrDefault(app, List.of()).stream().filter(b -> b.state() == Backend.State.UP).count();
    }

    @Override
    public void close() throws IOException {
        if (Boolean.getBoolean("manager.log")) logs().forEach(System.out::println);
        try {
            manager.close();
        } finally {
            boolean empty = provisioner.leases().isEmpty();
            provisioner.close();
            if (empty) isolation.removePins();
            else isolation.close();
            for (Path dir : Stream.concat(releases.stream(), Stream.of(state)).toList()) {
                try (Stream<Path> files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }
}
