package io.dynoplane.bench;

import io.dynoplane.router.AppRoute;
import io.dynoplane.router.Backend;
import io.dynoplane.router.RouteTable;
import io.dynoplane.router.Router;
import io.dynoplane.router.RouterConfig;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static io.dynoplane.bench.BenchNet.exec;
import static io.dynoplane.bench.BenchNet.ip;
import static io.dynoplane.bench.BenchNet.percentile;

/**
 * {@code bench router [--quick] [--rounds N] [--seconds S] [--no-pin] [--rate-fraction F] [--haproxy-busy-polling]}: the router, HAProxy and nginx side by side,
 * each forwarding to the same dyno over its veth with one worker thread, in one run: requests/s and the latency each
 * adds (p50, p99, p99.9) for 0 KB and 16 KB responses at 64 and 1,024 keep-alive connections.
 *
 * <p>Topology: a dyno namespace of this run's own behind a veth whose root-namespace end is 198.18.N.1/30 (the
 * benchmarking range, never the uplink's) and whose dyno end is 198.18.N.2/30. The dyno is nginx (a worker per core it may
 * run on, static files, keep-alive), far faster than one proxy thread. The three proxies listen on 127.0.0.1 in the root
 * namespace and forward to 198.18.N.2:80: the router in this JVM ({@code Router.start}, one io thread, routing by
 * Host), HAProxy ({@code nbthread 1}, {@code http-reuse always}) and nginx ({@code worker_processes 1}, upstream
 * keepalive 1024). All get the same Host header and keep both sides alive, and all do the same header work as the
 * router (Heroku's): X-Forwarded-For/-Proto/-Port, X-Request-Start and a new UUID X-Request-Id to the dyno, Via both
 * ways, the request id back to the client. So each puts the same bytes on the wire, and the load generator and the
 * dyno (which share a core) parse the same amount whichever proxy is in front.
 *
 * <p>Load, in three phases. Saturated: wrk, one thread, closed loop ({@code -c} connections each sending its next
 * request when the last response is in), for requests/s; its latencies are those of a queue kept full, and are not
 * corrected for coordinated omission. Saturated again with {@link RateLoad}'s closed loop: the same, except that
 * each next request goes out as soon as the last response is read, where wrk sends it from its next wake-up; the
 * proxies' tails differ between the two clients (docs/architecture.md, "Router benchmark"), so both are reported.
 * At a fixed rate: {@link RateLoad} (open loop, wrk2's model, corrected) offers
 * every target the same requests/s, {@code --rate-fraction} (0.3 unless set) of the slowest proxy's saturated rate in
 * this run, for latency as served below saturation; at 0.3 neither core is saturated (the generator and the dyno
 * share one). Each rateload run starts with a warm-up on the same connections that is not counted (2 s, 1 s with
 * {@code --quick}; wrk2's calibration): what the target saw just before, idle or another target's load ending, settles
 * first. The latency a proxy adds is its percentile minus the direct-to-dyno percentile of the same case, phase
 * and round, median over rounds; requests/s are medians over rounds. Rounds interleave the targets (order rotated
 * per round). The dyno listens with {@code reuseport}, so with more than one worker they share a proxy's connections
 * by hash, not by which worker woke first when the proxy opened them.
 *
 * <p>The router is measured warm: before any round it takes a few seconds of connections opened and closed by the
 * thousand (wrk asking {@code Connection: close}), then is driven alone by each of the three clients (each takes the
 * router down paths of its own, and a path first met in a measured round deoptimises compiled code there), and
 * each phase starts once the JIT has gone idle. The JIT's time in each measured round is reported.
 *
 * <p>CPU: with two or more cores (and no {@code --no-pin}) each proxy's one worker thread gets core 0: HAProxy's and
 * nginx's processes, and the router's event loop ({@code RouterConfig.ioCpus}). The load generator and the dyno share the other
 * cores, and so do this JVM's other threads (collector, compilers, this bench's own), as they would on an edge whose
 * event loops have cores of their own: on core 0 a collector or compiler thread holds the loop's core for a whole
 * scheduler slice, milliseconds of tail latency for every request in flight. The router's CPU per request counts
 * the whole JVM, those threads included. Pinned, the router's loop polls its ring before it sleeps, as a loop with a
 * core of its own does ({@link RouterConfig#withDedicatedCores}, adaptive: it stops when work comes further apart).
 * HAProxy's nearest setting, {@code busy-polling}, is off by default and spins whether or not there is work, so with
 * {@code --haproxy-busy-polling} HAProxy gets it and is kept stopped (SIGSTOP) outside its own turns.
 */
final class RouterBench {
    private static final int WEB_DYNOS = 8;
    private static final String HOST = "app.bench.local";
    private static final String LOCALHOST = "127.0.0.1";
    private static final int DYNO_PORT = 80;

    enum Target {
        DIRECT, ROUTER, HAPROXY, NGINX;

        String key() { return name().toLowerCase(Locale.ROOT); }
    }

    /** The machine's cores, counted before this JVM moves itself off core 0. */
    private static final int CORES = Runtime.getRuntime().availableProcessors();

    record Case(int kb, int connections) {
        String key() { return kb + "k_" + connections; }

        String path() { return "/" + kb + "k"; }

        int bodyBytes() { return kb * 1024; }
    }

    private static final List<Case> CASES = List.of(new Case(0, 64), new Case(0, 1024), new Case(16, 64), new Case(16, 1024));

    /** One load generator run against one target. Latencies in microseconds; the JIT's time and GC cycles are this JVM's. */
    record Sample(double rps, double p50, double p99, double p999, double max, long requests, long errors, double bytesPerRequest, double dynoConnsPerSecond,
                  long dynoConnsClosed, double cpuUsPerRequest, double jitMs, long gcCycles, double allocBytesPerRequest) {}

