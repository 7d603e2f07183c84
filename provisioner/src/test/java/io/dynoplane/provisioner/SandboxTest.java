package io.dynoplane.provisioner;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The dyno sandbox on the real kernel (run as root): two dynos of a test app in two test network
 * namespaces, each asserting from its own output what it can see and do, as its process would.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SandboxTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration WAIT = Duration.ofSeconds(15);

    private final List<String> namespaces = new ArrayList<>();
    private final List<DynoProcess> started = new CopyOnWriteArrayList<>();
    private final List<Path> cleanup = new ArrayList<>();
    private String app;
    private Path release;
    private Path hostState; // stands in for the daemon's own state folder
    private DynoSandbox sandbox;
    private NetworkNamespace netnsA, netnsB;

    @BeforeEach
    void setUp() throws IOException {
        app = "sbx-" + hex();
        release = tempDir("dpt-release-");
        Files.writeString(release.resolve("release.txt"), "release of " + app + "\n");
        Files.createDirectories(release.resolve("bin"));
        Files.writeString(release.resolve("bin/hello.sh"), "echo hello from $DYNO\n");
        hostState = tempDir("dpt-state-");
        Files.writeString(hostState.resolve("daemon-secret"), "secret\n");
        sandbox = DynoSandbox.defaults().withRuntimeRoot(hostState.resolve("dynos"));
        netnsA = netns();
        netnsB = netns();
    }

    @AfterEach
    void tearDown() {
        for (DynoProcess p : started) p.stop(Duration.ZERO);
        for (String ns : namespaces) {
            try {
                ip("netns", "delete", ns);
            } catch (AssertionError alreadyGone) {
                // nothing to delete
            }
        }
        for (Path dir : cleanup) deleteRecursively(dir);
    }

    @Test
    void dynosDoNotSeeEachOthersFiles() {
        Dyno a = start(netnsA, "web", 1, """
                echo a > /app/written-by-a; echo a > /tmp/written-by-a; echo a > /dev/shm/written-by-a
                ls /app /tmp; echo ready; exec sleep 60""");
        a.awaitLine("ready"::equals);
        assertThat(a.lines()).contains("written-by-a");

        Dyno b = start(netnsB, "web", 2, """
                for f in /app/written-by-a /tmp/written-by-a /dev/shm/written-by-a; do [ -e "$f" ] && echo "LEAK $f"; done
                find / \\( -path /proc -o -path /usr -o -path /etc \\) -prune -o -name 'written-by-a' -print 2>/dev/null
                cat /app/release.txt; ls /tmp | wc -l""");
        assertThat(b.awaitExit()).isZero();
        assertThat(b.lines()).containsExactly("release of " + app, "0");
        assertThat(release.resolve("written-by-a")).doesNotExist(); // /app is a copy, not the release
    }

    @Test
    void writtenFilesAreGoneAfterRestart() {
        String script = """
                [ -e /app/written ] && echo "OLD /app/written"; [ -e /tmp/written ] && echo "OLD /tmp/written"
                cat /app/release.txt; sh /app/bin/hello.sh
                rm /app/release.txt; echo x > /app/written; echo x > /tmp/written; echo ready; exec sleep 60""";
        Dyno first = start(netnsA, "web", 1, script);
        first.awaitLine("ready"::equals);
        assertThat(first.process.stop(Duration.ofSeconds(5))).isFalse();
        assertThat(first.lines()).startsWith("release of " + app, "hello from web.1");

        Dyno second = start(netnsA, "web", 1, script);
        second.awaitLine("ready"::equals);
        assertThat(second.lines()).containsExactly("release of " + app, "hello from web.1", "ready");
        assertThat(release.resolve("release.txt")).exists();
    }

    @Test
    void seesOnlyItsOwnProcessesAndItsHostname() {
        Dyno a = start(netnsA, "web", 1, "exec python3 -c \"import time; print('ready', flush=True); time.sleep(60)\"");
        a.awaitLine("ready"::equals);
        Dyno b = start(netnsB, "web", 2, """
                sleep 60 &
                for p in /proc/[0-9]*; do read -r comm < "$p/comm"; echo "pid ${p#/proc/} $comm"; done
                cat /proc/sys/kernel/hostname; hostname
                kill $!""");
        assertThat(b.awaitExit()).isZero();
        List<String> pids = b.lines().stream().filter(l -> l.startsWith("pid ")).toList();
        // pid 1 is the init, then the command's shell and its sleep: nothing of the host nor of dyno A (python3)
        assertThat(pids).contains("pid 1 sh").allMatch(l -> l.endsWith(" sh") || l.endsWith(" sleep")).hasSize(3);
        assertThat(b.lines()).containsSequence(app + ".web.2", app + ".web.2");
        assertThat(b.process.hostname()).isEqualTo(app + ".web.2");
    }

    @Test
    void cannotReachTheDaemonsState() throws IOException {
        Path rootMarker = Path.of("/root", ".dpt-marker-" + hex());
        Files.writeString(rootMarker, "host\n");
        cleanup.add(rootMarker);
        String probes = String.join(" ", hostState.toString(), hostState.resolve("daemon-secret").toString(), sandbox.runtimeRoot().toString(),
                rootMarker.toString(), "/root", "/home", "/run", "/run/netns", "/var", "/var/lib/dynoplane", "/sys", "/sys/fs/bpf",
                "/sys/fs/cgroup", "/mnt", "/work", "/opt", release.toString());
        Dyno d = start(netnsA, "web", 1, """
                for p in %s; do [ -e "$p" ] && echo "VISIBLE $p"; done
                find / \\( -path /proc -o -path /usr -o -path /etc \\) -prune -o \\( -name daemon-secret -o -name '.dpt-marker-*' -o -name init.sh \\) -print 2>/dev/null
                ls -a /; ls /dev""".formatted(probes));
        assertThat(d.awaitExit()).isZero();
        assertThat(d.lines()).noneMatch(l -> l.startsWith("VISIBLE") || l.startsWith("/"));
        assertThat(d.lines()).containsSubsequence(".", "..", "app", "bin", "dev", "etc", "lib", "proc", "tmp", "usr");
        assertThat(d.lines()).doesNotContain("root", "home", "run", "var", "sys", "boot", "mnt", "work");
        assertThat(d.lines()).containsSubsequence("fd", "full", "null", "random", "shm", "stderr", "stdin", "stdout", "urandom", "zero");
    }

    @Test
    void mountsOnlyItsTmpfsesAndTheReadOnlyStack() {
        Dyno d = start(netnsA, "web", 1, "cat /proc/self/mountinfo");
        assertThat(d.awaitExit()).isZero();
        Map<String, String> mounts = new java.util.TreeMap<>(); // mount point -> "fstype options"
        for (String line : d.lines()) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            assertThat(mounts.put(f[4], f[dash + 1] + " " + f[5])).as("mounted twice: %s", f[4]).isNull();
        }
        // nothing of the host's tree remains (pivot_root + umount -l), not even stacked under the root
        assertThat(mounts.keySet()).containsExactlyInAnyOrder("/", "/usr", "/etc", "/etc/hosts", "/tmp", "/proc", "/dev",
                "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/shm");
        assertThat(mounts.get("/")).startsWith("tmpfs rw,nosuid,nodev");
        assertThat(mounts.get("/tmp")).startsWith("tmpfs rw,nosuid,nodev");
        assertThat(mounts.get("/dev/shm")).startsWith("tmpfs rw,nosuid,nodev");
        assertThat(mounts.get("/proc")).startsWith("proc rw,nosuid,nodev,noexec");
        for (String stack : List.of("/usr", "/etc", "/etc/hosts")) assertThat(mounts.get(stack)).as(stack).contains(" ro,nosuid,nodev");
    }

    @Test
    void cannotReconfigureTheNetworkOpenRawSocketsOrLoadBpf() throws Exception {
        Path probe = release.resolve("probe.py");
        Files.writeString(probe, """
                import ctypes, socket, struct, subprocess, sys
                r = subprocess.run(["ip", "addr", "add", "10.99.0.1/32", "dev", "lo"], capture_output=True, text=True)
                print("ip", r.returncode, r.stderr.strip())
                try:
                    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
                    print("raw socket opened")
                except PermissionError as e:
                    print("raw PermissionError", e.errno)
                libc = ctypes.CDLL(None, use_errno=True)
                libc.syscall.restype = ctypes.c_long
                insns = (ctypes.c_uint64 * 2)(0xb7, 0x95)  # r0 = 0; exit
                license = ctypes.create_string_buffer(b"GPL")
                attr = ctypes.create_string_buffer(128)
                struct.pack_into("=IIQQ", attr, 0, 1, 2, ctypes.addressof(insns), ctypes.addressof(license))  # SOCKET_FILTER
                fd = libc.syscall(321, 5, attr, 128)  # bpf(BPF_PROG_LOAD)
                print("bpf", fd, ctypes.get_errno() if fd < 0 else "loaded")
                """);
        // the probe's BPF program is valid: root on the host loads it
        Process host = new ProcessBuilder("/usr/bin/python3", probe.toString()).redirectErrorStream(true).start();
        String hostOut = new String(host.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        host.waitFor();
        assertThat(hostOut).contains("bpf ").contains("loaded");

        Dyno d = start(netnsA, "web", 1, "python3 /app/probe.py");
        assertThat(d.awaitExit()).isZero();
        assertThat(d.lines()).hasSize(3);
        assertThat(d.lines().get(0)).startsWith("ip 2").contains("Operation not permitted");
        assertThat(d.lines().get(1)).isEqualTo("raw PermissionError 1");
        assertThat(d.lines().get(2)).isEqualTo("bpf -1 1"); // EPERM
    }

    @Test
    void runsUnprivilegedWithItsOwnEnvironment() {
        Map<String, String> config = Map.of("GREETING", "it's \"quoted\" $HOME `x`\nsecond line");
        Dyno d = start(netnsA, "web", 1, 5000, config, DynoSize.DEFAULT.memoryBytes(), """
                id -u; id -g; id -G; pwd
                grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status
                tr '\\0\\n' '\\n|' < /proc/$$/environ | sort""");
        assertThat(d.awaitExit()).isZero();
        assertThat(d.lines()).startsWith("100000", "100000", "100000", "/app",
                "CapInh:\t0000000000000000", "CapPrm:\t0000000000000000", "CapEff:\t0000000000000000",
                "CapBnd:\t0000000000000000", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1");
        assertThat(d.lines().subList(10, d.lines().size())).containsExactly(
                "DYNO=web.1", "GREETING=it's \"quoted\" $HOME `x`|second line", "HOME=/app",
                "PATH=/usr/local/bin:/usr/bin:/bin", "PORT=5000", "PWD=/app");
    }

    @Test
    void isOomKilledBeyondItsMemoryLimit() {
        Dyno d = start(netnsA, "worker", 1, null, Map.of(), 64L << 20,
                "python3 -c \"x = b'a' * (256 << 20); print('survived', len(x))\"");
        assertThat(d.awaitExit()).isEqualTo(128 + 9);
        assertThat(d.process.oomKills()).isGreaterThanOrEqualTo(1);
        assertThat(d.lines()).noneMatch(l -> l.startsWith("survived"));
        assertThat(d.process.memoryLimitBytes()).isEqualTo(64L << 20);
        d.process.stop(Duration.ZERO);
        assertThat(d.process.oomKills()).isGreaterThanOrEqualTo(1); // still known once the cgroup is gone
    }

    @Test
    void stopDeliversSigtermToTheCommand() {
        Dyno d = start(netnsA, "web", 1, """
                trap 'echo got TERM; exit 0' TERM
                sleep 60 & echo ready; wait""");
        d.awaitLine("ready"::equals);
        List<ProcessHandle> members = dynoProcesses(d.process);
        assertThat(members).hasSizeGreaterThanOrEqualTo(4); // launcher, init, command, sleep
        assertThat(d.process.memoryBytes()).isPositive();

        java.util.concurrent.atomic.AtomicBoolean graceExpired = new java.util.concurrent.atomic.AtomicBoolean();
        assertThat(d.process.stop(Duration.ofSeconds(10), () -> graceExpired.set(true))).isFalse();
        assertThat(graceExpired).isFalse();
        assertThat(d.lines()).contains("got TERM");
        assertThat(d.process.exitValue()).isZero();
        assertGone(d.process, members);
    }

    @Test
    void stopKillsACommandIgnoringSigtermAfterTheGrace() {
        Dyno d = start(netnsA, "web", 1, """
                trap '' TERM
                echo ready; while :; do sleep 1; done""");
        d.awaitLine("ready"::equals);
        List<ProcessHandle> members = dynoProcesses(d.process);

        long t0 = System.nanoTime();
        java.util.concurrent.atomic.AtomicLong graceExpiredAt = new java.util.concurrent.atomic.AtomicLong();
        assertThat(d.process.stop(Duration.ofMillis(300), () -> graceExpiredAt.set(System.nanoTime()))).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(Duration.ofNanos(graceExpiredAt.get() - t0)).as("told before the SIGKILL, at the deadline").isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(d.process.isAlive()).isFalse();
        assertThat(d.process.exitValue()).isEqualTo(128 + 9);
        assertGone(d.process, members);
        assertThat(d.process.stop(Duration.ZERO)).isTrue(); // idempotent
    }

    @Test
    void attachedHandsTheCommandsStreamsToTheCaller() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        DynoSpec spec = new DynoSpec(app, "run", 1, "read line; echo \"got $line in $DYNO\"; echo oops >&2; exit 3", release, Map.of(), null);
        DynoProcess p = DynoProcess.start(spec, netnsA, sandbox, DynoSize.DEFAULT.memoryBytes(), true, log::add);
        started.add(p);
        p.stdin().write("hello\n".getBytes(StandardCharsets.UTF_8));
        p.stdin().close();
        assertThat(new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("got hello in run.1\n");
        assertThat(new String(p.stderr().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("oops\n");
        assertThat(p.onExit().get(15, TimeUnit.SECONDS).exitValue()).isEqualTo(3);
        p.stop(Duration.ZERO);
        assertThat(log).isEmpty();
    }

    @Test
    void bootsTheHelloExample() throws Exception {
        Path hello = Path.of("").toAbsolutePath().getParent().resolve("examples/hello");
        assumeThat(hello.resolve("server.py")).exists();
        DynoSpec spec = new DynoSpec(app, "web", 1, "exec python3 server.py", hello, Map.of(), 5000);
        Dyno d = new Dyno(spec, netnsA);
        d.awaitLine(l -> l.endsWith("listening on port 5000"));
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!d.process.listensOn(5000)) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            try {
                d.process.onExit().get(5, TimeUnit.MILLISECONDS); // no event for "bound": poll, as the plane's boot check does
            } catch (TimeoutException stillUp) {
                // look again
            }
        }
        Process curl = new ProcessBuilder("ip", "netns", "exec", netnsA.name(), "/usr/bin/python3", "-c",
                "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:5000/', timeout=5).read().decode(), end='')")
                .redirectErrorStream(true).start();
        assertThat(new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("Hello from web.1\n");
        assertThat(d.process.stop(Duration.ofSeconds(10))).isFalse();
    }

    // --- helpers ---

    /** A started dyno and its log. */
    private final class Dyno {
        final DynoProcess process;
        private final List<String> lines = new ArrayList<>();
        private boolean exited;
        private long exitedAt;

        Dyno(DynoSpec spec, NetworkNamespace netns) {
            this(spec, netns, DynoSize.DEFAULT.memoryBytes());
        }

        Dyno(DynoSpec spec, NetworkNamespace netns, long memoryBytes) {
            process = DynoProcess.start(spec, netns, sandbox, memoryBytes, this::add);
            started.add(process);
            process.onExit().thenRun(this::exited);
        }

        private synchronized void add(String line) {
            lines.add(line);
            notifyAll();
        }

        synchronized List<String> lines() { return List.copyOf(lines); }

        synchronized void awaitLine(Predicate<String> wanted) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (lines.stream().noneMatch(wanted)) {
                // once the process is gone, the rest of its log is already in the pipe: a second is plenty
                if (exited) deadline = Math.min(deadline, exitedAt + 1_000_000_000L);
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no such line; dyno log: " + lines + (process.isAlive() ? "" : ", exit " + process.exitValue()));
                }
                try {
                    wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        }

        private synchronized void exited() {
            exited = true;
            exitedAt = System.nanoTime();
            notifyAll();
        }

        /** Exit status once the process ended and its log is read to the end (stop() waits for that). */
        int awaitExit() {
            process.onExit().orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
            process.stop(Duration.ZERO);
            return process.exitValue();
        }
    }

    private Dyno start(NetworkNamespace netns, String type, int index, String command) {
        return start(netns, type, index, "web".equals(type) ? 5000 : null, Map.of(), DynoSize.DEFAULT.memoryBytes(), command);
    }

    private Dyno start(NetworkNamespace netns, String type, int index, Integer port, Map<String, String> config, long memoryBytes, String command) {
        return new Dyno(new DynoSpec(app, type, index, command, release, config, port), netns, memoryBytes);
    }

    /** Every process in the dyno's memory cgroup: the launcher, pid 1 and all the command runs. */
    private static List<ProcessHandle> dynoProcesses(DynoProcess process) {
        try {
            return Files.readAllLines(process.cgroupDir().resolve("cgroup.procs")).stream()
                    .map(pid -> ProcessHandle.of(Long.parseLong(pid.trim())).orElseThrow()).toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertGone(DynoProcess process, List<ProcessHandle> members) {
        assertThat(process.isAlive()).isFalse();
        assertThat(members).noneMatch(ProcessHandle::isAlive);
        assertThat(process.cgroupDir()).doesNotExist();
        assertThat(process.runtimeDir()).doesNotExist();
    }

    private NetworkNamespace netns() {
        String name = "dpt-" + hex();
        ip("netns", "add", name);
        namespaces.add(name);
        ip("-n", name, "link", "set", "lo", "up");
        return new NetworkNamespace(name);
    }

    private static void ip(String... args) {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) throw new AssertionError(String.join(" ", command) + " failed: " + out);
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private Path tempDir(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(prefix);
        cleanup.add(dir);
        return dir;
    }

    private static String hex() {
        byte[] bytes = new byte[3];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static void deleteRecursively(Path path) {
        if (!Files.exists(path)) return;
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new AssertionError("cleaning up " + path, e);
        }
    }
}
