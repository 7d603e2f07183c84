package io.dynoplane.provisioner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The process of one dyno, in its sandbox. The launch chain, all execs but one fork:
 * <pre>
 * sh -c 'echo $$ &gt; CGROUP/cgroup.procs; exec ...'          joins the dyno's memory cgroup (so does all it forks)
 *  nsenter --net=/run/netns/NETNS                        enters the dyno's network namespace (no fork: {@link #pid()} is in it)
 *   unshare --pid --fork --mount --uts --ipc --cgroup    new namespaces; forks pid 1 of the new PID namespace
 *     sh init.sh ...     (pid 1, root)                   builds the root tmpfs, pivot_root, hostname
 *      setpriv ... env -i sh -c INIT   (pid 1, uid 100000, no caps, no_new_privs)
 *        sh -c COMMAND   (child of pid 1)                the dyno's command, cwd /app, its own environment
 * </pre>
 * The dyno's environment (config vars, {@code $PORT}, {@code $DYNO}, {@code HOME=/app}) travels on
 * the launcher's stdin to the unprivileged init, never through a root process's environment (an
 * app's {@code LD_PRELOAD} must not reach the root setup) nor a command line (world-readable).
 * stdout and stderr of every process of the dyno are read line by line into the log sink.
 */
public final class DynoProcess {
    private static final System.Logger LOG = System.getLogger(DynoProcess.class.getName());
    private static final String PATH = "/usr/local/bin:/usr/bin:/bin";
    private static final String LAUNCH_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final int HOST_NAME_MAX = 64;
    private static final long SIGTERM_MASK = 1L << (15 - 1);
    private static final Duration CLEANUP_TIMEOUT = Duration.ofSeconds(5);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long LOG_READER_STACK = 256 * 1024;
    private static final String INIT_SCRIPT = loadInitScript();

    private final Process process;
    private final NetworkNamespace netns;
    private final DynoSandbox sandbox;
    private final MemoryCgroup cgroup;
    private final Path runtimeDir;
    private final String hostname;
    private final CompletableFuture<Void> outputDrained;
    private final OutputStream stdin;
    private volatile Boolean stopped;
    private final Object bootCheckLock = new Object();
    private ListenQueue bootCheck; // guarded by bootCheckLock; opened by the first boot check, closed when stopped

    private DynoProcess(Process process, NetworkNamespace netns, DynoSandbox sandbox, MemoryCgroup cgroup,
                        Path runtimeDir, String hostname, CompletableFuture<Void> outputDrained, OutputStream stdin) {
        this.process = process;
        this.netns = netns;
        this.sandbox = sandbox;
        this.cgroup = cgroup;
        this.runtimeDir = runtimeDir;
        this.hostname = hostname;
        this.outputDrained = outputDrained;
        this.stdin = stdin;
    }

    /** A {@link DynoSize#DEFAULT} dyno in the {@link DynoSandbox#defaults() default sandbox}. */
    static DynoProcess start(DynoSpec spec, NetworkNamespace netns, Consumer<String> logLine) {
        return start(spec, netns, DynoSandbox.defaults(), DynoSize.DEFAULT, logLine);
    }

    static DynoProcess start(DynoSpec spec, NetworkNamespace netns, DynoSandbox sandbox, DynoSize size, Consumer<String> logLine) {
        return start(spec, netns, sandbox, size.memoryBytes(), logLine);
    }

    /**
     * Starts the dyno's command in its sandbox, in {@code netns} (which must exist), with a memory
     * limit of {@code memoryBytes}. Returns once the launcher runs; the sandbox is built by then or
     * shortly after (a failure to build it shows in the log and as the exit status).
     */
    static DynoProcess start(DynoSpec spec, NetworkNamespace netns, DynoSandbox sandbox, long memoryBytes, Consumer<String> logLine) {
        return start(spec, netns, sandbox, memoryBytes, false, logLine);
    }

    /**
     * As above; {@code attached}: the command's stdin, stdout and stderr are the caller's ({@link #stdin()},
     * {@link #stdout()}, {@link #stderr()}) instead of /dev/null and the log ({@code logLine} unused), as for
     * an attached one-off dyno.
     */
    static DynoProcess start(DynoSpec spec, NetworkNamespace netns, DynoSandbox sandbox, long memoryBytes, boolean attached, Consumer<String> logLine) {
        String dyno = spec.app() + "/" + spec.name();
        String environment = environmentScript(spec);
        Path release = spec.releaseDir().toAbsolutePath().normalize();
        if (!Files.isDirectory(release)) throw new ProvisioningException("release of dyno " + dyno + " is not a directory: " + release);
        try {
            Files.getAttribute(netns.pin(), "unix:ino"); // the namespace is pinned (ip netns can see it), or nothing starts
        } catch (IOException e) {
            throw new ProvisioningException("network namespace " + netns.name() + " of dyno " + dyno + " is not pinned at " + netns.pin(), e);
        }
        String hostname = hostnameOf(spec);
        Path runtimeDir = sandbox.runtimeRoot().resolve(netns.name());
        prepareRuntimeDir(runtimeDir);
        MemoryCgroup cgroup;
        try {
            cgroup = MemoryCgroup.create(sandbox.cgroupParentOrCurrent(), netns.name() + "." + String.format("%06x", RANDOM.nextInt(1 << 24)), memoryBytes);
        } catch (RuntimeException e) {
            deleteRecursively(runtimeDir);
            throw e;
        }
        List<String> command = List.of(
                "/bin/sh", "-c", "echo $$ > \"$0\" && exec \"$@\"", cgroup.procsFile().toString(),
                // A session of its own: a terminal's Ctrl-C reaches the plane, never a dyno directly.
                "setsid", "nsenter", "--net=" + netns.pin(), "--",
                "unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--cgroup", "--propagation", "private", "--kill-child=SIGKILL", "--",
                "/bin/sh", runtimeDir.resolve("init.sh").toString(),
                runtimeDir.toString(), release.toString(), Integer.toString(sandbox.uid()), Integer.toString(sandbox.gid()),
                hostname, Long.toString(memoryBytes), spec.command());
        ProcessBuilder builder = new ProcessBuilder(command).directory(new java.io.File("/")).redirectErrorStream(!attached);
        builder.environment().clear();
        builder.environment().put("PATH", LAUNCH_PATH);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            cgroup.remove(CLEANUP_TIMEOUT);
            deleteRecursively(runtimeDir);
            throw new ProvisioningException("starting dyno " + dyno + " (" + spec.command() + "): " + e.getMessage(), e);
        }
        // A header (the environment's length, whether stdin follows) so the init reads exactly the environment
        // and leaves the rest of the stream to the command.
        byte[] env = environment.getBytes(StandardCharsets.UTF_8);
        byte[] header = (env.length + " " + (attached ? "attached" : "detached") + "\n").getBytes(StandardCharsets.US_ASCII);
        CompletableFuture<Void> drained = new CompletableFuture<>();
        if (attached) {
            try {
                OutputStream in = process.getOutputStream();
                in.write(header);
                in.write(env);
                in.flush();
            } catch (IOException setupFailed) {
                // the sandbox failed before its init read the environment: stderr says why
            }
            drained.complete(null); // nothing pumped: the caller reads the output
        } else {
            Thread.ofVirtual().name("env-" + spec.app() + "-" + spec.name()).start(() -> {
                try (OutputStream stdin = process.getOutputStream()) {
                    stdin.write(header);
                    stdin.write(env);
                } catch (IOException setupFailed) {
                    // the sandbox failed before its init read the environment: the log says why
                }
            });
            // A platform thread, not a virtual one: a read blocked on a pipe holds a carrier thread, and with one reader
            // per dyno a few hundred dynos would take every carrier (256 at most) and stall all virtual threads.
            Thread.ofPlatform().daemon().stackSize(LOG_READER_STACK).name("log-" + spec.app() + "-" + spec.name()).start(() -> {
                try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = reader.readLine()) != null; ) logLine.accept(line);
                } catch (IOException closedOnKill) {
                    // the pipe closes when the dyno is killed
                } finally {
                    drained.complete(null);
                }
            });
        }
        return new DynoProcess(process, netns, sandbox, cgroup, runtimeDir, hostname, drained, attached ? process.getOutputStream() : null);
    }

    /** The launcher's pid: a process in the dyno's network namespace (not its PID namespace), alive as long as the dyno. */
    public long pid() { return process.pid(); }

    public boolean isAlive() { return process.isAlive(); }

    public CompletableFuture<Process> onExit() { return process.onExit(); }

    /** The command's exit status; 128+N if a signal N ended it (137: SIGKILL, e.g. by the OOM killer). */
    public int exitValue() { return process.exitValue(); }

    /** How many of the dyno's processes the kernel's OOM killer killed (its memory cgroup's count). */
    public long oomKills() { return cgroup.oomKills(); }

    /** The dyno's hostname: {@code <app>.<type>.<index>}. */
    public String hostname() { return hostname; }

    public long memoryLimitBytes() { return cgroup.limitBytes(); }

    /** The memory the dyno's processes use now (its memory cgroup's charge: RSS, page cache, tmpfs); 0 once stopped. */
    public long memoryBytes() { return cgroup.currentBytes(); }


    /** Attached: the command's stdin (closing it sends EOF). */
    public OutputStream stdin() {
        requireAttached();
        return stdin;
    }

    /** Attached: the command's stdout. */
    public InputStream stdout() {
        requireAttached();
        return process.getInputStream();
    }

    /** Attached: the command's stderr (and the sandbox's own errors). */
    public InputStream stderr() {
        requireAttached();
        return process.getErrorStream();
    }

    private void requireAttached() {
        if (stdin == null) throw new IllegalStateException("the output of dyno " + hostname + " goes to its log: it was not started attached");
    }

    Path runtimeDir() { return runtimeDir; }

    Path cgroupDir() { return cgroup.dir(); }

    /**
     * True once something in the dyno's network namespace listens on TCP {@code port} (the boot check: the kernel has
     * no event for "bound", so the manager asks). Asked with sock_diag on a socket opened inside the namespace, which
     * the kernel answers from the listeners of that port alone: reading /proc/PID/net/tcp walks every TCP socket of the
     * host, and with hundreds of dynos booting at once that walk took the plane's cores.
     */
    public boolean listensOn(int port) {
        try {
            ListenQueue queue = bootCheck();
            return queue != null && queue.read(port).isPresent();
        } catch (RuntimeException namespaceGone) {
            return false;
        }
    }

    private ListenQueue bootCheck() {
        synchronized (bootCheckLock) {
            if (bootCheck == null && stopped == null) bootCheck = ListenQueue.open(netns.pin());
            return bootCheck;
        }
    }

    private void closeBootCheck() {
        synchronized (bootCheckLock) {
            if (bootCheck != null) bootCheck.close();
            bootCheck = null;
        }
    }

    /**
     * Stops every process of the dyno: SIGTERM to its init, which sends it on to all of them, then
     * SIGKILL after {@code grace} (Heroku: 30 s, R12). Returns once they are all gone and the dyno's
     * cgroup and runtime folder are removed; true if SIGKILL was needed. Later calls return the first
     * call's answer.
     */
    public boolean stop(Duration grace) {
        return stop(grace, () -> { });
    }

    /** {@link #stop(Duration)}, running {@code graceExpired} just before the SIGKILL, if the grace runs out (R12). */
    public synchronized boolean stop(Duration grace, Runnable graceExpired) {
        if (stopped != null) return stopped;
        long deadline = System.nanoTime() + Math.max(0, grace.toNanos());
        boolean killed = false;
        if (process.isAlive()) {
            if (grace.isPositive()) awaitInit(deadline).ifPresent(ProcessHandle::destroy);
            if (!awaitExit(deadline)) {
                killed = true;
                if (grace.isPositive()) graceExpired.run();
                kill();
            }
        }
        process.onExit().join();
        killed |= killWhatRemains();
        try {
            outputDrained.get(CLEANUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(Level.WARNING, "log of " + netns.name() + " still open after its processes exited");
        }
        if (!cgroup.remove(CLEANUP_TIMEOUT)) LOG.log(Level.WARNING, "memory cgroup " + cgroup.dir() + " still busy, left in place");
        deleteRecursively(runtimeDir);
        stopped = killed;
        closeBootCheck();
        return killed;
    }

    /**
     * SIGKILL to every process of the dyno but pid 1: pid 1 then sees its command killed, exits with
     * 137 like it, and its exit ends what remains of the PID namespace. (SIGKILL to pid 1 directly
     * would do too, but util-linux 2.38's unshare turns a child killed by SIGKILL into exit status 1
     * and logs "sigprocmask unblock failed".) Pid 1 is killed if that is not enough, the launcher
     * last: killed first, it would leave pid 1 to the host's init, its --kill-child having no effect
     * once pid 1 changed credentials (that clears the parent-death signal).
     */
    private void kill() {
        Optional<ProcessHandle> init = process.toHandle().children().findFirst();
        if (init.isPresent()) {
            boolean any = false;
            for (long pid : cgroup.pids()) {
                if (pid == process.pid() || pid == init.get().pid()) continue;
                any |= ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false);
            }
            if (any && awaitExit(System.nanoTime() + Duration.ofSeconds(1).toNanos())) return;
            init.get().destroyForcibly();
            if (awaitExit(System.nanoTime() + CLEANUP_TIMEOUT.toNanos())) return;
        }
        process.destroyForcibly();
    }

    /** Waits until pid 1 runs unprivileged with its TERM trap set: before that, the kernel would drop a SIGTERM to it. */
    private Optional<ProcessHandle> awaitInit(long deadline) {
        while (process.isAlive()) {
            Optional<ProcessHandle> init = process.toHandle().children().findFirst();
            if (init.isPresent() && trapsTerm(init.get().pid())) return init;
            long left = deadline - System.nanoTime();
            if (left <= 0) return Optional.empty();
            try {
                process.onExit().get(Math.min(left, 2_000_000), TimeUnit.NANOSECONDS);
            } catch (TimeoutException stillRunning) {
                // look again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            } catch (ExecutionException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    private boolean trapsTerm(long pid) {
        try {
            boolean unprivileged = false, traps = false;
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("Uid:")) unprivileged = line.split("\\s+")[1].equals(Integer.toString(sandbox.uid()));
                if (line.startsWith("SigCgt:")) traps = (Long.parseUnsignedLong(line.substring(7).trim(), 16) & SIGTERM_MASK) != 0;
            }
            return unprivileged && traps;
        } catch (IOException | RuntimeException gone) {
            return false;
        }
    }

    private boolean awaitExit(long deadline) {
        try {
            process.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return !process.isAlive();
        }
    }

    /**
     * Removes what dynos of {@code netns} left when the plane died without stopping them: their
     * memory cgroups ({@code <netns>.<6 hex>} under this process's memory cgroup), with any process
     * still in them, and their runtime folder in the default sandbox. Their mounts needed no
     * cleanup: they lived only in the dynos' mount namespaces.
     */
    static void removeLeftovers(NetworkNamespace netns) {
        removeLeftovers(netns, DynoSandbox.defaults());
    }

    static void removeLeftovers(NetworkNamespace netns, DynoSandbox sandbox) {
        MemoryCgroup.Parent parent = sandbox.cgroupParentOrCurrent();
        Pattern mine = Pattern.compile(Pattern.quote(netns.name()) + "\\.[0-9a-f]{6}");
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(parent.dir(), p -> mine.matcher(p.getFileName().toString()).matches())) {
            for (Path dir : dirs) {
                MemoryCgroup cgroup = MemoryCgroup.existing(dir, parent.version());
                killAll(cgroup, netns);
                if (!cgroup.remove(CLEANUP_TIMEOUT)) LOG.log(Level.WARNING, "leftover memory cgroup " + dir + " still busy, left in place");
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "looking for leftover memory cgroups of " + netns.name() + " in " + parent.dir() + ": " + e.getMessage());
        }
        deleteRecursively(sandbox.runtimeRoot().resolve(netns.name()));
    }

    /**
     * Nothing should outlive the launcher (pid 1's exit ends its PID namespace, and the launcher
     * waits for pid 1), but the cgroup is the authority on what is left: SIGKILL all of it.
     */
    private boolean killWhatRemains() {
        return killAll(cgroup, netns);
    }

    private static boolean killAll(MemoryCgroup cgroup, NetworkNamespace netns) {
        boolean killed = false;
        long deadline = System.nanoTime() + CLEANUP_TIMEOUT.toNanos();
        for (List<Long> pids = cgroup.pids(); !pids.isEmpty(); pids = cgroup.pids()) {
            for (long pid : pids) {
                Optional<ProcessHandle> handle = ProcessHandle.of(pid);
                if (handle.isPresent() && handle.get().destroyForcibly()) killed = true;
            }
            if (System.nanoTime() > deadline) {
                LOG.log(Level.WARNING, "processes " + pids + " of " + netns.name() + " survive SIGKILL");
                break;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        return killed;
    }

    /** {@code export NAME='value'} lines for the unprivileged init to eval: exactly the dyno's environment. */
    static String environmentScript(DynoSpec spec) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", PATH);
        env.put("HOME", "/app");
        env.putAll(spec.config());
        env.put("DYNO", spec.name());
        if (spec.port() != null) env.put("PORT", Integer.toString(spec.port()));
        StringBuilder script = new StringBuilder();
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (!ENV_NAME.matcher(e.getKey()).matches()) {
                throw new ProvisioningException("config var name '" + e.getKey() + "' of " + spec.app() + " is not a valid environment variable name");
            }
            if (e.getValue().indexOf('\0') >= 0) throw new ProvisioningException("config var " + e.getKey() + " of " + spec.app() + " contains NUL");
            script.append("export ").append(e.getKey()).append("='").append(e.getValue().replace("'", "'\\''")).append("'\n");
        }
        return script.toString();
    }

    /** {@code <app>.<type>.<index>}; if that exceeds the kernel's 64 bytes, {@code <type>.<index>.<hash of app>} cut to fit. */
    static String hostnameOf(DynoSpec spec) {
        String full = spec.app() + "." + spec.name();
        if (full.length() <= HOST_NAME_MAX) return full;
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(spec.app().getBytes(StandardCharsets.UTF_8));
            String suffix = "." + HexFormat.of().formatHex(hash, 0, 4);
            String name = spec.name();
            return name.substring(0, Math.min(name.length(), HOST_NAME_MAX - suffix.length())) + suffix;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void prepareRuntimeDir(Path dir) {
        try {
            Path root = dir.getParent();
            if (!Files.isDirectory(root)) {
                Files.createDirectories(root);
                Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
            }
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                // Left by a plane that died: its mounts died with the dyno's mount namespace, only folders remain.
                LOG.log(Level.WARNING, "removing stale dyno runtime folder " + dir);
                deleteRecursively(dir);
            }
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.createDirectory(dir.resolve("root"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            Files.writeString(dir.resolve("init.sh"), INIT_SCRIPT);
        } catch (IOException e) {
            deleteRecursively(dir);
            throw new ProvisioningException("preparing the dyno runtime folder " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> paths = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
            for (Path p : paths) Files.deleteIfExists(p);
        } catch (IOException | UncheckedIOException e) {
            LOG.log(Level.WARNING, "removing dyno runtime folder " + dir + ": " + e.getMessage());
        }
    }

    private static String loadInitScript() {
        try (InputStream in = DynoProcess.class.getResourceAsStream("dyno-init.sh")) {
            if (in == null) throw new IllegalStateException("dyno-init.sh missing from the provisioner's resources");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
