package io.dynoplane.bench;

import io.dynoplane.plane.DynoStatus;
import io.dynoplane.plane.LogLine;
import io.dynoplane.plane.Plane;
import io.dynoplane.plane.Procfile;
import io.dynoplane.plane.manager.AppState;
import io.dynoplane.provisioner.Dyno;
import io.dynoplane.provisioner.ProvisionerConfig;
import org.HdrHistogram.Histogram;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench dynos [--quick] [--max N] [--steps a,b,c] [--start N] [--rounds R] [--no-density]}: issue 7's
 * figures, through the real {@link Plane} and its dyno manager.
 *
 * <p>Start latency: an app is scaled 0 → K web dynos (then K workers) in rounds; for each dyno the time from
 * the manager's {@code Starting process} line to its {@code State changed from starting to up} line (wiring,
 * exec, and for web dynos the $PORT boot check), and the wall time from {@code apply} to the last one up.
 *
 * <p>Density: several apps (at most 100 web dynos each, the manager's per-type cap) are scaled up in steps;
 * at each step every dyno must come up without R10 or a crash, a sample of requests through the router must
 * all get 200 (spread over the dynos), and a dyno must still be unable to reach another dyno's $PORT
 * (checked from inside a dyno's namespace). The first step where a rule breaks ends the run.
 */
final class DynoBench {
    private static final String POOL = "172.26.0.0/16"; // 16,384 /30s, a range no other bench uses
    private static final int PER_APP = 100;
    private static final Duration BOOT = Duration.ofSeconds(60);
    /** Read once at start, from the bench's own (root) namespace. */
    private static final String GC_THRESH3 = sysctl("net/ipv4/neigh/default/gc_thresh3");

    private record Options(boolean quick, int max, List<Integer> steps, int start, int rounds, boolean density, Integer vtPool) {
        static Options parse(Deque<String> args) {
            boolean quick = false, density = true;
            Integer max = null, start = null, rounds = null, vtPool = null;
            List<Integer> steps = null;
            while (!args.isEmpty()) {
                String flag = args.pop();
                switch (flag) {
                    case "--quick" -> quick = true;
                    case "--no-density" -> density = false;
                    case "--max" -> max = number(flag, args);
                    case "--start" -> start = number(flag, args);
                    case "--rounds" -> rounds = number(flag, args);
                    case "--vt-pool" -> vtPool = number(flag, args);
                    case "--steps" -> {
                        if (args.isEmpty()) throw new IllegalArgumentException("bench dynos: --steps needs a list like 50,100,200");
                        steps = new ArrayList<>();
                        for (String s : args.pop().split(",")) steps.add(Integer.parseInt(s.strip()));
                    }
                    default -> throw new IllegalArgumentException("bench dynos: unknown option '" + flag
                            + "' (--quick, --max N, --steps a,b,c, --start N, --rounds R, --no-density, --vt-pool N)");
                }
            }
            int m = max != null ? max : quick ? 40 : 500;
            if (steps == null) steps = quick ? List.of(10, 20, 40) : List.of(50, 100, 200, 300, 400, 500, 600, 800, 1000);
            List<Integer> capped = new ArrayList<>(steps.stream().filter(s -> s > 0 && s <= m).sorted().distinct().toList());
            if (capped.isEmpty() || capped.getLast() != m) capped.add(m);
            return new Options(quick, m, capped, start != null ? start : quick ? 5 : 10, rounds != null ? rounds : 2, density, vtPool);
        }

        private static int number(String flag, Deque<String> args) {
            if (args.isEmpty()) throw new IllegalArgumentException("bench dynos: " + flag + " needs a value");
            int v = Integer.parseInt(args.pop());
            if (v < 1) throw new IllegalArgumentException("bench dynos: " + flag + " must be positive");
            return v;
        }
    }

    /** Heroku lines of every app: start and up instants per dyno, crashes, R10s. */
    private static final class Tracker {
        final Map<String, Instant> starting = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> upCount = new ConcurrentHashMap<>();
        final Map<String, Instant> lastUp = new ConcurrentHashMap<>();
        final List<Double> web = Collections.synchronizedList(new ArrayList<>());
        final List<Double> worker = Collections.synchronizedList(new ArrayList<>());
        final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        final AtomicLong routerErrors = new AtomicLong();
        volatile List<Double> webSink = web;

        void accept(String app, LogLine line) {
            if (line.process().equals("router")) {
                if (line.message().startsWith("at=error")) {
                    routerErrors.incrementAndGet();
                    if (routerErrors.get() <= 5) System.out.println("  " + line);
                }
                return;
            }
            if (!line.source().equals("heroku")) return;
            String key = app + "/" + line.process();
            String m = line.message();
            if (m.startsWith("Starting process with command")) {
                starting.put(key, line.at());
            } else if (m.equals("State changed from starting to up")) {
                Instant t0 = starting.remove(key);
                if (t0 != null) {
                    double ms = Duration.between(t0, line.at()).toNanos() / 1e6;
                    (line.process().startsWith("web.") ? webSink : worker).add(ms);
                }
                upCount.computeIfAbsent(app, a -> new AtomicInteger()).incrementAndGet();
                lastUp.merge(app, line.at(), (a, b) -> a.isAfter(b) ? a : b);
            } else if (m.startsWith("Error R10") || m.endsWith("to crashed") || m.startsWith("Error starting process")
                    || m.startsWith("Error R14") || m.startsWith("Error R15") || m.startsWith("Error:")) {
                failures.add(app + " " + line.process() + ": " + m);
                System.out.println("  " + app + " " + line);
            }
        }

        int up(String app) {
            AtomicInteger n = upCount.get(app);
            return n == null ? 0 : n.get();
        }
    }

    private record Step(int dynos, boolean ok, String reason, int started, double startP50, double startP99, double startMax, long allUpMs,
                        long memUsedMib, long dynoMemMib, int requests, int non200, int served, long routerP50us, long routerP99us,
                        int isolationChecks, String isolation, long arpEntries, int threads, int fds) {}

    private DynoBench() {}

    static void run(Deque<String> args) throws Exception {
        Options o = Options.parse(args);
        // Before the first virtual thread: the scheduler reads it once. Default 256 carriers.
        if (o.vtPool() != null) System.setProperty("jdk.virtualThreadScheduler.maxPoolSize", Integer.toString(o.vtPool()));
        String run = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        Path release = Files.createTempDirectory("bench-dynos-" + run);
        Path state = Files.createTempDirectory("bench-dynos-state-" + run);
        Files.copy(Path.of("examples/hello/server.py"), release.resolve("server.py"));
        Files.writeString(release.resolve("Procfile"), "web: exec python3 server.py\nworker: exec python3 -c 'import time; time.sleep(10**9)'\n");
        // The dyno copies its release as uid 100000: the folder must be readable by it.
        release.toFile().setReadable(true, false);
        release.toFile().setExecutable(true, false);
        Tracker tracker = new Tracker();
        Plane.Config config = Plane.Config.defaults(0, line -> System.out.println("  " + line))
                .withAppLogs(tracker::accept)
                .withProvisioner(new ProvisionerConfig(POOL, state))
                .withTimeouts(BOOT, Duration.ofSeconds(5));
        double[] kernelSince = {uptime()};
        String kernelNote = null;
        Integer kernelAt = null;
        double[] webStats, workerStats;
        List<Long> webWall = new ArrayList<>(), workerWall = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        Step broke = null;
        long memBase;
        System.out.printf("dynos: start latency %d rounds of 0 -> %d web then worker dynos; density steps %s (max %d); pool %s; %d cores, MemAvailable %d MiB, neighbour gc_thresh3 %s%n",
                o.rounds(), o.start(), o.density() ? o.steps() : "off", o.max(), POOL, Runtime.getRuntime().availableProcessors(), memAvailableMib(), GC_THRESH3);
        Plane plane = Plane.start(config);
        try {
            AppState.Release rel = new AppState.Release(1, release, Map.of(), Procfile.read(release));
            // --- 1. start latency ---
            String lat = "dl" + run;
            // Warm-up, not measured: JIT and first-use costs of the wiring and the manager.
            tracker.webSink = new ArrayList<>();
            scaleAndWait(plane, tracker, lat, rel, Map.of("web", 2), 2);
            scaleDown(plane, lat, rel);
            tracker.webSink = tracker.web;
            tracker.worker.clear();
            for (String type : List.of("web", "worker")) {
                for (int r = 0; r < o.rounds(); r++) {
                    long wall = scaleAndWait(plane, tracker, lat, rel, Map.of(type, o.start()), o.start());
                    (type.equals("web") ? webWall : workerWall).add(wall);
                    System.out.printf("  %s round %d: %d dynos up, apply -> all up %d ms%n", type, r + 1, o.start(), wall);
                    scaleDown(plane, lat, rel);
                }
            }
            plane.manager().destroy(lat);
            webStats = stats(tracker.web);
            workerStats = stats(tracker.worker);
            System.out.printf("  web    start (Starting process -> up): n=%d p50 %.1f ms p99 %.1f ms max %.1f ms; apply -> all %d up: median %d ms%n",
                    tracker.web.size(), webStats[0], webStats[1], webStats[2], o.start(), median(webWall));
            System.out.printf("  worker start (Starting process -> up): n=%d p50 %.1f ms p99 %.1f ms max %.1f ms; apply -> all %d up: median %d ms%n",
                    tracker.worker.size(), workerStats[0], workerStats[1], workerStats[2], o.start(), median(workerWall));
            if (!tracker.failures.isEmpty()) throw new IllegalStateException("start latency phase had failures: " + tracker.failures);

            // --- 2. density ---
            memBase = memAvailableMib();
            if (o.density()) {
                int apps = (o.max() + PER_APP - 1) / PER_APP;
                List<String> names = new ArrayList<>();
                for (int a = 0; a < apps; a++) names.add("dn" + run + "-a" + a);
                System.out.printf("density: %d apps of up to %d web dynos, MemAvailable before %d MiB%n", apps, PER_APP, memBase);
                for (int target : o.steps()) {
                    Step step = densityStep(plane, tracker, names, rel, target, memBase);
                    steps.add(step);
                    String k = kernelLimit(kernelSince);
                    if (k != null && kernelNote == null) {
                        kernelNote = k;
                        kernelAt = target;
                        System.out.println("  kernel: " + k + " (first seen at step " + target + ")");
                    }
                    System.out.printf("  step %4d: %s  start p50 %.0f ms p99 %.0f ms max %.0f ms (%d new), all up in %d ms; mem used %d MiB (dyno cgroups %d MiB); "
                                    + "%d requests, %d non-200, %d dynos served, router p50 %d us p99 %d us; %d isolation checks %s; arp entries %d; host threads %d; JVM fds %d%n",
                            target, step.ok() ? "ok" : "BROKE (" + step.reason() + ")", step.startP50(), step.startP99(), step.startMax(), step.started(),
                            step.allUpMs(), step.memUsedMib(), step.dynoMemMib(), step.requests(), step.non200(), step.served(), step.routerP50us(),
                            step.routerP99us(), step.isolationChecks(), step.isolation(), step.arpEntries(), step.threads(), step.fds());
                    if (!step.ok()) {
                        broke = step;
                        break;
                    }
                }
            }
        } finally {
            System.out.println("dynos: stopping every dyno...");
            long t0 = System.nanoTime();
            closeOrUnstick(plane, run);
            System.out.printf("dynos: plane closed in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            for (Path dir : List.of(release, state)) {
                try (var files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }

        int maxOk = 0;
        for (Step s : steps) if (s.ok()) maxOk = s.dynos();
        StringBuilder json = new StringBuilder(String.format(Locale.ROOT,
                "{\"bench\":\"dynos\",\"start_count\":%d,\"start_p50_ms\":%.1f,\"start_p99_ms\":%.1f,\"start_max_ms\":%.1f,\"start_all_up_ms\":%d,\"start_batch\":%d,"
                        + "\"worker_start_count\":%d,\"worker_start_p50_ms\":%.1f,\"worker_start_p99_ms\":%.1f,\"worker_start_max_ms\":%.1f,\"worker_all_up_ms\":%d,"
                        + "\"max_dynos_ok\":%d,\"max_tried\":%d,\"broke_at\":%s,\"broke_reason\":%s,\"kernel_limit\":%s,\"kernel_limit_at\":%s,\"mem_base_available_mib\":%d,\"steps\":[",
                tracker.web.size(), webStats[0], webStats[1], webStats[2], median(webWall), o.start(),
                tracker.worker.size(), workerStats[0], workerStats[1], workerStats[2], median(workerWall),
                maxOk, o.density() ? o.max() : 0, broke == null ? "null" : Integer.toString(broke.dynos()), quote(broke == null ? null : broke.reason()),
                quote(kernelNote), kernelAt == null ? "null" : kernelAt.toString(), memBase));
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            if (i > 0) json.append(',');
            json.append(String.format(Locale.ROOT,
                    "{\"dynos\":%d,\"ok\":%b,\"new\":%d,\"start_p50_ms\":%.1f,\"start_p99_ms\":%.1f,\"start_max_ms\":%.1f,\"all_up_ms\":%d,\"mem_used_mib\":%d,"
                            + "\"dyno_mem_mib\":%d,\"requests\":%d,\"non_200\":%d,\"dynos_served\":%d,\"router_p50_us\":%d,\"router_p99_us\":%d,"
                            + "\"isolation_checks\":%d,\"isolation_blocked\":%b,\"arp_entries\":%d,\"threads\":%d,\"jvm_fds\":%d}",
                    s.dynos(), s.ok(), s.started(), s.startP50(), s.startP99(), s.startMax(), s.allUpMs(), s.memUsedMib(), s.dynoMemMib(),
                    s.requests(), s.non200(), s.served(), s.routerP50us(), s.routerP99us(), s.isolationChecks(), !s.isolation().contains("connected"),
                    s.arpEntries(), s.threads(), s.fds()));
        }
        json.append("]}");
        System.out.println(json);
    }

    /**
     * Closes the plane; if that has not finished after a minute (the stop grace is 5 s), kills every process in this
     * run's dyno namespaces (their output pipes close, which frees whatever waited on them) and waits again.
     */
    private static void closeOrUnstick(Plane plane, String run) throws InterruptedException {
        Thread closer = Thread.ofPlatform().name("bench-close").start(plane::close);
        closer.join(Duration.ofSeconds(60));
        if (!closer.isAlive()) return;
        System.out.println("dynos: the plane did not close in 60 s; killing this run's dyno processes");
        String[] names = new java.io.File("/run/netns").list();
        for (String name : names == null ? new String[0] : names) {
            if (name.startsWith("dp-dl" + run + "-") || name.startsWith("dp-dn" + run + "-")) {
                try {
                    new io.dynoplane.provisioner.NetworkNamespace(name).killAll(Duration.ofSeconds(2));
                } catch (RuntimeException e) {
                    System.out.println("  " + name + ": " + e.getMessage());
                }
            }
        }
        closer.join(Duration.ofSeconds(120));
        if (closer.isAlive()) System.out.println("dynos: the plane still did not close; state is left for the next run's reconcile");
    }

    /** True if a new virtual thread runs within 2 s (the scheduler has a free carrier). */
    private static boolean virtualThreadsRun() throws InterruptedException {
        java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
        Thread.ofVirtual().start(ran::countDown);
        return ran.await(2, TimeUnit.SECONDS);
    }

    /** Platform threads carrying virtual threads right now. */
    private static long carriers() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().getName().startsWith("ForkJoinPool-") && java.util.Arrays.stream(e.getValue())
                        .anyMatch(f -> f.getClassName().equals("java.lang.VirtualThread") && f.getMethodName().equals("runContinuation")))
                .count();
    }

    /** Applies {@code formation} to {@code app} and waits for {@code expectUp} more up lines; the wall time from apply to the last one. */
    private static long scaleAndWait(Plane plane, Tracker tracker, String app, AppState.Release rel, Map<String, Integer> formation, int expectUp)
            throws InterruptedException {
        int before = tracker.up(app);
        int failures = tracker.failures.size();
        Instant t0 = Instant.now();
        plane.manager().apply(new AppState(app, 0, false, rel, formation));
        long deadline = System.nanoTime() + BOOT.toNanos() + TimeUnit.SECONDS.toNanos(2L * expectUp);
        while (tracker.up(app) < before + expectUp) {
            if (tracker.failures.size() > failures) throw new IllegalStateException(app + ": " + tracker.failures.get(failures));
            if (System.nanoTime() > deadline) throw new IllegalStateException(app + ": only " + (tracker.up(app) - before) + " of " + expectUp + " dynos up in time");
            Thread.sleep(5);
        }
        return Duration.between(t0, tracker.lastUp.get(app)).toMillis();
    }

    private static void scaleDown(Plane plane, String app, AppState.Release rel) throws InterruptedException {
        plane.manager().apply(new AppState(app, 0, false, rel, Map.of()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (plane.manager().running().stream().anyMatch(d -> d.spec().app().equals(app)) || !plane.manager().dynos(app).isEmpty()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException(app + ": dynos still running 60 s after scaling to 0");
            Thread.sleep(10);
        }
    }

    private static Step densityStep(Plane plane, Tracker tracker, List<String> apps, AppState.Release rel, int target, long memBase)
            throws InterruptedException {
        // Spread evenly over the apps (each app's loop wires its dynos one after another; the apps run side by side).
        Map<String, Integer> want = new LinkedHashMap<>();
        for (int a = 0; a < apps.size(); a++) want.put(apps.get(a), target / apps.size() + (a < target % apps.size() ? 1 : 0));
        Map<String, Integer> before = new HashMap<>();
        int expectNew = 0;
        for (String app : apps) {
            int have = (int) plane.manager().dynos(app).stream().filter(d -> d.type().equals("web")).count();
            before.put(app, tracker.up(app));
            expectNew += Math.max(0, want.get(app) - have);
        }
        List<Double> starts = Collections.synchronizedList(new ArrayList<>());
        tracker.webSink = starts;
        int failures = tracker.failures.size();
        Instant t0 = Instant.now();
        for (String app : apps) {
            if (want.get(app) > 0) plane.manager().apply(new AppState(app, 0, false, rel, Map.of("web", want.get(app))));
        }
        String reason = null;
        long deadline = System.nanoTime() + BOOT.toNanos() + TimeUnit.SECONDS.toNanos(expectNew / 2 + 30);
        long lastProgress = System.nanoTime();
        int lastUp = 0;
        while (true) {
            int newUp = 0;
            for (String app : apps) newUp += tracker.up(app) - before.get(app);
            if (newUp >= expectNew) break;
            if (newUp != lastUp) {
                lastUp = newUp;
                lastProgress = System.nanoTime();
            }
            if (tracker.failures.size() > failures) {
                reason = "dyno lifecycle: " + tracker.failures.get(failures);
                break;
            }
            if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(20) && !virtualThreadsRun()) {
                reason = "virtual-thread scheduler stalled: a new virtual thread did not run in 2 s, " + carriers()
                        + " carrier threads all busy (jdk.virtualThreadScheduler.maxPoolSize " + System.getProperty("jdk.virtualThreadScheduler.maxPoolSize", "256")
                        + "); " + newUp + " of " + expectNew + " new dynos up";
                break;
            }
            if (System.nanoTime() > deadline) {
                reason = "only " + newUp + " of " + expectNew + " new dynos up after " + Duration.between(t0, Instant.now()).toSeconds() + " s";
                break;
            }
            Thread.sleep(20);
        }
        Instant last = t0;
        for (String app : apps) {
            Instant l = tracker.lastUp.get(app);
            if (l != null && l.isAfter(last)) last = l;
        }
        long allUp = Duration.between(t0, last).toMillis();
        double[] st = stats(starts);
        tracker.webSink = tracker.web;
        if (reason != null) {
            // Broken: no sample and no isolation check (they could hang on what broke); figures as they stand.
            return new Step(target, false, reason, starts.size(), st[0], st[1], st[2], allUp, memBase - memAvailableMib(), 0,
                    0, 0, 0, 0, 0, 0, "{}", arpEntries(), threads(), fds());
        }
        Thread.sleep(500); // let the route table settle and the boot checks of the last ones finish

        // Every dyno up, none restarted.
        List<DynoStatus> all = new ArrayList<>();
        for (String app : apps) all.addAll(plane.manager().dynos(app));
        if (reason == null) {
            long up = all.stream().filter(d -> d.state().equals("up")).count();
            int restarts = all.stream().mapToInt(DynoStatus::restarts).sum();
            if (up != target) reason = up + " of " + target + " dynos up (" + all.stream().filter(d -> !d.state().equals("up")).map(d -> d.app() + " " + d.name() + "=" + d.state()).limit(5).toList() + ")";
            else if (restarts > 0) reason = restarts + " dyno restarts";
        }

        // A sample of requests through the router, spread over the dynos.
        int perApp = Math.min(2000 / apps.size() + 1, Math.max(50, 4 * target / apps.size()));
        Histogram latency = new Histogram(60_000_000L, 3);
        int requests = 0, non200 = 0;
        Set<String> served = new TreeSet<>();
        for (String app : apps) {
            if (want.get(app) == 0) continue;
            Sample s = sample(new InetSocketAddress("127.0.0.1", plane.router().port()), plane.hostOf(app), perApp, 4);
            latency.add(s.latency());
            requests += s.requests();
            non200 += s.non200();
            for (String d : s.served()) served.add(app + "/" + d);
            if (reason == null && s.non200() > 0) reason = s.non200() + " of " + s.requests() + " requests to " + app + " not 200 (" + s.firstError() + ")";
        }

        // Isolation: from inside one dyno, another dyno's $PORT (one that just answered through the router) must not answer.
        int checks = 0;
        Map<String, Integer> verdicts = new java.util.TreeMap<>();
        List<DynoStatus> up = all.stream().filter(d -> d.state().equals("up") && d.netns() != null && served.contains(d.app() + "/" + d.name())).toList();
        if (up.size() >= 2) {
            List<DynoStatus> shuffled = new ArrayList<>(up);
            Collections.shuffle(shuffled);
            for (int i = 0; i + 1 < shuffled.size() && checks < 4; i += 2, checks++) {
                DynoStatus from = shuffled.get(i), to = shuffled.get(i + 1);
                String verdict = connectFrom(from.netns(), to.address(), to.port() == null ? 5000 : to.port());
                verdicts.merge(verdict.replaceAll(":.*", ""), 1, Integer::sum);
                if (verdict.equals("connected") && reason == null) {
                    reason = "isolation: " + from.app() + " " + from.name() + " connected to " + to.app() + " " + to.name() + " at " + to.address();
                } else if (verdict.startsWith("check failed") && reason == null) {
                    reason = "isolation check could not run: " + verdict;
                }
            }
            // And within one app: web.1 to web.2 of the same app.
            for (String app : apps) {
                List<DynoStatus> same = up.stream().filter(d -> d.app().equals(app)).limit(2).toList();
                if (same.size() < 2) continue;
                String verdict = connectFrom(same.get(0).netns(), same.get(1).address(), 5000);
                verdicts.merge(verdict.replaceAll(":.*", ""), 1, Integer::sum);
                checks++;
                if (verdict.equals("connected") && reason == null) reason = "isolation: " + app + " " + same.get(0).name() + " connected to " + same.get(1).name();
                break;
            }
        }
        long dynoMem = 0;
        for (Dyno d : plane.manager().running()) {
            try {
                dynoMem += d.process().memoryBytes();
            } catch (RuntimeException ignored) {
                // a dyno going away
            }
        }
        return new Step(target, reason == null, reason, starts.size(), st[0], st[1], st[2], allUp, memBase - memAvailableMib(), dynoMem >> 20,
                requests, non200, served.size(), latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(50),
                latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(99), checks, verdicts.toString(), arpEntries(), threads(), fds());
    }

    private record Sample(int requests, int non200, Set<String> served, Histogram latency, String firstError) {}

    /** {@code requests} GETs over {@code connections} keep-alive connections; which dyno answered comes from the body ("Hello from web.N"). */
    private static Sample sample(InetSocketAddress router, String host, int requests, int connections) throws InterruptedException {
        byte[] request = ("GET / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: dynoplane-bench\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        AtomicInteger left = new AtomicInteger(requests), bad = new AtomicInteger();
        Set<String> served = ConcurrentHashMap.newKeySet();
        List<Histogram> hs = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        String[] firstError = {null};
        for (int c = 0; c < connections; c++) {
            Histogram h = new Histogram(60_000_000L, 3);
            hs.add(h);
            threads.add(Thread.ofPlatform().start(() -> {
                Socket socket = null;
                InputStream in = null;
                OutputStream out = null;
                while (left.getAndDecrement() > 0) {
                    try {
                        if (socket == null) {
                            socket = new Socket();
                            socket.setTcpNoDelay(true);
                            socket.connect(router, 5000);
                            socket.setSoTimeout(35_000);
                            in = new BufferedInputStream(socket.getInputStream(), 8192);
                            out = socket.getOutputStream();
                        }
                        long t = System.nanoTime();
                        out.write(request);
                        out.flush();
                        String[] response = readResponse(in);
                        h.recordValue(Math.max(1, (System.nanoTime() - t) / 1000));
                        if (response[0].equals("200") && response[1].startsWith("Hello from ")) {
                            served.add(response[1].substring(11).strip());
                        } else {
                            bad.incrementAndGet();
                            synchronized (firstError) {
                                if (firstError[0] == null) firstError[0] = "status " + response[0] + ": " + response[1].strip();
                            }
                        }
                    } catch (IOException e) {
                        bad.incrementAndGet();
                        synchronized (firstError) {
                            if (firstError[0] == null) firstError[0] = e.toString();
                        }
                        try {
                            if (socket != null) socket.close();
                        } catch (IOException ignored) {
                            // broken already
                        }
                        socket = null;
                    }
                }
                try {
                    if (socket != null) socket.close();
                } catch (IOException ignored) {
                    // done
                }
            }));
        }
        for (Thread t : threads) t.join();
        Histogram all = new Histogram(60_000_000L, 3);
        hs.forEach(all::add);
        return new Sample(requests, bad.get(), served, all, firstError[0]);
    }

    /** Status code and body of one response with a Content-Length. */
    private static String[] readResponse(InputStream in) throws IOException {
        String status = HttpLoad.readLine(in);
        if (status.length() < 12) throw new IOException("bad status line: " + status);
        int length = 0;
        for (String line; !(line = HttpLoad.readLine(in)).isEmpty(); ) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) length = Integer.parseInt(line.substring(15).strip());
        }
        byte[] body = in.readNBytes(length);
        if (body.length < length) throw new IOException("connection closed mid-body");
        return new String[] {status.substring(9, 12), new String(body, StandardCharsets.UTF_8)};
    }


    private static final String CONNECT = """
            import socket, sys
            s = socket.socket(); s.settimeout(2)
            try:
                s.connect((sys.argv[1], int(sys.argv[2]))); print("connected")
            except ConnectionRefusedError: print("refused")
            except (socket.timeout, TimeoutError): print("timeout")
            except OSError as e: print("blocked: " + str(e))
            """;

    /** From inside {@code netns}: a TCP connect to {@code address:port}; "connected", "refused", "timeout" or "blocked: ...". */
    private static String connectFrom(String netns, String address, int port) {
        try {
            Process p = new ProcessBuilder("ip", "netns", "exec", netns, "python3", "-c", CONNECT, address, Integer.toString(port))
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "check failed: no answer in 10 s";
            }
            if (p.exitValue() != 0) return "check failed: exit " + p.exitValue() + ": " + out;
            return out;
        } catch (IOException | InterruptedException e) {
            return "check failed: " + e;
        }
    }

    private static double[] stats(List<Double> values) {
        List<Double> sorted;
        synchronized (values) {
            sorted = new ArrayList<>(values);
        }
        if (sorted.isEmpty()) return new double[] {0, 0, 0};
        Collections.sort(sorted);
        return new double[] {percentile(sorted, 50), percentile(sorted, 99), sorted.getLast()};
    }

    private static double percentile(List<Double> sorted, double p) {
        int i = (int) Math.ceil(p / 100 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    private static long median(List<Long> values) {
        if (values.isEmpty()) return 0;
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get((sorted.size() - 1) / 2);
    }

    private static long memAvailableMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) return Long.parseLong(line.replaceAll("\\D", "")) >> 10;
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return -1;
    }

    /** Entries of the IPv4 neighbour table, all namespaces together (what gc_thresh3 caps). */
    private static long arpEntries() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/stat/arp_cache"));
            return Long.parseLong(lines.get(1).strip().split("\\s+")[0], 16);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Threads on the host (/proc/loadavg's 4th field: runnable/total). */
    private static int threads() {
        try {
            return Integer.parseInt(Files.readString(Path.of("/proc/loadavg")).split("\\s+")[3].split("/")[1]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static int fds() {
        String[] open = new java.io.File("/proc/self/fd").list();
        return open == null ? -1 : open.length;
    }

    private static double uptime() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * The first kernel message since {@code since[0]} (seconds of uptime, moved on) that names a limit: neighbour table
     * overflow (gc_thresh3), conntrack table full, too many open files/processes (a dyno OOM is the manager's R15); host-wide, any process; null if none.
     */
    private static String kernelLimit(double[] since) {
        double now = uptime();
        String found = null;
        try {
            Process p = new ProcessBuilder("dmesg").redirectErrorStream(true).start();
            List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            p.waitFor(5, TimeUnit.SECONDS);
            java.util.regex.Pattern stamp = java.util.regex.Pattern.compile("^\\[\\s*([0-9.]+)\\]\\s*(.*)$");
            for (String line : lines) {
                var m = stamp.matcher(line);
                if (!m.matches() || Double.parseDouble(m.group(1)) <= since[0]) continue;
                String text = m.group(2);
                if (found == null && text.matches("(?i).*(overflow|table full|too many|limit reached|fork rejected).*")) found = text;
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            // no kernel log to read
        }
        since[0] = now;
        if (found != null && found.contains("neighbor table overflow")) {
            found += " (net.ipv4.neigh.default.gc_thresh3 = " + GC_THRESH3 + ", shared by all namespaces; 2 entries per dyno)";
        }
        return found;
    }

    private static String sysctl(String name) {
        try {
            return Files.readAllLines(Path.of("/proc/sys", name)).getFirst().strip(); // readString stops after one byte of a sysctl file
        } catch (IOException e) {
            return "?";
        }
    }

    private static String quote(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }
}
