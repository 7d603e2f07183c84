package io.dynoplane.plane;

import io.dynoplane.ffm.Libbpf;
import io.dynoplane.provisioner.Dyno;
import io.dynoplane.provisioner.Edge;
import io.dynoplane.provisioner.DynoSpec;
import io.dynoplane.provisioner.HairpinPeers;
import io.dynoplane.provisioner.IsolationPlane;
import io.dynoplane.provisioner.NatTable;
import io.dynoplane.provisioner.Provisioner;
import io.dynoplane.provisioner.ProvisionerConfig;
import io.dynoplane.router.AppRoute;
import io.dynoplane.router.Backend;
import io.dynoplane.router.RouteTable;
import io.dynoplane.router.Router;
import io.dynoplane.router.RouterConfig;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The plane in one process: isolation program loaded, router listening, dynos wired and watched.
 * Thin for now: it runs what it is told to deploy and tears it down on close; restarts, scale and
 * releases come with the dyno manager.
 */
public final class Plane implements AutoCloseable {
    /** Where the router listens, the domain apps hang under ({@code hello.<domain>}), and the lifecycle timings. */
    public record Config(InetSocketAddress routerListen, InetSocketAddress adminListen, String domain, ProvisionerConfig provisioner,
                         int webPort, Duration bootTimeout, Duration stopGrace, Consumer<LogLine> logs) {
        /** Router on 127.0.0.1:{@code routerPort}, metrics on an ephemeral loopback port. */
        public static Config defaults(int routerPort, Consumer<LogLine> logs) {
            return new Config(new InetSocketAddress("127.0.0.1", routerPort), new InetSocketAddress("127.0.0.1", 0), "localhost",
                    ProvisionerConfig.defaults(), 5000, Duration.ofSeconds(60), Duration.ofSeconds(30), logs);
        }

        public Config withProvisioner(ProvisionerConfig provisioner) {
            return new Config(routerListen, adminListen, domain, provisioner, webPort, bootTimeout, stopGrace, logs);
        }

        public Config withTimeouts(Duration bootTimeout, Duration stopGrace) {
            return new Config(routerListen, adminListen, domain, provisioner, webPort, bootTimeout, stopGrace, logs);
        }

        public Config withAdminPort(int port) {
            return new Config(routerListen, new InetSocketAddress("127.0.0.1", port), domain, provisioner, webPort, bootTimeout, stopGrace, logs);
        }
    }

    private final Config config;
    private final IsolationPlane isolation;
    private final Provisioner provisioner;
    private final Router router;
    private final HTTPServer admin;
    private final LogPump logs;
    private final PrometheusRegistry registry;
    private volatile Edge edge;
    private volatile NatTable nat;
    private volatile HairpinPeers hairpin;
    private volatile InetSocketAddress hairpinListener;
    private final List<RunningDyno> dynos = new CopyOnWriteArrayList<>();

    private Plane(Config config, IsolationPlane isolation, Provisioner provisioner, Router router, PrometheusRegistry registry) throws IOException {
        this.config = config;
        this.isolation = isolation;
        this.provisioner = provisioner;
        this.router = router;
        this.logs = new LogPump(config.logs(), 10_000);
        this.registry = registry;
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
        registry.register(new IsolationMetrics(() -> dynos.stream()
                .map(d -> new IsolationMetrics.DynoCounts(d.dyno.spec().app(), d.dyno.spec().name(), isolation.counts(d.dyno.id())))
                .toList()));
        this.admin = HTTPServer.builder().inetAddress(config.adminListen().getAddress()).port(config.adminListen().getPort())
                .registry(registry).buildAndStart();
        // Router lines are written on the event loops: queue them, never write there.
        router.onLog(line -> logs.accept(LogLine.heroku("router", line)));
    }

