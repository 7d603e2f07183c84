package io.dynoplane.plane;

import io.dynoplane.plane.api.ControlApi;
import io.dynoplane.provisioner.ProvisionerConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What {@code up} and {@code demo} share: the router's and the metrics' ports, the state folder (the
 * store in {@code store/}, the /30 lease journal beside it), the dyno address pool, the uplink (null:
 * no egress) and the control socket.
 */
record DaemonSettings(int port, int adminPort, Path state, String pool, String uplink, Path socket, List<Integer> routerCpus) {
    static final Path DEFAULT_STATE = Path.of("/var/lib/dynoplane");

    static DaemonSettings defaults() {
        return new DaemonSettings(8080, 9080, DEFAULT_STATE, ProvisionerConfig.defaults().pool(), null, ControlApi.defaultPath(), List.of());
    }

    /** Applies {@code --port}, {@code --admin-port}, {@code --state}, {@code --pool}, {@code --uplink}, {@code --router-cpus}; other keys are the caller's. */
    DaemonSettings with(Map<String, String> options, String command) {
        DaemonSettings s = this;
        for (Map.Entry<String, String> o : options.entrySet()) {
            String value = o.getValue();
            s = switch (o.getKey()) {
                case "port" -> new DaemonSettings(port(command, "--port", value), s.adminPort, s.state, s.pool, s.uplink, s.socket, s.routerCpus);
                case "admin-port" -> new DaemonSettings(s.port, port(command, "--admin-port", value), s.state, s.pool, s.uplink, s.socket, s.routerCpus);
                case "state" -> new DaemonSettings(s.port, s.adminPort, Path.of(value).toAbsolutePath(), s.pool, s.uplink, s.socket, s.routerCpus);
                case "pool" -> new DaemonSettings(s.port, s.adminPort, s.state, value, s.uplink, s.socket, s.routerCpus);
                case "uplink" -> new DaemonSettings(s.port, s.adminPort, s.state, s.pool, value, s.socket, s.routerCpus);
                case "router-cpus" -> new DaemonSettings(s.port, s.adminPort, s.state, s.pool, s.uplink, s.socket, cpus(command, value));
                default -> s;
            };
        }
        return s;
    }

    private static int port(String command, String flag, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 0 && n <= 65535) return n;
        } catch (NumberFormatException ignored) {
            // fall through to the error naming the input
        }
        throw new IllegalArgumentException(command + ": " + flag + " must be a port from 0 to 65535, got '" + value + "'");
    }

    /** {@code 0}, {@code 2,3} or {@code 0-3}: CPU numbers, each at most once. */
    static List<Integer> cpus(String command, String value) {
        java.util.TreeSet<Integer> cpus = new java.util.TreeSet<>();
        try {
            for (String part : value.split(",", -1)) {
                String[] range = part.strip().split("-", -1);
                int from = Integer.parseInt(range[0].strip()), to = range.length == 2 ? Integer.parseInt(range[1].strip()) : from;
                if (range.length > 2 || from < 0 || to < from || to > 4095) throw new NumberFormatException(part);
                for (int cpu = from; cpu <= to; cpu++) {
                    if (!cpus.add(cpu)) throw new NumberFormatException(part);
                }
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(command + ": --router-cpus must list CPUs like 0 or 2,3 or 0-3, each once, got '" + value + "'");
        }
        return List.copyOf(cpus);
    }

    Path storeDir() { return state.resolve("store"); }

    Plane.Config planeConfig(Consumer<LogLine> logs) {
        return Plane.Config.defaults(port, logs).withAdminPort(adminPort).withProvisioner(new ProvisionerConfig(pool, state)).withRouterCpus(routerCpus);
    }

    /**
     * Starts the daemon (as root), puts the XDP edge and NAT on the uplink if one is given, and prints
     * where things are; lines go to standard output.
     */
    Daemon start(String command) {
        if (!Main.isRoot()) throw new IllegalStateException(command + " wires network namespaces and loads BPF programs: run it as root (sudo ./dynoplane " + command + ")");
        Consumer<LogLine> out = line -> System.out.println(line);
        Daemon daemon = Daemon.start(storeDir(), planeConfig(out), socket, out);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("Stopping: tearing down dynos, router and isolation...");
            daemon.close();
            System.out.println("Stopped; nothing left behind.");
        }, "daemon-shutdown"));
        Plane plane = daemon.plane();
        System.out.println("Router listening on http://127.0.0.1:" + plane.router().port() + " (transport " + plane.router().transportName() + ")");
        System.out.println("Metrics on http://127.0.0.1:" + plane.adminPort() + "/metrics");
        System.out.println("Control API on " + socket + "; state in " + state);
        if (uplink != null) {
            try {
                plane.guardUplink(uplink, java.util.List.of("0.0.0.0/0"));
            } catch (RuntimeException e) {
                throw new IllegalStateException("cannot guard uplink " + uplink + ": " + e.getMessage(), e);
            }
        }
        return daemon;
    }
}
