package io.dynoplane.plane;

import io.dynoplane.ffm.Libbpf;
import io.dynoplane.provisioner.Dyno;
import io.dynoplane.provisioner.Edge;
import io.dynoplane.provisioner.HairpinPeers;
import io.dynoplane.provisioner.IsolationPlane;
import io.dynoplane.provisioner.NatTable;
import io.dynoplane.provisioner.NeighbourTable;
import io.dynoplane.provisioner.Provisioner;
import io.dynoplane.provisioner.ProvisionerConfig;
import io.dynoplane.plane.manager.AppState;
import io.dynoplane.plane.manager.DynoManager;
import io.dynoplane.plane.manager.ManagerConfig;
import io.dynoplane.router.AppRoute;
import io.dynoplane.router.Backend;
import io.dynoplane.router.RouteTable;
import io.dynoplane.router.Router;
import io.dynoplane.router.RouterConfig;
import io.dynoplane.router.TrustedSources;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.TreeMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The plane in one process: isolation program loaded, router listening, the dyno manager keeping each
 * app's formation running on the provisioner, and the route table it publishes. What apps exist and
 * what they run comes from above ({@link #manager()}: the daemon, or {@link #deploy} for one app).
 */
public final class Plane implements AutoCloseable {
    /**
     * Where the router listens, the domain apps hang under ({@code hello.<domain>}), the lifecycle rules,
     * where the plane's own lines go ({@code logs}), where each app's lines go ({@code appLogs}) and the CPUs
     * the router's event loops are pinned to, one loop each, polling for work before they sleep ({@code routerCpus};
     * empty: two loops per core, unpinned, sleeping at once).
     */
    public record Config(InetSocketAddress routerListen, InetSocketAddress adminListen, String domain, ProvisionerConfig provisioner,
                         ManagerConfig manager, Consumer<LogLine> logs, BiConsumer<String, LogLine> appLogs, List<Integer> routerCpus) {
        public Config {
            routerCpus = List.copyOf(routerCpus);
        }

        /** Router on 127.0.0.1:{@code routerPort}, metrics on an ephemeral loopback port, Heroku's lifecycle, every line to {@code logs}. */
        public static Config defaults(int routerPort, Consumer<LogLine> logs) {
            return new Config(new InetSocketAddress("127.0.0.1", routerPort), new InetSocketAddress("127.0.0.1", 0), "localhost",
                    ProvisionerConfig.defaults(), ManagerConfig.defaults(), logs, (app, line) -> logs.accept(line), List.of());
        }

        public Config withProvisioner(ProvisionerConfig provisioner) {
            return new Config(routerListen, adminListen, domain, provisioner, manager, logs, appLogs, routerCpus);
        }

        public Config withManager(ManagerConfig manager) {
            return new Config(routerListen, adminListen, domain, provisioner, manager, logs, appLogs, routerCpus);
        }

        public Config withTimeouts(Duration bootTimeout, Duration stopGrace) {
            return withManager(manager.withBoot(bootTimeout).withStopGrace(stopGrace));
        }

        public Config withAdminPort(int port) {
            return new Config(routerListen, new InetSocketAddress("127.0.0.1", port), domain, provisioner, manager, logs, appLogs, routerCpus);
        }

        public Config withAppLogs(BiConsumer<String, LogLine> appLogs) {
            return new Config(routerListen, adminListen, domain, provisioner, manager, logs, appLogs, routerCpus);
        }

        public Config withRouterCpus(List<Integer> cpus) {
            return new Config(routerListen, adminListen, domain, provisioner, manager, logs, appLogs, cpus);
        }
    }

    private final Config config;
    private final IsolationPlane isolation;
    private final Provisioner provisioner;
    /** The dynos the kernel's neighbour table is sized for (two entries each); see {@link NeighbourTable}. */
    private static final int NEIGHBOUR_DYNOS = 4096;
    private final NeighbourTable neighbours;
    private final Router router;
    private final HTTPServer admin;
    private final LogPump logs;
    private final PrometheusRegistry registry;
    private final DynoManager manager;
    private final DynoMetrics dynoMetrics;
    private volatile Edge edge;
    private volatile NatTable nat;
    private volatile HairpinPeers hairpin;
    private volatile InetSocketAddress hairpinListener;
    private final Map<String, List<Backend>> routes = new TreeMap<>(); // guarded by this
    private final Map<String, TrustedSources> trusted = new HashMap<>(); // guarded by this
    /** Apps the router shows as booting until the manager first publishes them (see {@link ExpectedApp}). */
    private final Map<String, List<Backend>> expected = new HashMap<>(); // guarded by this
    private final List<RouteWaiter> waiters = new ArrayList<>(); // guarded by this

    private record RouteWaiter(String app, int up, CompletableFuture<Void> done) {}

    private Plane(Config config, IsolationPlane isolation, Provisioner provisioner, NeighbourTable neighbours, Router router,
                  PrometheusRegistry registry, Map<String, List<Backend>> booting, Map<String, TrustedSources> trusted) throws IOException {
        this.config = config;
        this.expected.putAll(booting);
        this.routes.putAll(booting);
        this.trusted.putAll(trusted);
        this.neighbours = neighbours;
        this.isolation = isolation;
        this.provisioner = provisioner;
        this.router = router;
        this.logs = new LogPump(config.logs(), config.appLogs(), 10_000);
        this.registry = registry;
        this.manager = new DynoManager(provisioner, config.manager(), config.appLogs(), this::publishRoutes);
        this.dynoMetrics = new DynoMetrics(() -> manager.running().stream()
                .map(d -> DynoMetrics.Probe.of(d.spec().app(), d.spec().name(), d.spec().type(), d.netns().pin(),
                        d.spec().isWeb() ? d.spec().port() : null, d.process()))
                .toList());
        registry.register(new io.prometheus.metrics.model.registry.Collector() {
            @Override
            public io.prometheus.metrics.model.snapshots.MetricSnapshot collect() {
                return io.prometheus.metrics.model.snapshots.CounterSnapshot.builder()
                        .name("dynoplane_log_lines_dropped").help("Router log lines dropped because the log sink fell behind")
                        .dataPoint(io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot.builder().value(logs.dropped()).build())
                        .build();
            }

            @Override
            public String getPrometheusName() { return "dynoplane_log_lines_dropped"; }
        });
        registry.register(new IsolationMetrics(() -> manager.running().stream()
                .map(d -> new IsolationMetrics.DynoCounts(d.spec().app(), d.spec().name(), isolation.counts(d.id())))
                .toList()));
        registry.register(manager.metrics());
        registry.register(dynoMetrics);
        this.admin = HTTPServer.builder().inetAddress(config.adminListen().getAddress()).port(config.adminListen().getPort())
                .registry(registry).buildAndStart();
        // Router lines are written on the event loops: queue them, never write there. A line for no app (unknown host) is the plane's.
        router.onAppLog((app, line) -> logs.accept(app, LogLine.heroku("router", line)));
    }

    /**
     * Opens the isolation guard on its pins (adopting what a previous run left pinned, so its dynos stay
     * isolated throughout), removes that run's dynos, and starts the router; fails, leaving nothing
     * behind, if any of it cannot.
     */
    public static Plane start(Config config) {
        return start(config, Map.of());
    }

    /**
     * What the router should know of an app from the moment it listens, before the manager has its dynos back (a
     * restarted daemon): that {@code webDynos} web dynos are booting, so its requests queue rather than get 404, and
     * which clients its space trusts.
     */
    public record ExpectedApp(int webDynos, List<String> trustedSources) {}

    /** As {@link #start(Config)}, with the router knowing {@code expected} apps as booting until the manager publishes them. */
    public static Plane start(Config config, Map<String, ExpectedApp> expected) {
        IsolationPlane isolation = IsolationPlane.open(config.provisioner().bpfPins());
        Provisioner provisioner = null;
        NeighbourTable neighbours = null;
        Router router = null;
        try {
            provisioner = new Provisioner(config.provisioner(), isolation);
            for (String removed : provisioner.reconcile()) {
                config.logs().accept(LogLine.heroku("plane", "Removed " + removed + ", left by a previous run"));
            }
            warnIfUnprivilegedBpfAllowed(config);
            neighbours = NeighbourTable.reserve(NEIGHBOUR_DYNOS, config.provisioner().stateDir().resolve("neighbours"));
            neighbours.raised().forEach((knob, values) -> config.logs().accept(LogLine.heroku("plane",
                    "Raised " + knob + " from " + values[0] + " to " + values[1] + " (two neighbour entries per dyno), until the plane stops")));
            PrometheusRegistry registry = new PrometheusRegistry();
            RouterConfig routerConfig = config.routerCpus().isEmpty()
                    ? new RouterConfig(config.routerListen(), "dynoplane", 0)
                    : new RouterConfig(config.routerListen(), "dynoplane", config.routerCpus().size()).withDedicatedCores(config.routerCpus());
            router = Router.start(routerConfig, registry);
            Map<String, List<Backend>> booting = new TreeMap<>();
            Map<String, TrustedSources> trusted = new HashMap<>();
            expected.forEach((app, e) -> {
                List<Backend> web = new ArrayList<>();
                for (int i = 1; i <= e.webDynos(); i++) {
                    web.add(new Backend("web." + i, InetSocketAddress.createUnresolved("0.0.0.0", config.manager().webPort()), Backend.State.STARTING));
                }
                booting.put(app, List.copyOf(web));
                if (!e.trustedSources().isEmpty()) trusted.put(app, TrustedSources.of(e.trustedSources()));
            });
            router.publish(table(config.domain(), booting, trusted)); // at once: the router is listening already
            return new Plane(config, isolation, provisioner, neighbours, router, registry, booting, trusted);
        } catch (IOException e) {
            neighbours.close();
            router.close();
            provisioner.close();
            isolation.close();
            throw new IllegalStateException("metrics cannot listen on " + config.adminListen() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (router != null) router.close();
            if (neighbours != null) neighbours.close();
            if (provisioner != null) provisioner.close();
            isolation.close();
            throw e;
        }
    }

    public Router router() { return router; }

    /** The plane's Prometheus registry (served on the admin port): the daemon adds its own collectors. */
    public PrometheusRegistry registry() { return registry; }

    /** The dyno manager: what the control API drives. */
    public DynoManager manager() { return manager; }

    /**
     * Makes {@code iface} the plane's uplink. The XDP edge goes on it: packets from outside to the dyno
     * range are dropped, and new connections to the router are SYN-rate limited per source (100/s, burst
     * 200). The BPF NAT goes on it too: dyno traffic leaves SNATed to the uplink's IPv4 address, and the
     * guard lets dynos reach {@code egress} (e.g. 0.0.0.0/0 when this is the host's default route: any
     * destination the host routes elsewhere would leave un-NATed, so list only what the uplink reaches).
     * Both are detached when the plane closes.
     */
    public synchronized Edge guardUplink(String iface, List<String> egress) {
        if (edge != null) throw new IllegalStateException("the uplink is already guarded");
        int ifindex = Libbpf.ifindex(iface);
        String outbound = ipv4Of(iface);
        for (String cidr : egress) IsolationPlane.requireCidr(cidr); // every CIDR valid before anything is attached
        Edge attached = Edge.attach(ifindex);
        try {
            // Any local address: the router may be reached on whichever address the uplink carries.
            attached.publicListener(new InetSocketAddress("0.0.0.0", router.port()));
            attached.synRate(100, 200);
            nat = NatTable.attach(ifindex, outbound, config.provisioner().pool(), NatTable.Config.defaults());
            Provisioner.enableForwarding(iface); // replies, un-NATed at its ingress, are routed on to the dynos
        } catch (RuntimeException e) {
            if (nat != null) nat.close();
            nat = null;
            attached.close();
            throw e;
        }
        for (String cidr : egress) isolation.allowEgress(cidr);
        enableHairpin(outbound);
        registry.register(new EdgeMetrics(attached));
        registry.register(new NatMetrics(nat));
        config.logs().accept(LogLine.heroku("plane", "Uplink " + iface + ": edge attached (XDP " + attached.mode().name().toLowerCase(java.util.Locale.ROOT)
                + " mode), NAT egress to " + outbound + " for " + String.join(", ", egress)));
        edge = attached;
        return attached;
    }

    /**
     * Hairpin: dynos may reach the router on its listening address (a wildcard listen: any host address, e.g. the
     * uplink's), as apps call each other by URL; the router sees such a client as {@code outbound}, the dyno's NAT
     * address, never its 172.16/12 one. The guard opens the router's port to dynos only once the getpeername
     * program that hides their addresses is attached (to this process's cgroup2); if it cannot be, the hairpin stays
     * closed and a warning is logged. A router on a loopback address is unreachable from dynos: nothing is opened.
     */
    private void enableHairpin(String outbound) {
        InetSocketAddress listen = new InetSocketAddress(config.routerListen().getAddress(), router.port());
        if (listen.getAddress().isLoopbackAddress()) return;
        HairpinPeers peers;
        try {
            peers = HairpinPeers.attach(HairpinPeers.ownCgroup(), outbound);
            peers.routerPort(router.port());
        } catch (RuntimeException e) {
            config.logs().accept(LogLine.heroku("plane", "Warning: hairpin to the router stays closed to dynos: " + e.getMessage()));
            return;
        }
        isolation.allowHairpin(listen);
        hairpin = peers;
        hairpinListener = listen;
        config.logs().accept(LogLine.heroku("plane", "Hairpin: dynos reach the router on " + listen.getAddress().getHostAddress() + ":" + listen.getPort()
                + ", seen as " + outbound + " (getpeername program on cgroup " + peers.cgroup() + ")"));
    }

    /** The uplink's NAT, once {@link #guardUplink} ran. */
    public Optional<NatTable> nat() { return Optional.ofNullable(nat); }

    private static String ipv4Of(String iface) {
        try {
            NetworkInterface nic = NetworkInterface.getByName(iface);
            if (nic == null) throw new IllegalArgumentException("no interface named '" + iface + "'");
            return nic.inetAddresses().filter(a -> a instanceof Inet4Address).findFirst()
                    .map(InetAddress::getHostAddress)
                    .orElseThrow(() -> new IllegalArgumentException("uplink '" + iface + "' has no IPv4 address for NAT egress"));
        } catch (SocketException e) {
            throw new IllegalArgumentException("reading the addresses of '" + iface + "': " + e.getMessage(), e);
        }
    }

    /** The loopback port serving Prometheus metrics at /metrics. */
    public int adminPort() { return admin.getPort(); }

    /** Dynos must not load BPF: without CAP_BPF that holds only while the kernel refuses unprivileged bpf(). */
    private static void warnIfUnprivilegedBpfAllowed(Config config) {
        try {
            if (Files.readAllLines(Path.of("/proc/sys/kernel/unprivileged_bpf_disabled")).getFirst().strip().equals("0")) {
                config.logs().accept(LogLine.heroku("plane", "Warning: kernel.unprivileged_bpf_disabled=0 lets dynos load socket-filter BPF programs; "
                        + "set it to 2 (sysctl -w kernel.unprivileged_bpf_disabled=2)"));
            }
        } catch (IOException e) {
            // no such knob: a kernel without unprivileged BPF at all
        }
    }

    public IsolationPlane isolation() { return isolation; }

    public String hostOf(String app) { return app + "." + config.domain(); }

    /**
     * Runs {@code releaseDir} as app {@code app} with {@code webDynos} web dynos (release 1, no config vars)
     * and waits until they are all up (bound {@code $PORT}) or the boot timeout passes.
     */
    public List<Dyno> deploy(String app, Path releaseDir, int webDynos) {
        Procfile procfile = Procfile.read(releaseDir);
        procfile.command("web");
        CompletableFuture<Void> up = awaitUp(app, webDynos);
        manager.apply(new AppState(app, 0, false, new AppState.Release(1, releaseDir.toAbsolutePath(), Map.of(), procfile), Map.of("web", webDynos)));
        try {
            up.get(config.manager().bootTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("deploying " + app + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException | InterruptedException e) {
            throw new IllegalStateException("deploying " + app + ": dynos did not boot in " + config.manager().bootTimeout(), e);
        }
        return manager.running().stream().filter(d -> d.spec().app().equals(app) && d.spec().isWeb()).toList();
    }

    /** The manager's boot timeout (R10). */
    public Duration bootTimeout() { return config.manager().bootTimeout(); }

    /** Completes once {@code app} has {@code up} web dynos up (at once if it has); fails if one crashes first. */
    public synchronized CompletableFuture<Void> awaitUp(String app, int up) {
        RouteWaiter waiter = new RouteWaiter(app, up, new CompletableFuture<>());
        if (!settle(waiter)) waiters.add(waiter);
        return waiter.done();
    }

    /** True once {@code w} is decided by the current routes. */
    private boolean settle(RouteWaiter w) {
        List<Backend> web = routes.getOrDefault(w.app(), List.of());
        if (web.stream().filter(b -> b.state() == Backend.State.UP).count() >= w.up()) return w.done().complete(null);
        if (web.stream().anyMatch(b -> b.state() == Backend.State.CRASHED)) {
            return w.done().completeExceptionally(new IllegalStateException("a web dyno of " + w.app() + " crashed while booting (see its log)"));
        }
        return false;
    }

    /** The client CIDRs the router admits for {@code app} (its space's trusted IP ranges; empty: any); takes effect at once. */
    public synchronized void trustedSources(String app, List<String> cidrs) {
        TrustedSources sources = TrustedSources.of(cidrs);
        if (sources == TrustedSources.ANY) trusted.remove(app); else trusted.put(app, sources);
        publishTable();
    }

    /** The manager's routes (app to its web dynos; null: none). The only writer of the router's table. */
    private synchronized void publishRoutes(Map<String, List<Backend>> byApp) {
        routes.clear();
        expected.keySet().removeAll(byApp.keySet());
        routes.putAll(expected);
        routes.putAll(byApp);
        publishTable();
        waiters.removeIf(this::settle);
    }

    private void publishTable() {
        router.publish(table(config.domain(), routes, trusted));
    }

    private static RouteTable table(String domain, Map<String, List<Backend>> routes, Map<String, TrustedSources> trusted) {
        Map<String, AppRoute> byHost = new HashMap<>();
        routes.forEach((app, web) -> byHost.put(app + "." + domain,
                new AppRoute(app, web, false, trusted.getOrDefault(app, TrustedSources.ANY))));
        return RouteTable.of(byHost);
    }

    /** Forgets an app the router was told to expect (it was destroyed before the manager ever ran it). */
    public synchronized void forgetExpected(String app) {
        if (expected.remove(app) != null) {
            routes.remove(app);
            publishTable();
        }
    }

    /** Every dyno of every app, one-off dynos included. */
    public List<DynoStatus> dynos() {
        return manager.dynos(null);
    }

    private static void closing(List<RuntimeException> failures, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }

    /** Drains the router, then stops and unwires every dyno; the isolation guard's pins go with the last dyno. */
    @Override
    public void close() {
        // The router first: it stops accepting and lets requests in flight finish (up to the grace period)
        // while their dynos still run; then every dyno gets its SIGTERM, all at once (one grace period in all).
        router.drain(config.manager().stopGrace());
        List<RuntimeException> failures = new ArrayList<>();
        closing(failures, manager::close);
        boolean dynosGone = failures.isEmpty();
        // Each of the rest is undone whatever happened before it: a host left half-configured is worse than an error.
        if (hairpinListener != null) closing(failures, () -> isolation.denyHairpin(hairpinListener));
        if (hairpin != null) closing(failures, hairpin::close);
        if (nat != null) closing(failures, nat::close);
        if (edge != null) closing(failures, edge::close);
        closing(failures, router::close);
        closing(failures, logs::close);
        closing(failures, admin::close);
        closing(failures, dynoMetrics::close);
        closing(failures, neighbours::close);
        boolean empty = dynosGone && provisioner.leases().isEmpty();
        closing(failures, provisioner::close);
        closing(failures, empty ? isolation::removePins : isolation::close); // nothing left to guard: the maps and links go
        if (failures.isEmpty()) return;
        RuntimeException failure = failures.getFirst();
        failures.stream().skip(1).forEach(failure::addSuppressed);
        throw failure;
    }
}