    /** The processes whose CPU time a target spends (the router: this whole JVM, GC and JIT included; nginx: master and workers). */
    private static final Map<Target, ProcessHandle> PROCESSES = new EnumMap<>(Target.class);
    private static final double TICK_US = 1e6 / clockTicksPerSecond();
    /** This JVM's JIT (the router's): compilation time, total so far, in ms. */
    private static final CompilationMXBean JIT = ManagementFactory.getCompilationMXBean();
    /** Bytes this JVM's threads allocated: the router's event loop, in its measured rounds (the bench's own are few). */
    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    /** This JVM's collector: ZGC's cycles (its pause beans count the same cycles again), or every collection of another. */
    private static final List<GarbageCollectorMXBean> GC_CYCLES = gcCycleBeans();

    private record Options(boolean quick, int rounds, double seconds, double warmupSeconds, boolean pin, List<Target> targets, List<Case> cases,
                           double rateFraction, boolean haproxyBusyPolling) {
        static Options parse(Deque<String> args) {
            boolean quick = false, pin = true, haproxyBusyPolling = false;
            double rateFraction = 0.3;
            List<Target> targets = List.of(Target.values());
            List<Case> cases = CASES;
            Integer rounds = null;
            Double seconds = null;
            while (!args.isEmpty()) {
                String flag = args.pop();
                try {
                    switch (flag) {
                        case "--quick" -> quick = true;
                        case "--no-pin" -> pin = false;
                        case "--haproxy-busy-polling" -> haproxyBusyPolling = true;
                        case "--rounds" -> rounds = Integer.parseInt(args.pop());
                        case "--seconds" -> seconds = Double.parseDouble(args.pop());
                        case "--rate-fraction" -> rateFraction = Double.parseDouble(args.pop());
                        case "--targets" -> targets = java.util.Arrays.stream(args.pop().split(",")).map(n -> Target.valueOf(n.strip().toUpperCase(Locale.ROOT))).toList();
                        case "--cases" -> {
                            List<String> keys = java.util.Arrays.stream(args.pop().split(",")).map(String::strip).toList();
                            cases = CASES.stream().filter(c -> keys.contains(c.key())).toList();
                            if (cases.size() != keys.size()) throw usage();
                        }
                        default -> throw usage();
                    }
                } catch (RuntimeException e) {
                    throw usage();
                }
            }
            int r = rounds != null ? rounds : quick ? 1 : 3;
            double s = seconds != null ? seconds : quick ? 2 : 5;
            if (r < 1 || r > 50 || s < 1 || s > 600 || !(rateFraction > 0 && rateFraction <= 1)) throw usage();
            if (!targets.contains(Target.DIRECT) || !targets.contains(Target.HAPROXY)) {
                targets = java.util.stream.Stream.concat(java.util.stream.Stream.of(Target.DIRECT, Target.HAPROXY), targets.stream()).distinct().sorted().toList();
            }
            return new Options(quick, r, s, quick ? 1 : 2, pin, targets, cases, rateFraction, haproxyBusyPolling);
        }

        private static IllegalArgumentException usage() {
            return new IllegalArgumentException("bench router: usage: [--quick] [--rounds N (1..50)] [--seconds S (1..600)] [--no-pin] [--targets router,nginx] [--cases 0k_64,16k_1024] [--rate-fraction F (0..1]] [--haproxy-busy-polling]"
                    + " (direct and haproxy are always measured)");
        }
    }

    private RouterBench() {}