    /**
     * Opens the isolation guard on its pins (adopting what a previous run left pinned, so its dynos stay
     * isolated throughout), removes that run's dynos, and starts the router; fails, leaving nothing
     * behind, if any of it cannot.
     */
    public static Plane start(Config config) {
        IsolationPlane isolation = IsolationPlane.open(config.provisioner().bpfPins());
        Provisioner provisioner = null;
        Router router = null;
        try {
            provisioner = new Provisioner(config.provisioner(), isolation);
            for (String removed : provisioner.reconcile()) {
                config.logs().accept(LogLine.heroku("plane", "Removed " + removed + ", left by a previous run"));
            }
            warnIfUnprivilegedBpfAllowed(config);
            PrometheusRegistry registry = new PrometheusRegistry();
            router = Router.start(new RouterConfig(config.routerListen(), "dynoplane", 0), registry);
            return new Plane(config, isolation, provisioner, router, registry);
        } catch (IOException e) {
            router.close();
            provisioner.close();
            isolation.close();
            throw new IllegalStateException("metrics cannot listen on " + config.adminListen() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (router != null) router.close();
            if (provisioner != null) provisioner.close();
            isolation.close();
            throw e;
        }
    }

    public Router router() { return router; }

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
            if (Files.readString(Path.of("/proc/sys/kernel/unprivileged_bpf_disabled")).strip().equals("0")) {
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
     * Starts {@code webDynos} web dynos of the app in {@code releaseDir} and waits until each has
     * bound {@code $PORT} (Heroku's boot check) or the boot timeout passes.
     */
    public List<Dyno> deploy(String app, Path releaseDir, int webDynos) {
        Procfile procfile = Procfile.read(releaseDir);
        String command = procfile.command("web");
        List<RunningDyno> started = new ArrayList<>();
        for (int i = 1; i <= webDynos; i++) {
            DynoSpec spec = new DynoSpec(app, "web", i, command, releaseDir.toAbsolutePath(), Map.of(), config.webPort());
            config.logs().accept(LogLine.heroku(spec.name(), "Starting process with command `" + command + "`"));
            Dyno dyno = provisioner.provision(spec, line -> config.logs().accept(LogLine.app(spec.name(), line)));
            RunningDyno running = new RunningDyno(dyno);
            dynos.add(running);
            started.add(running);
            watch(running);
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(started.stream().map(d -> d.up).toArray(CompletableFuture[]::new));
        try {
            all.get(config.bootTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("deploying " + app + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException | InterruptedException e) {
            throw new IllegalStateException("deploying " + app + ": dynos did not boot in " + config.bootTimeout(), e);
        }
        return started.stream().map(d -> d.dyno).toList();
    }

    /** Boot check, then exit watch: the two events that move a dyno's state. */
    private void watch(RunningDyno running) {
        Dyno dyno = running.dyno;
        String name = dyno.spec().name();
        dyno.process().onExit().thenAccept(p -> {
            if (running.stopping) return;
            config.logs().accept(LogLine.heroku(name, "Process exited with status " + p.exitValue()));
            DynoState was = running.moveTo(DynoState.CRASHED);
            config.logs().accept(LogLine.heroku(name, "State changed from " + was.label() + " to crashed"));
            running.up.completeExceptionally(new IllegalStateException(name + " exited with status " + p.exitValue() + " before binding $PORT"));
            publishRoutes();
        });
        Thread.ofVirtual().name("boot-" + dyno.spec().app() + "-" + name).start(() -> {
            long deadline = System.nanoTime() + config.bootTimeout().toNanos();
            // Polling the namespace's socket table is how the boot check is observed: the kernel has no event for "bound".
            while (!dyno.process().listensOn(dyno.spec().port())) {
                if (!dyno.process().isAlive() || running.stopping) return;
                if (System.nanoTime() > deadline) {
                    config.logs().accept(LogLine.heroku(name, "Error R10 (Boot timeout) -> Web process failed to bind to $PORT within "
                            + config.bootTimeout().toSeconds() + " seconds of launch"));
                    dyno.process().stop(Duration.ZERO);
                    return;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
            DynoState was = running.moveTo(DynoState.UP);
            config.logs().accept(LogLine.heroku(name, "State changed from " + was.label() + " to up"));
            publishRoutes();
            running.up.complete(null);
        });
    }

    /** Rebuilds the router's snapshot from the up web dynos; the only writer of the route table. */
    private synchronized void publishRoutes() {
        Map<String, List<Backend>> byApp = new LinkedHashMap<>();
        for (RunningDyno d : dynos) {
            DynoSpec spec = d.dyno.spec();
            if (!spec.isWeb()) continue;
            List<Backend> backends = byApp.computeIfAbsent(spec.app(), a -> new ArrayList<>());
            if (d.state() == DynoState.UP && !d.stopping) {
                backends.add(new Backend(spec.name(), new InetSocketAddress(d.dyno.subnet().dynoInet(), spec.port())));
            }
        }
        RouteTable table = RouteTable.empty();
        for (Map.Entry<String, List<Backend>> app : byApp.entrySet()) {
            table = table.with(hostOf(app.getKey()), new AppRoute(app.getKey(), List.copyOf(app.getValue())));
        }
        router.publish(table);
    }

    public List<DynoStatus> dynos() {
        return dynos.stream().map(d -> {
            Dyno dyno = d.dyno;
            DynoSpec spec = dyno.spec();
            return new DynoStatus(spec.name(), spec.app(), spec.type(), d.state().label(), dyno.address(), dyno.netns().name(),
                    dyno.process().pid(), spec.port(), dyno.hostVeth(), null, spec.spaceId() == 0 ? null : Integer.toString(spec.spaceId()), 0, null);
        }).toList();
    }

    /** Drains the router, then stops and unwires every dyno; the isolation guard's pins go with the last dyno. */
    @Override
    public void close() {
        // The router first: it stops accepting and lets requests in flight finish (up to the grace period)
        // while their dynos still run; then every dyno gets its SIGTERM.
        router.drain(config.stopGrace());
        for (RunningDyno d : dynos) d.stopping = true;
        // Every dyno gets its SIGTERM at once, as on Heroku: shutdown takes one grace period, not one per dyno.
        RuntimeException failure = null;
        try (ExecutorService stopping = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> stops = dynos.stream().<Future<?>>map(d -> stopping.submit(() -> {
                String name = d.dyno.spec().name();
                config.logs().accept(LogLine.heroku(name, "Stopping all processes with SIGTERM"));
                provisioner.teardown(d.dyno, config.stopGrace());
                DynoState was = d.moveTo(DynoState.DOWN);
                config.logs().accept(LogLine.heroku(name, "State changed from " + was.label() + " to down"));
            })).toList();
            for (Future<?> stop : stops) {
                try {
                    stop.get();
                } catch (ExecutionException e) {
                    RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                    if (failure == null) failure = cause; else failure.addSuppressed(cause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        dynos.clear();
        if (hairpinListener != null) isolation.denyHairpin(hairpinListener);
        if (hairpin != null) hairpin.close();
        if (nat != null) nat.close();
        if (edge != null) edge.close();
        router.close();
        logs.close();
        admin.close();
        boolean empty = failure == null && provisioner.leases().isEmpty();
        provisioner.close();
        if (empty) isolation.removePins(); // nothing left to guard: the maps and links go
        else isolation.close();
        if (failure != null) throw failure;
    }
}
