package io.dynoplane.bench;

import io.dynoplane.ffm.NetworkNamespaces;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * What the namespace benchmarks (policy, nat, router) share: the network namespaces and child processes a run makes
 * and removes (in a finally and from a shutdown hook), commands run in them, sysctls, TCP streams between two of them, percentiles and the
 * closing JSON line.
 */
final class BenchNet {
    private static final Set<String> LIVE_NETNS = ConcurrentHashMap.newKeySet();
    private static final Set<Process> LIVE_PROCESSES = ConcurrentHashMap.newKeySet();

    private BenchNet() {}

    /** Six hex digits that make this run's namespace names unique. */
    static String runTag() {
        return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    }

    // ---- Namespaces ---------------------------------------------------------------------------------------------

    /** Creates namespace {@code ns}, remembered until {@link #removeNetns} or {@link #removeAll}. */
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

    /**
     * Everything this run made that is still there: its child processes, then its namespaces (their veths,
     * nftables tables and iptables rules go with them). Synchronized: the finally and the shutdown hook may both
     * get here (Ctrl-C during a run).
     */
    static synchronized void removeAll() {
        for (Process p : List.copyOf(LIVE_PROCESSES)) stop(p);
        for (String ns : List.copyOf(LIVE_NETNS)) removeNetns(ns);
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

    /**
     * Runs a load generator ({@code command}) to its end, at most {@code timeoutSeconds} (then it is stopped), and
     * returns the line of its output that starts with {@code prefix} (its summary), split at spaces. The output is a
     * few lines, read once it has exited: it fits the pipe.
     */
    static String[] summaryLine(String prefix, long timeoutSeconds, List<String> command) throws IOException, InterruptedException {
        Process p = startPiped(command.toArray(String[]::new));
        String out;
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                throw new IllegalStateException(String.join(" ", command) + ": did not finish in " + timeoutSeconds + " s");
            }
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            stop(p);
        }
        return out.lines().filter(l -> l.startsWith(prefix)).findFirst().map(l -> l.split(" "))
                .orElseThrow(() -> new IllegalStateException(String.join(" ", command) + ": no " + prefix.strip() + " line in: " + out.strip()));
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

    /** Synchronized: the finally and the shutdown hook may both get here. */
    static synchronized void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | UncheckedIOException e) {
            System.err.println("bench: could not delete " + dir + ": " + e.getMessage());
        }
    }

    /** Runs {@code cleanup} at JVM exit (Ctrl-C) unless {@link #dropHook} comes first. */
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

    /** Sets a namespaced sysctl ({@code net.ipv4.ip_forward}) in namespace {@code ns}. */
    static void sysctl(String ns, String key, String value) throws IOException, InterruptedException {
        nsExec(ns, "", "sysctl", "-qw", key + "=" + value);
    }

    static String readSysctl(String ns, String key) throws IOException, InterruptedException {
        return nsExec(ns, "", "sysctl", "-n", key).strip();
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

    /** Runs {@code command} in namespace {@code ns} with {@code input} on its stdin; returns its output. */
    static String nsExec(String ns, String input, String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(command));
        return exec(input, full.toArray(String[]::new));
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

    // ---- Traffic ------------------------------------------------------------------------------------------------

    /**
     * Gbit/s of {@code streams} parallel TCP streams from namespace {@code clientNs} to a listener on {@code to} in
     * {@code serverNs}, counted at the receivers over {@code seconds} after a 0.3 s warm-up.
     */
    static double tcpStreams(String serverNs, String clientNs, InetSocketAddress to, int streams, double seconds) throws Exception {
        ServerSocketChannel server = NetworkNamespaces.inside(serverNs, () -> ServerSocketChannel.open().bind(to, streams));
        AtomicLong received = new AtomicLong();
        List<SocketChannel> clients = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        var stop = new java.util.concurrent.atomic.AtomicBoolean();
        try (server) {
            for (int i = 0; i < streams; i++) {
                SocketChannel client = NetworkNamespaces.inside(clientNs, SocketChannel::open);
                clients.add(client);
                client.socket().connect(to, 5_000);
                SocketChannel accepted = server.accept();
                threads.add(Thread.ofPlatform().name("bench-stream-reader-" + i).start(() -> {
                    ByteBuffer in = ByteBuffer.allocateDirect(1 << 18);
                    try (accepted) {
                        int r;
                        while ((r = accepted.read(in.clear())) >= 0) received.addAndGet(r);
                    } catch (IOException ignored) { // the writer closed
                    }
                }));
                threads.add(Thread.ofPlatform().name("bench-stream-writer-" + i).start(() -> {
                    ByteBuffer out = ByteBuffer.allocateDirect(1 << 17);
                    try {
                        while (!stop.get()) client.write(out.clear());
                        client.shutdownOutput();
                    } catch (IOException ignored) { // closed under it
                    }
                }));
            }
            Thread.sleep(300);
            long bytesAtWarm = received.get(), warmAt = System.nanoTime();
            Thread.sleep((long) (seconds * 1000));
            long bytes = received.get() - bytesAtWarm, endAt = System.nanoTime();
            stop.set(true);
            for (Thread t : threads) t.join(5_000);
            return bytes * 8 / ((endAt - warmAt) / 1e9) / 1e9;
        } finally {
            stop.set(true);
            for (SocketChannel c : clients) c.close();
        }
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
            appendJson(sb, e.getValue());
        }
        return sb.append('}').toString();
    }

    /** A value of {@link #toJson}: null, a number (doubles to 2 places, NaN as null), a boolean, a list of those, or a string. */
    private static void appendJson(StringBuilder sb, Object v) {
        if (v == null) sb.append("null");
        else if (v instanceof Double d) sb.append(d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.2f", d));
        else if (v instanceof Boolean || v instanceof Number) sb.append(v);
        else if (v instanceof List<?> list) {
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) sb.append(',');
                appendJson(sb, list.get(i));
            }
            sb.append(']');
        } else sb.append('"').append(v).append('"');
    }

    static String mac(byte[] mac) {
        StringBuilder sb = new StringBuilder();
        for (byte b : mac) sb.append(sb.isEmpty() ? "" : ":").append(String.format("%02x", b & 0xff));
        return sb.toString();
    }
}
