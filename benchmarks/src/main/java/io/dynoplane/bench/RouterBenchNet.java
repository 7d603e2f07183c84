package io.dynoplane.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What {@link RouterBench} needs around its measurements: the namespaces and child processes a run starts and stops
 * (in a finally and from a shutdown hook), commands, percentiles and the closing JSON line.
 *
 * <p>The same helpers as the shared {@code BenchNet} of the namespace benchmarks (policy, nat), which was not on
 * this branch when the router bench was written; the method names match so the two can be folded together.
 */
final class RouterBenchNet {
    private static final Set<String> LIVE_NETNS = ConcurrentHashMap.newKeySet();
    private static final Set<Process> LIVE_PROCESSES = ConcurrentHashMap.newKeySet();

    private RouterBenchNet() {}

    /** Six hex digits that make this run's names unique. */
    static String runTag() {
        return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    }

    // ---- Namespaces ---------------------------------------------------------------------------------------------

    static void addNetns(String ns) throws IOException, InterruptedException {
        LIVE_NETNS.add(ns);
        ip("netns", "add", ns);
    }

    static void removeNetns(String ns) {
        if (!LIVE_NETNS.remove(ns)) return;
        try {
            ip("netns", "delete", ns);
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("bench: could not delete namespace " + ns + ": " + e.getMessage());
        }
    }

    // ---- Child processes ----------------------------------------------------------------------------------------

    /** Starts {@code command} with its output going to {@code log}; stopped by {@link #stop} or {@link #removeAll}. */
    static Process start(Path log, String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        LIVE_PROCESSES.add(p);
        return p;
    }

    /** Starts {@code command} with its output piped back (wrk); stopped by {@link #stop} or {@link #removeAll}. */
    static Process startPiped(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        LIVE_PROCESSES.add(p);
        return p;
    }

    /** Stops a process this run started, and its descendants (nginx workers): TERM, then KILL after 3 s. */
    static void stop(Process p) {
        if (p == null || !LIVE_PROCESSES.remove(p)) return;
        List<ProcessHandle> tree = Stream.concat(Stream.of(p.toHandle()), p.descendants()).toList();
        tree.forEach(ProcessHandle::destroy);
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(3, TimeUnit.SECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
    }

    /** Everything this run made that is still there: its processes, then its namespaces (their veths go with them). */
    static synchronized void removeAll() {
        for (Process p : List.copyOf(LIVE_PROCESSES)) stop(p);
        for (String ns : List.copyOf(LIVE_NETNS)) removeNetns(ns);
    }

    static Thread hook(String name, Runnable cleanup) {
        Thread hook = new Thread(cleanup, name);
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    static void dropHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) { // shutting down already
        }
    }

    /** Synchronized: the finally and the shutdown hook may both get here (Ctrl-C during a run). */
    static synchronized void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | UncheckedIOException e) {
            System.err.println("bench: could not delete " + dir + ": " + e.getMessage());
        }
    }

    // ---- Commands -----------------------------------------------------------------------------------------------

    static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) return true;
        }
        return Files.isExecutable(Path.of("/usr/sbin", command));
    }

    static void ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        exec("", command.toArray(String[]::new));
    }

    static String exec(String input, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (var stdin = p.getOutputStream()) {
            stdin.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            String shown = out.strip();
            throw new IllegalStateException(String.join(" ", Arrays.asList(command).subList(0, Math.min(command.length, 6))) + ": "
                    + (shown.length() > 2000 ? shown.substring(0, 2000) + "..." : shown));
        }
        return out;
    }

    // ---- Numbers and the JSON line ------------------------------------------------------------------------------

    static double percentile(List<Double> values, double p) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (sorted.length == 0) return Double.NaN;
        double rank = p / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(rank), hi = (int) Math.ceil(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    /** One line of JSON: doubles with two decimals, null for a missing value. */
    static String toJson(Map<String, Object> json) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Object> e : json.entrySet()) {
            if (sb.length() > 1) sb.append(',');
            sb.append('"').append(e.getKey()).append("\":");
            Object v = e.getValue();
            if (v == null) sb.append("null");
            else if (v instanceof Double d) sb.append(d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.2f", d));
            else if (v instanceof Boolean || v instanceof Number) sb.append(v);
            else sb.append('"').append(v).append('"');
        }
        return sb.append('}').toString();
    }
}
