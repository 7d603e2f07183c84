package io.dynoplane.provisioner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The process of one dyno, started inside its network namespace with {@code $PORT} and
 * {@code $DYNO}; stdout and stderr are read line by line into the log sink.
 */
public final class DynoProcess {
    private static final String PATH = "/usr/local/bin:/usr/bin:/bin";

    private final Process process;
    private final NetworkNamespace netns;
    private final CompletableFuture<Void> outputDrained;

    private DynoProcess(Process process, NetworkNamespace netns, CompletableFuture<Void> outputDrained) {
        this.process = process;
        this.netns = netns;
        this.outputDrained = outputDrained;
    }

    static DynoProcess start(DynoSpec spec, NetworkNamespace netns, Consumer<String> logLine) {
        // `ip netns exec` enters the namespace in the child, so no JVM thread ever changes namespace.
        ProcessBuilder builder = new ProcessBuilder(List.of("ip", "netns", "exec", netns.name(), "/bin/sh", "-c", spec.command()))
                .directory(spec.releaseDir().toFile())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Map<String, String> env = builder.environment();
        env.clear();
        env.put("PATH", PATH);
        env.put("HOME", spec.releaseDir().toString());
        env.putAll(spec.config());
        env.put("DYNO", spec.name());
        if (spec.port() != null) env.put("PORT", Integer.toString(spec.port()));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new ProvisioningException("starting dyno " + spec.app() + "/" + spec.name() + " (" + spec.command() + "): " + e.getMessage(), e);
        }
        CompletableFuture<Void> drained = new CompletableFuture<>();
        Thread.ofVirtual().name("log-" + spec.app() + "-" + spec.name()).start(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) logLine.accept(line);
            } catch (IOException closedOnKill) {
                // the pipe closes when the dyno is killed
            } finally {
                drained.complete(null);
            }
        });
        return new DynoProcess(process, netns, drained);
    }

    public long pid() { return process.pid(); }

    public boolean isAlive() { return process.isAlive(); }

    public CompletableFuture<Process> onExit() { return process.onExit(); }

    public int exitValue() { return process.exitValue(); }

    /**
     * True once a socket in the dyno's namespace listens on TCP {@code port} (what Heroku's boot
     * check waits for), read from the namespace's own /proc/PID/net/tcp{,6}.
     */
    public boolean listensOn(int port) {
        String hexPort = String.format(":%04X", port);
        for (String table : List.of("tcp", "tcp6")) {
            Path path = Path.of("/proc", Long.toString(process.pid()), "net", table);
            try {
                for (String line : Files.readAllLines(path)) {
                    String[] f = line.trim().split("\\s+");
                    // local_address is field 1 (ADDR:PORT in hex), st is field 3; 0A = LISTEN
                    if (f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("0A")) return true;
                }
            } catch (IOException processGone) {
                return false;
            } catch (UncheckedIOException processGone) {
                return false;
            }
        }
        return false;
    }

    /**
     * Stops every process in the dyno's namespace: SIGTERM, then SIGKILL after {@code grace}
     * (Heroku: 30 s, R12). Returns true if SIGKILL was needed.
     */
    public boolean stop(Duration grace) {
        boolean killed = false;
        List<ProcessHandle> members = netns.processes();
        members.forEach(ProcessHandle::destroy);
        process.destroy();
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle member : members) {
            long left = deadline - System.nanoTime();
            try {
                member.onExit().get(Math.max(left, 0), TimeUnit.NANOSECONDS);
            } catch (Exception notYet) {
                killed = true;
            }
        }
        if (killed || process.isAlive()) {
            netns.processes().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        // Reap: the namespace must be empty before its veth and pin go.
        for (ProcessHandle member : netns.processes()) {
            member.destroyForcibly();
            member.onExit().join();
        }
        process.onExit().join();
        outputDrained.orTimeout(5, TimeUnit.SECONDS).exceptionally(t -> null).join();
        return killed;
    }
}