    static void run(Deque<String> args) throws Exception {
        Options options = Options.parse(args);
        for (String tool : List.of("haproxy", "nginx", "wrk", "curl")) {
            if (!BenchNet.onPath(tool)) throw new IllegalStateException("bench router needs " + tool + " (apt-get install " + tool + ")");
        }
        long files = openFileLimit();
        if (files < 3 * 1024 + 256) throw new IllegalStateException("bench router needs 3,328 open files (1,024 connections on both sides of a proxy), this process may open " + files + ": raise ulimit -n");
        int cores = CORES;
        boolean pin = options.pin() && cores >= 2 && BenchNet.onPath("taskset");
        String tag = BenchNet.runTag();
        Path dir = Files.createTempDirectory("dynoplane-rbench-" + tag + "-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Thread hook = BenchNet.hook("bench-router-cleanup", () -> {
            BenchNet.removeAll();
            BenchNet.deleteTree(dir);
        });
        Router router = null;
        Map<String, Object> json = new LinkedHashMap<>();
        try {
            Topology topology = Topology.create(tag);
            String dyno = topology.dynoAddress();
            log("run %s: dyno namespace %s at %s behind veth %s (%s), files in %s", tag, topology.ns, dyno, topology.veth, topology.hostAddress(), dir);
            // Every thread of this JVM off core 0 first; the router's event loop then pins itself there.
            if (pin) exec("", "taskset", "-a", "-p", "-c", otherCores(), Long.toString(ProcessHandle.current().pid()));

            startDyno(dir, topology, pin);
            RouterConfig routerConfig = new RouterConfig(new InetSocketAddress(LOCALHOST, 0), "bench", 1);
            if (pin) routerConfig = routerConfig.withDedicatedCores(List.of(0));
            router = Router.start(routerConfig);
            // Eight web dynos, all the one nginx: the router caps an app at 200 requests in flight per web dyno
            // (Heroku's H11), so 1,024 connections need at least six; HAProxy and nginx have no such cap.
            InetSocketAddress dynoAddress = new InetSocketAddress(InetAddress.getByName(dyno), DYNO_PORT);
            List<Backend> webDynos = java.util.stream.IntStream.rangeClosed(1, WEB_DYNOS).mapToObj(i -> new Backend("web." + i, dynoAddress)).toList();
            router.publish(RouteTable.empty().with(HOST, new AppRoute("bench", webDynos)));
            Map<Target, String> urls = new EnumMap<>(Target.class);
            urls.put(Target.DIRECT, "http://" + dyno + ":" + DYNO_PORT);
            urls.put(Target.ROUTER, "http://" + LOCALHOST + ":" + router.port());
            urls.put(Target.HAPROXY, "http://" + LOCALHOST + ":" + startHaproxy(dir, dyno, pin, options.haproxyBusyPolling()));
            urls.put(Target.NGINX, "http://" + LOCALHOST + ":" + startNginx(dir, dyno, pin));
            for (Target t : options.targets()) {
                for (Case c : options.cases()) {
                    try {
                        waitUntilServing(urls.get(t), c);
                    } catch (IllegalStateException e) {
                        throw new IllegalStateException(t.key() + ": " + e.getMessage() + logs(dir), e);
                    }
                }
            }
            // A busy-polling HAProxy spins whether or not it has work: it may run only in its own turns.
            if (options.haproxyBusyPolling()) suspend(Target.HAPROXY);
            String dynoStatus = urls.get(Target.DIRECT) + "/dyno-status";
            Path lua = dir.resolve("report.lua");
            Files.writeString(lua, LUA);

            String haproxyVersion = firstLine(exec("", "haproxy", "-v")), nginxVersion = firstLine(exec("", "nginx", "-v")).replace("nginx version: ", "");
            json.put("bench", "router");
            json.put("quick", options.quick());
            json.put("rounds", options.rounds());
            json.put("seconds", options.seconds());
            json.put("cores", cores);
            json.put("pinned", pin);
            if (pin) json.put("router_pinning", "event loop on core 0, the JVM's other threads on the others");
            json.put("loadavg_start", loadAverage());
            json.put("load_generator", "saturated: wrk -t1 closed loop, then rateload closed loop (no CO correction); at rate: rateload open loop (CO corrected)");
            json.put("rate_fraction", options.rateFraction());
            json.put("router_idle_poll_us", routerConfig.idlePoll().toNanos() / 1000);
            json.put("haproxy_busy_polling", options.haproxyBusyPolling());
            json.put("router_transport", router.transportName());
            json.put("haproxy_version", haproxyVersion.replace("HAProxy version ", "").split(" ")[0]);
            json.put("nginx_version", nginxVersion);
            System.out.printf("router: run %s, %d round(s) of %.0f s per target and case, wrk -t1, %s, router transport %s, %s, nginx %s%n",
                    tag, options.rounds(), options.seconds(), pin ? "proxy worker on core 0, wrk, dyno and the JVM's other threads on the others" : "unpinned",
                    router.transportName(), haproxyVersion, nginxVersion);

            // The router's JIT: every client the phases use drives it down paths of its own (rateload's requests, an idle
            // loop woken at a fixed rate), and a path first seen in a measured round deoptimises compiled code there.
            RateLoad rateLoad = RateLoad.compile(dir);
            String generatorCpus = pin ? otherCores() : null;
            double routerWarmup = options.quick() ? 2 : 10;
            log("warm-up: the router alone, %.0f s of connections opened and closed, then %.0f s with each client in each case (its JIT); then %.0f s per target and case (every pool filled)",
                    routerWarmup / 2, routerWarmup, options.warmupSeconds());
            if (options.targets().contains(Target.ROUTER)) {
                String url = urls.get(Target.ROUTER);
                // Connections opened and closed by the thousand first: each round's clients connect anew, and the
                // connection paths (the io_uring loop's registrations among them) otherwise first branch new ways
                // there, deoptimising the loop's completion handling at a measured round's start.
                wrk(lua, url, options.cases().getFirst(), routerWarmup / 2, pin, true);
                for (Case c : options.cases()) {
                    wrk(lua, url, c, routerWarmup, pin);
                    rateLoad.runClosed(url, c.path(), HOST, c.connections(), 0, routerWarmup / 2, generatorCpus);
                    rateLoad.run(url, c.path(), HOST, c.connections(), 10_000, 0, routerWarmup / 2, generatorCpus);
                }
            }
            // Every target and case once (every pool filled), through the measuring and bookkeeping code of the rounds
            // themselves: that code's first run links its lambdas and string concatenations, spinning classes whose
            // generator C2 then compiles (~140 ms on core 1, the load generator's), which otherwise fell in the
            // router's first measured round, right after direct's.
            rounds(options, 1, "warm-up (not counted)", (t, c) ->
                    measured(t, c, dynoStatus, () -> wrk(lua, urls.get(t), c, options.warmupSeconds(), pin)));

            Map<Target, Map<Case, List<Sample>>> saturated = rounds(options, options.rounds(), "saturated", (t, c) ->
                    measured(t, c, dynoStatus, () -> wrk(lua, urls.get(t), c, options.seconds(), pin)));
            report(options, saturated, json, "saturated, wrk (closed loop)", "", "");

            // Saturated again with a client that sends each next request as soon as the last is answered, where wrk
            // leaves it for its next wake-up: what a proxy's tail does when its client's timing differs.
            Map<Target, Map<Case, List<Sample>>> closed = rounds(options, options.rounds(), "closed loop", (t, c) ->
                    measured(t, c, dynoStatus, () -> rateLoad.runClosed(urls.get(t), c.path(), HOST, c.connections(),
                            options.warmupSeconds(), options.seconds(), generatorCpus)));
            report(options, closed, json, "saturated, rateload closed loop (the next request sent as soon as the last is answered)", "_closed", "closed_");

            // The same targets at a rate every one of them sustains: latency as served, not as queued at saturation.
            Map<Case, Double> rates = new LinkedHashMap<>();
            for (Case c : options.cases()) {
                double slowest = options.targets().stream().filter(t -> t != Target.DIRECT).mapToDouble(t -> median(saturated.get(t).get(c), Sample::rps)).min().orElseThrow();
                double rate = Math.floor(slowest * options.rateFraction() / 100) * 100;
                if (!(rate >= 100)) {
                    throw new IllegalStateException("bench router: " + c.key() + ": the slowest proxy served " + Math.round(slowest)
                            + " req/s saturated; " + options.rateFraction() + " of that is too few for the fixed-rate phase");
                }
                rates.put(c, rate);
            }
            log("fixed rate: %.0f%% of the slowest proxy's requests/s per case, %s", 100 * options.rateFraction(), rates);
            Map<Target, Map<Case, List<Sample>>> atRate = rounds(options, options.rounds(), "at rate", (t, c) ->
                    measured(t, c, dynoStatus, () -> rateLoad.run(urls.get(t), c.path(), HOST, c.connections(),
                            rates.get(c), options.warmupSeconds(), options.seconds(), generatorCpus)));
            reportAtRate(options, rates, atRate, json);
            json.put("loadavg_end", loadAverage());
        } finally {
            if (router != null) router.close();
            resume(Target.HAPROXY); // a stopped process would hold its termination signal
            BenchNet.removeAll();
            BenchNet.deleteTree(dir);
            BenchNet.dropHook(hook);
        }
        System.out.println(BenchNet.toJson(json));
    }

    private interface Measure {
        Sample run(Target target, Case c) throws IOException, InterruptedException;
    }

    /** {@code rounds} rounds of every case and target, the targets' order rotated each round. */
    private static Map<Target, Map<Case, List<Sample>>> rounds(Options options, int rounds, String phase, Measure measure) throws IOException, InterruptedException {
        Map<Target, Map<Case, List<Sample>>> samples = new EnumMap<>(Target.class);
        awaitCompilerIdle(phase);
        for (int round = 0; round < rounds; round++) {
            for (Case c : options.cases()) {
                List<Target> order = new ArrayList<>(options.targets());
                java.util.Collections.rotate(order, round);
                for (Target t : order) {
                    Sample s = measure.run(t, c);
                    samples.computeIfAbsent(t, x -> new LinkedHashMap<>()).computeIfAbsent(c, x -> new ArrayList<>()).add(s);
                    log("%s round %d %-8s %-8s %9.0f req/s  p50 %7.0f  p99 %7.0f  p99.9 %7.0f  max %7.0f us  %s%.0f B/resp  %.0f new dyno conns/s  %d closed  %.1f cpu us/req%s",
                            phase, round + 1, c.key(), t.key(), s.rps(), s.p50(), s.p99(), s.p999(), s.max(),
                            s.errors() > 0 ? s.errors() + " errors  " : "", s.bytesPerRequest(), s.dynoConnsPerSecond(), s.dynoConnsClosed(), s.cpuUsPerRequest(),
                            t == Target.ROUTER ? String.format(Locale.ROOT, "  JIT %.0f ms  GC %d  %.0f B allocated/req", s.jitMs(), s.gcCycles(), s.allocBytesPerRequest()) : "");
                }
            }
        }
        return samples;
    }

    // ---- Report -------------------------------------------------------------------------------------------------

    /**
     * A saturated phase: requests/s and added latency per case and target. JSON keys {@code <target>_<case><infix>_*},
     * and the 0 KB / 64 ratios and targets as {@code <ratioPrefix>rps_vs_haproxy}, {@code target_<ratioPrefix>p99_not_higher}...
     */
    private static void report(Options options, Map<Target, Map<Case, List<Sample>>> samples, Map<String, Object> json,
                               String title, String infix, String ratioPrefix) {
        System.out.println();
        System.out.println("  " + title);
        System.out.println("  case      target   | req/s    vs haproxy | latency us p50 / p99 / p99.9 (absolute) | added over direct p50 / p99 / p99.9 | errors | new dyno conns/s");
        Map<String, Double> addedP99 = new LinkedHashMap<>(), rps = new LinkedHashMap<>();
        for (Case c : options.cases()) {
            List<Sample> direct = samples.get(Target.DIRECT).get(c);
            double haproxyRps = median(samples.get(Target.HAPROXY).get(c), Sample::rps);
            for (Target t : options.targets()) {
                List<Sample> mine = samples.get(t).get(c);
                double r = median(mine, Sample::rps);
                double p50 = median(mine, Sample::p50), p99 = median(mine, Sample::p99), p999 = median(mine, Sample::p999);
                long errors = mine.stream().mapToLong(Sample::errors).sum();
                String key = t.key() + "_" + c.key(), prefix = key + infix;
                json.put(prefix + "_rps", r);
                if (t == Target.DIRECT) {
                    json.put(prefix + "_p50_us", p50);
                    json.put(prefix + "_p99_us", p99);
                    json.put(prefix + "_p999_us", p999);
                    System.out.printf(Locale.ROOT, "  %-9s %-8s | %8.0f           | %7.0f / %7.0f / %7.0f             |                                     | %6d |%n",
                            c.key(), t.key(), r, p50, p99, p999, errors);
                } else {
                    double a50 = added(mine, direct, Sample::p50), a99 = added(mine, direct, Sample::p99), a999 = added(mine, direct, Sample::p999);
                    json.put(prefix + "_p50_us", a50);
                    json.put(prefix + "_p99_us", a99);
                    json.put(prefix + "_p999_us", a999);
                    rps.put(key, r);
                    addedP99.put(key, a99);
                    System.out.printf(Locale.ROOT, "  %-9s %-8s | %8.0f   %6.2fx  | %7.0f / %7.0f / %7.0f             | %7.0f / %7.0f / %7.0f             | %6d | %.0f%n",
                            c.key(), t.key(), r, r / haproxyRps, p50, p99, p999, a50, a99, a999, errors, median(mine, Sample::dynoConnsPerSecond));
                }
                json.put(prefix + "_errors", errors);
                if (t != Target.DIRECT) json.put(prefix + "_dyno_conns_per_s", median(mine, Sample::dynoConnsPerSecond));
                if (t != Target.DIRECT) json.put(prefix + "_cpu_us_per_req", median(mine, Sample::cpuUsPerRequest));
                if (t == Target.ROUTER) putJvmSettling(json, prefix, mine);
            }
        }
        Double rpsRatio = ratio(rps.get("router_0k_64"), rps.get("haproxy_0k_64"));
        Double p99Ratio = ratio(addedP99.get("router_0k_64"), addedP99.get("haproxy_0k_64"));
        json.put(ratioPrefix + "rps_vs_haproxy", rpsRatio);
        json.put(ratioPrefix + "p99_vs_haproxy", p99Ratio);
        json.put(ratioPrefix + "p99_vs_haproxy_by_round", p99RatioByRound(options, samples));
        boolean rpsHolds = rpsRatio != null && rpsRatio >= 1.0, p99Holds = p99Ratio != null && p99Ratio <= 1.0;
        json.put("target_" + ratioPrefix + "rps_at_least_haproxy", rpsHolds);
        json.put("target_" + ratioPrefix + "p99_not_higher", p99Holds);
        System.out.printf(Locale.ROOT, "  0k_64: router/haproxy requests/s %s (target >= 1: %s), added p99 %s (target <= 1: %s)%n",
                fmt(rpsRatio), rpsHolds ? "holds" : "MISSED", fmt(p99Ratio), p99Holds ? "holds" : "MISSED");
        for (Case c : options.cases()) {
            String k = c.key();
            System.out.printf(Locale.ROOT, "  %-8s router/haproxy req/s %s, added p99 %s; nginx/haproxy req/s %s, added p99 %s%n", k,
                    fmt(ratio(rps.get("router_" + k), rps.get("haproxy_" + k))), fmt(ratio(addedP99.get("router_" + k), addedP99.get("haproxy_" + k))),
                    fmt(ratio(rps.get("nginx_" + k), rps.get("haproxy_" + k))), fmt(ratio(addedP99.get("nginx_" + k), addedP99.get("haproxy_" + k))));
        }
    }

    /** The fixed-rate phase: each target's latency at the case's rate, and what it adds over the dyno's own at that rate. */
    private static void reportAtRate(Options options, Map<Case, Double> rates, Map<Target, Map<Case, List<Sample>>> samples, Map<String, Object> json) {
        System.out.println();
        System.out.println("  at a fixed rate (open loop, coordinated-omission corrected)");
        System.out.println("  case      target   | offered  answered | latency us p50 / p99 / p99.9 (absolute) | added over direct p50 / p99 / p99.9 | errors | cpu us/req");
        Map<String, Double> addedP99 = new LinkedHashMap<>();
        for (Case c : options.cases()) {
            json.put(c.key() + "_rate", rates.get(c));
            List<Sample> direct = samples.get(Target.DIRECT).get(c);
            for (Target t : options.targets()) {
                List<Sample> mine = samples.get(t).get(c);
                String prefix = t.key() + "_" + c.key() + "_at_rate";
                double r = median(mine, Sample::rps), p50 = median(mine, Sample::p50), p99 = median(mine, Sample::p99), p999 = median(mine, Sample::p999);
                double a50 = added(mine, direct, Sample::p50), a99 = added(mine, direct, Sample::p99), a999 = added(mine, direct, Sample::p999);
                long errors = mine.stream().mapToLong(Sample::errors).sum();
                json.put(prefix + "_rps", r);
                json.put(prefix + "_p50_us", t == Target.DIRECT ? p50 : a50);
                json.put(prefix + "_p99_us", t == Target.DIRECT ? p99 : a99);
                json.put(prefix + "_p999_us", t == Target.DIRECT ? p999 : a999);
                json.put(prefix + "_errors", errors);
                if (t != Target.DIRECT) {
                    json.put(prefix + "_cpu_us_per_req", median(mine, Sample::cpuUsPerRequest));
                    if (t == Target.ROUTER) putJvmSettling(json, prefix, mine);
                    addedP99.put(t.key() + "_" + c.key(), a99);
                }
                System.out.printf(Locale.ROOT, "  %-9s %-8s | %8.0f %8.0f | %7.0f / %7.0f / %7.0f             | %s | %6d | %s%n",
                        c.key(), t.key(), rates.get(c), r, p50, p99, p999,
                        t == Target.DIRECT ? " ".repeat(35) : String.format(Locale.ROOT, "%7.0f / %7.0f / %7.0f            ", a50, a99, a999),
                        errors, t == Target.DIRECT ? "" : String.format(Locale.ROOT, "%.1f", median(mine, Sample::cpuUsPerRequest)));
            }
        }
        Double p99Ratio = ratio(addedP99.get("router_0k_64"), addedP99.get("haproxy_0k_64"));
        json.put("p99_at_rate_vs_haproxy", p99Ratio);
        json.put("p99_at_rate_vs_haproxy_by_round", p99RatioByRound(options, samples));
        json.put("target_p99_at_rate_not_higher", p99Ratio != null && p99Ratio <= 1.0);
        for (Case c : options.cases()) {
            String k = c.key();
            System.out.printf(Locale.ROOT, "  %-8s at %.0f req/s: router/haproxy added p99 %s; nginx/haproxy added p99 %s%n", k, rates.get(c),
                    fmt(ratio(addedP99.get("router_" + k), addedP99.get("haproxy_" + k))), fmt(ratio(addedP99.get("nginx_" + k), addedP99.get("haproxy_" + k))));
        }
    }

    /**
     * The router JVM's JIT time and collector cycles over a phase's measured rounds (near zero is steady state), and
     * what it allocated per request in them.
     */
    private static void putJvmSettling(Map<String, Object> json, String prefix, List<Sample> router) {
        json.put(prefix + "_jit_ms", router.stream().mapToDouble(Sample::jitMs).sum());
        json.put(prefix + "_gc_cycles", router.stream().mapToLong(Sample::gcCycles).sum());
        json.put(prefix + "_alloc_bytes_per_req", median(router, Sample::allocBytesPerRequest));
    }

    private static double median(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> f) {
        return percentile(samples.stream().map(f::applyAsDouble).toList(), 50);
    }

    /**
     * Router ÷ HAProxy added p99 at 0 KB / 64 in each round (null without that case or either target): how far one
     * run's median stands from its rounds on a machine whose stalls land on one round and not the next.
     */
    private static List<Double> p99RatioByRound(Options options, Map<Target, Map<Case, List<Sample>>> samples) {
        Case c = options.cases().stream().filter(x -> x.key().equals("0k_64")).findFirst().orElse(null);
        if (c == null || !samples.containsKey(Target.ROUTER) || !samples.containsKey(Target.HAPROXY)) return null;
        List<Sample> direct = samples.get(Target.DIRECT).get(c), router = samples.get(Target.ROUTER).get(c), haproxy = samples.get(Target.HAPROXY).get(c);
        List<Double> ratios = new ArrayList<>();
        for (int r = 0; r < direct.size(); r++) {
            ratios.add(ratio(router.get(r).p99() - direct.get(r).p99(), haproxy.get(r).p99() - direct.get(r).p99()));
        }
        return ratios;
    }

    /** Median over rounds of (this target's percentile - the direct percentile of the same round). */
    private static double added(List<Sample> mine, List<Sample> direct, java.util.function.ToDoubleFunction<Sample> f) {
        List<Double> diffs = new ArrayList<>();
        for (int r = 0; r < Math.min(mine.size(), direct.size()); r++) diffs.add(f.applyAsDouble(mine.get(r)) - f.applyAsDouble(direct.get(r)));
        return percentile(diffs, 50);
    }

    private static Double ratio(Double a, Double b) {
        if (a == null || b == null || b <= 0 || a.isNaN() || b.isNaN()) return null;
        return a / b;
    }

    private static String fmt(Double d) {
        return d == null ? "n/a" : String.format(Locale.ROOT, "%.2f", d);
    }

    // ---- Load: wrk ----------------------------------------------------------------------------------------------

    /** wrk's done() hook: one line with the summary and the latency percentiles (microseconds). */
    private static final String LUA = """
            done = function(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("WRK %d %d %d %d %d %d %d %d %d %d %d %d\\n",
                summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
                latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
            end
            """;

    /** One wrk run (closed loop, {@code c.connections()} connections) against {@code url}. */
    private static LoadResult wrk(Path lua, String url, Case c, double seconds, boolean pin) throws IOException, InterruptedException {
        return wrk(lua, url, c, seconds, pin, false);
    }

    /** wrk as above; with {@code closeEach}, every request asks for {@code Connection: close} and wrk reconnects. */
    private static LoadResult wrk(Path lua, String url, Case c, double seconds, boolean pin, boolean closeEach) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (pin) command.addAll(List.of("taskset", "-c", otherCores()));
        command.addAll(List.of("wrk", "-t1", "-c" + c.connections(), "-d" + Math.round(seconds) + "s", "--timeout", "10s",
                "-H", "Host: " + HOST));
        if (closeEach) command.addAll(List.of("-H", "Connection: close"));
        command.addAll(List.of("-s", lua.toString(), url + c.path()));
        String[] f = BenchNet.summaryLine("WRK ", (long) seconds + 60, command);
        double duration = Double.parseDouble(f[1]) / 1e6;
        long requests = Long.parseLong(f[2]), bytes = Long.parseLong(f[3]);
        long errors = 0;
        for (int i = 4; i <= 8; i++) errors += Long.parseLong(f[i]);
        if (requests == 0) return LoadResult.unanswered(errors, duration);
        return new LoadResult(requests / duration, Double.parseDouble(f[9]), Double.parseDouble(f[10]), Double.parseDouble(f[11]),
                Double.parseDouble(f[12]), requests, errors, bytes / (double) requests, duration, requests, duration);
    }

    private interface Load {
        LoadResult run() throws IOException, InterruptedException;
    }

    /** Targets stopped (SIGSTOP) outside their own turns. */
    private static final java.util.Set<Target> SUSPENDED = java.util.EnumSet.noneOf(Target.class);

    /** {@code load}, with {@code target} running for it if it is kept stopped between its turns. */
    private static LoadResult awake(Target target, Load load) throws IOException, InterruptedException {
        if (!SUSPENDED.contains(target)) return load.run();
        signal(target, "CONT");
        try {
            return load.run();
        } finally {
            signal(target, "STOP");
        }
    }

    private static void suspend(Target target) throws IOException, InterruptedException {
        signal(target, "STOP");
        SUSPENDED.add(target);
    }

    private static void resume(Target target) {
        if (SUSPENDED.remove(target)) {
            try {
                signal(target, "CONT");
            } catch (IOException | InterruptedException | RuntimeException e) {
                log("could not resume %s: %s", target.key(), e.getMessage());
            }
        }
    }

    private static void signal(Target target, String signal) throws IOException, InterruptedException {
        exec("", "kill", "-" + signal, Long.toString(PROCESSES.get(target).pid()));
    }

    /** Runs {@code load} against {@code target}, counting the dyno connections opened and closed meanwhile, and the target's CPU. */
    private static Sample measured(Target target, Case c, String dynoStatus, Load load) throws IOException, InterruptedException {
        DynoStatus before = DynoStatus.of(dynoStatus);
        long ticksBefore = cpuTicks(target), jitBefore = JIT.getTotalCompilationTime(), gcBefore = gcCycles();
        long allocatedBefore = THREADS.getTotalThreadAllocatedBytes();
        LoadResult r = awake(target, load);
        long cpuTicks = cpuTicks(target) - ticksBefore, jitMs = JIT.getTotalCompilationTime() - jitBefore, gc = gcCycles() - gcBefore;
        long allocated = THREADS.getTotalThreadAllocatedBytes() - allocatedBefore;
        DynoStatus after = DynoStatus.of(dynoStatus);
        long dynoConns = after.accepted() - before.accepted() - 1; // less the status request's own connection
        // Each open count includes its own status request's connection, so the two cancel out.
        long dynoClosed = before.open() + dynoConns - after.open();
        if (r.requests() > 0 && r.bytesPerRequest() < c.bodyBytes()) {
            throw new IllegalStateException(target.key() + " " + c.path() + ": " + r.bytesPerRequest() + " bytes per response, expected over " + c.bodyBytes());
        }
        return new Sample(r.rps(), r.p50(), r.p99(), r.p999(), r.max(), r.requests(), r.errors(), r.bytesPerRequest(), dynoConns / r.allSeconds(), dynoClosed,
                r.allRequests() == 0 || cpuTicks < 0 ? Double.NaN : cpuTicks * TICK_US / r.allRequests(), jitMs, gc,
                r.allRequests() == 0 ? Double.NaN : allocated / (double) r.allRequests());
    }

    /**
     * Until this JVM's JIT has compiled nothing for a second (30 s at most). Under load its compiler threads share
     * core 1 with the load generator and the dyno and fall behind; what they compile during a measured round takes
     * core 1 from the other two, and the router runs slower code until it is done. No event says the compile
     * queue is empty, so its counter is polled.
     */
    private static void awaitCompilerIdle(String phase) throws InterruptedException {
        long start = System.nanoTime(), last = JIT.getTotalCompilationTime();
        while (System.nanoTime() - start < 30_000_000_000L) {
            Thread.sleep(1000);
            long now = JIT.getTotalCompilationTime();
            if (now == last) {
                log("%s: the JIT is idle after %.1f s", phase, (System.nanoTime() - start) / 1e9);
                return;
            }
            last = now;
        }
        log("%s: the JIT still compiling after 30 s; measuring anyway", phase);
    }

    private static List<GarbageCollectorMXBean> gcCycleBeans() {
        List<GarbageCollectorMXBean> all = ManagementFactory.getGarbageCollectorMXBeans();
        List<GarbageCollectorMXBean> cycles = all.stream().filter(b -> b.getName().endsWith(" Cycles")).toList();
        return cycles.isEmpty() ? all : cycles;
    }

    private static long gcCycles() {
        return GC_CYCLES.stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
    }

    /**
     * The dyno's connection counts (nginx stub_status): accepted since it started, and open now. A turn's closes show
     * work it shared the cores with: the proxies close their idle dyno connections on timers of their own, seconds to
     * 90 s after their last use, so a 1,024-connection turn's pool closes during later turns, other targets' included.
     */
    private record DynoStatus(long accepted, long open) {
        static DynoStatus of(String statusUrl) throws IOException, InterruptedException {
            String out = exec("", "curl", "-s", "-m", "5", statusUrl);
            String[] lines = out.split("\n"); // "Active connections: N", "server accepts handled requests", " A H R", ...
            if (lines.length < 3 || !lines[0].startsWith("Active connections:")) throw new IllegalStateException("the dyno's stub_status gave: " + out);
            return new DynoStatus(Long.parseLong(lines[2].strip().split("\\s+")[0]), Long.parseLong(lines[0].substring("Active connections:".length()).strip()));
        }
    }

    /** Until {@code url}'s case path answers 200 with the case's body size (5 s). */
    private static void waitUntilServing(String url, Case c) throws IOException, InterruptedException {
        String last = "";
        for (int i = 0; i < 50; i++) {
            Process p = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "-m", "2", "-H", "Host: " + HOST, "-w", "%{http_code} %{size_download}", url + c.path())
                    .redirectErrorStream(true).start();
            last = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor();
            if (last.equals("200 " + c.bodyBytes())) return;
            Thread.sleep(100);
        }
        throw new IllegalStateException(url + c.path() + " does not serve (last answer: '" + last + "')");
    }

    // ---- The dyno and the peers ---------------------------------------------------------------------------------

    private static void startDyno(Path dir, Topology topology, boolean pin) throws IOException {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.write(www.resolve("0k"), new byte[0]);
        Files.write(www.resolve("16k"), "x".repeat(16 * 1024).getBytes(StandardCharsets.US_ASCII));
        String conf = """
                worker_processes %d;
                user root;
                daemon off;
                master_process on;
                pid %s/dyno.pid;
                worker_rlimit_nofile 16384;
                events { worker_connections 8192; }
                http {
                  access_log off;
                  sendfile on;
                  tcp_nodelay on;
                  keepalive_timeout 300s;
                  keepalive_requests 100000000;
                  open_file_cache max=16;
                  default_type application/octet-stream;
                  client_body_temp_path %s/dyno-body;
                  proxy_temp_path %s/dyno-proxy;
                  fastcgi_temp_path %s/dyno-fcgi;
                  uwsgi_temp_path %s/dyno-uwsgi;
                  scgi_temp_path %s/dyno-scgi;
                  server {
                    listen %s:%d backlog=4096 reuseport;
                    root %s;
                    location / { }
                    location = /dyno-status { stub_status; }
                  }
                }
                """.formatted(dynoWorkers(pin), dir, dir, dir, dir, dir, dir, topology.dynoAddress(), DYNO_PORT, www);
        Path file = dir.resolve("dyno.conf");
        Files.writeString(file, conf);
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", topology.ns));
        if (pin) command.addAll(List.of("taskset", "-c", otherCores()));
        command.addAll(List.of("nginx", "-p", dir.toString(), "-e", dir.resolve("dyno-error.log").toString(), "-c", file.toString()));
        BenchNet.start(dir.resolve("dyno.log"), command.toArray(String[]::new));
    }

    private static int startHaproxy(Path dir, String dyno, boolean pin, boolean busyPolling) throws IOException {
        int port = freePort();
        String conf = """
                global
                  nbthread 1%s
                  maxconn 8000
                defaults
                  mode http
                  option http-keep-alive
                  http-reuse always
                  timeout connect 5s
                  timeout client 90s
                  timeout server 30s
                  timeout http-keep-alive 90s
                  timeout http-request 10s
                  maxconn 8000
                frontend fe
                  bind %s:%d
                  option forwardfor
                  unique-id-format %%[uuid()]
                  unique-id-header X-Request-Id
                  http-request set-header X-Forwarded-Proto http
                  http-request set-header X-Forwarded-Port %%[dst_port]
                  http-request set-header X-Request-Start %%[date(0,ms)]
                  http-request add-header Via "1.1 bench"
                  http-response set-header X-Request-Id %%[unique-id]
                  http-response add-header Via "1.1 bench"
                  use_backend be if { req.hdr(host) -i %s }
                backend be
                  server web1 %s:%d maxconn 0
                """.formatted(busyPolling ? "\n  busy-polling" : "", LOCALHOST, port, HOST, dyno, DYNO_PORT);
        Path file = dir.resolve("haproxy.cfg");
        Files.writeString(file, conf);
        List<String> command = new ArrayList<>();
        // A session of its own when it will be stopped between turns: in this JVM's process group, a stopped member
        // would make the kernel hang up the whole group (the bench included) when any other member exits.
        if (busyPolling) command.add("setsid");
        command.addAll(pinned(pin));
        command.addAll(List.of("haproxy", "-db", "-f", file.toString()));
        PROCESSES.put(Target.HAPROXY, BenchNet.start(dir.resolve("haproxy.log"), command.toArray(String[]::new)).toHandle());
        return port;
    }

    private static int startNginx(Path dir, String dyno, boolean pin) throws IOException {
        int port = freePort();
        String conf = """
                worker_processes 1;
                user root;
                daemon off;
                master_process on;
                pid %s/proxy.pid;
                worker_rlimit_nofile 16384;
                events { worker_connections 8192; }
                http {
                  access_log off;
                  keepalive_timeout 90s;
                  keepalive_requests 100000000;
                  client_body_temp_path %s/proxy-body;
                  proxy_temp_path %s/proxy-proxy;
                  fastcgi_temp_path %s/proxy-fcgi;
                  uwsgi_temp_path %s/proxy-uwsgi;
                  scgi_temp_path %s/proxy-scgi;
                  upstream dyno {
                    server %s:%d;
                    keepalive 1024;
                    keepalive_requests 100000000;
                    keepalive_timeout 90s;
                  }
                  server {
                    listen %s:%d backlog=4096;
                    server_name %s;
                    location / {
                      proxy_pass http://dyno;
                      proxy_http_version 1.1;
                      proxy_set_header Connection "";
                      proxy_set_header Host $host;
                      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                      proxy_set_header X-Forwarded-Proto $scheme;
                      proxy_set_header X-Forwarded-Port $server_port;
                      proxy_set_header X-Request-Start $msec;
                      proxy_set_header X-Request-Id $request_id;
                      proxy_set_header Via "1.1 bench";
                      add_header X-Request-Id $request_id always;
                      add_header Via "1.1 bench" always;
                    }
                  }
                }
                """.formatted(dir, dir, dir, dir, dir, dir, dyno, DYNO_PORT, LOCALHOST, port, HOST);
        Path file = dir.resolve("nginx-proxy.conf");
        Files.writeString(file, conf);
        List<String> command = new ArrayList<>(pinned(pin));
        command.addAll(List.of("nginx", "-p", dir.toString(), "-e", dir.resolve("proxy-error.log").toString(), "-c", file.toString()));
        PROCESSES.put(Target.NGINX, BenchNet.start(dir.resolve("nginx-proxy.log"), command.toArray(String[]::new)).toHandle());
        return port;
    }

    /**
     * One nginx worker per core the dyno may run on (nginx's own {@code auto} counts the machine's cores, not the
     * pinned set): a second worker on the one core it shares with the load generator only adds a runnable task
     * for the scheduler to switch between.
     */
    private static int dynoWorkers(boolean pin) {
        return pin ? Math.max(1, CORES - 1) : CORES;
    }

    /** Every core but 0: wrk's and the dyno's. */
    private static String otherCores() {
        return CORES == 2 ? "1" : "1-" + (CORES - 1);
    }

    private static List<String> pinned(boolean pin) {
        return pin ? List.of("taskset", "-c", "0") : List.of();
    }

    /**
     * CPU time (user and system, in clock ticks) the target's processes have used so far, or -1 if unknown: the
     * cost per request, which the machine's other load disturbs less than requests/s do.
     */
    private static long cpuTicks(Target target) {
        ProcessHandle main = target == Target.ROUTER ? ProcessHandle.current() : PROCESSES.get(target);
        if (main == null) return -1;
        long ticks = 0;
        // This JVM's children are wrk and curl, not the router's; the proxies' are their workers.
        List<ProcessHandle> processes = target == Target.ROUTER ? List.of(main)
                : java.util.stream.Stream.concat(java.util.stream.Stream.of(main), main.descendants()).toList();
        for (ProcessHandle p : processes) {
            try {
                String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // f[0] is field 3 (state)
                ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);             // fields 14 and 15: utime, stime
            } catch (IOException | RuntimeException gone) {
                // exited meanwhile
            }
        }
        return ticks;
    }

    private static long clockTicksPerSecond() {
        try {
            return Long.parseLong(exec("", "getconf", "CLK_TCK").strip());
        } catch (Exception e) {
            return 100;
        }
    }

    /** The 1-minute load average: the machine is shared, and a high one means noisy numbers. */
    private static Double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The soft limit on open files, which wrk, HAProxy and nginx inherit (they may not be allowed to raise it). */
    private static long openFileLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).strip().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        }
        return Long.MAX_VALUE;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(LOCALHOST))) {
            return s.getLocalPort();
        }
    }

    /** The logs of this run's servers, for an error message. */
    private static String logs(Path dir) {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
                String text = Files.readString(f).strip();
                if (!text.isEmpty()) sb.append("\n--- ").append(f.getFileName()).append(":\n").append(text.length() > 2000 ? text.substring(text.length() - 2000) : text);
            }
        } catch (IOException e) {
            sb.append("\n(could not read the logs: ").append(e.getMessage()).append(')');
        }
        return sb.toString();
    }

    private static String firstLine(String s) {
        return s.lines().findFirst().orElse("").strip();
    }

    private static void log(String format, Object... args) {
        System.err.println("router: " + String.format(Locale.ROOT, format, args));
    }

    // ---- Topology: root namespace -- veth -- dyno namespace -----------------------------------------------------

    /** A dyno namespace behind a veth: 198.18.N.1/30 on the root side, 198.18.N.2/30 on the dyno's eth0. */
    private record Topology(String ns, String veth, int octet) {
        String hostAddress() { return "198.18." + octet + ".1"; }

        String dynoAddress() { return "198.18." + octet + ".2"; }

        static Topology create(String tag) throws IOException, InterruptedException {
            String used = exec("", "ip", "-4", "-o", "addr", "show") + exec("", "ip", "-4", "route", "show", "table", "all");
            int octet = -1;
            for (int i = 0; i < 64 && octet < 0; i++) {
                int candidate = 1 + ThreadLocalRandom.current().nextInt(254);
                if (!used.contains("198.18." + candidate + ".")) octet = candidate;
            }
            if (octet < 0) throw new IllegalStateException("no free 198.18.N.0/30 for the dyno's veth");
            Topology t = new Topology("rbd" + tag, "rb" + tag, octet);
            BenchNet.addNetns(t.ns);
            ip("link", "add", t.veth, "type", "veth", "peer", "name", "eth0", "netns", t.ns);
            ip("addr", "add", t.hostAddress() + "/30", "dev", t.veth);
            ip("link", "set", t.veth, "up");
            ip("-n", t.ns, "addr", "add", t.dynoAddress() + "/30", "dev", "eth0");
            ip("-n", t.ns, "link", "set", "lo", "up");
            ip("-n", t.ns, "link", "set", "eth0", "up");
            return t;
        }
    }
}
