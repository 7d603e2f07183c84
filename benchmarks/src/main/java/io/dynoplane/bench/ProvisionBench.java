package io.dynoplane.bench;

import io.dynoplane.ffm.Libbpf;
import io.dynoplane.provisioner.Dyno;
import io.dynoplane.provisioner.DynoNetwork;
import io.dynoplane.provisioner.DynoSpec;
import io.dynoplane.provisioner.Ipam;
import io.dynoplane.provisioner.IsolationPlane;
import io.dynoplane.provisioner.Provisioner;
import io.dynoplane.provisioner.ProvisionerConfig;
import io.dynoplane.provisioner.Subnet;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code bench provision --dynos N}: per-dyno network wiring (namespace, veth, addresses, routes,
 * links up, guard attached) through the provisioner's rtnetlink path, side by side with the same
 * wiring done by {@code ip} commands, in one run. The guard attach is the same libbpf call in both.
 */
final class ProvisionBench {
    private static final int WARMUP = 50;
    private ProvisionBench() {}

    static void run(Deque<String> args) throws Exception {
        int dynos = 100;
        while (!args.isEmpty()) {
            String flag = args.pop();
            if (!flag.equals("--dynos") || args.isEmpty()) throw new IllegalArgumentException("bench provision: usage: --dynos N");
            try {
                dynos = Integer.parseInt(args.pop());
            } catch (NumberFormatException e) {
                dynos = -1;
            }
            if (dynos < 1 || dynos > 4000) throw new IllegalArgumentException("bench provision: --dynos must be a number from 1 to 4000");
        }
        String run = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        // Two pools of this run's own (4096 /30s each) inside the dyno range, one per path.
        int block = ThreadLocalRandom.current().nextInt(8) * 2;
        String netlinkPool = "172." + (20 + block / 4) + "." + ((block % 4) * 64) + ".0/18";
        String ipPool = "172." + (20 + (block + 1) / 4) + "." + (((block + 1) % 4) * 64) + ".0/18";
        Path state = Files.createTempDirectory("bench-provision-" + run);
        Path release = Files.createTempDirectory("bench-release-" + run);
        System.out.printf("provision: %d dynos (after %d warm-up dynos each), netlink path (pool %s) then ip path (pool %s)%n",
                dynos, WARMUP, netlinkPool, ipPool);

        try (IsolationPlane isolation = IsolationPlane.load()) {
            // Warm-up, not measured: JIT, class loading and first-use costs of both paths.
            netlinkPath(isolation, new ProvisionerConfig(netlinkPool, state), "wnl" + run, release, WARMUP);
            ipPath(isolation, ipPool, "wip" + run, release, WARMUP);
            Result netlink = netlinkPath(isolation, new ProvisionerConfig(netlinkPool, state), "bnl" + run, release, dynos);
            Result ip = ipPath(isolation, ipPool, "bip" + run, release, dynos);
            report(dynos, netlink, ip);
        } finally {
            for (Path dir : List.of(state, release)) {
                try (var files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private record Result(Histogram wireMicros, double wireSeconds, double teardownSeconds) {}

    private static Result netlinkPath(IsolationPlane isolation, ProvisionerConfig config, String app, Path release, int dynos) {
        Histogram h = new Histogram(10_000_000L, 3);
        List<DynoNetwork> wired = new ArrayList<>();
        try (Provisioner provisioner = new Provisioner(config, isolation)) {
            long start = System.nanoTime();
            try {
                for (int i = 1; i <= dynos; i++) {
                    DynoSpec spec = new DynoSpec(app, "worker", i, "true", release, Map.of(), null);
                    long t0 = System.nanoTime();
                    wired.add(provisioner.wire(spec));
                    h.recordValue((System.nanoTime() - t0) / 1000);
                }
            } catch (RuntimeException e) {
                wired.forEach(provisioner::unwire);
                throw e;
            }
            long wiredAt = System.nanoTime();
            wired.forEach(provisioner::unwire);
            return new Result(h, (wiredAt - start) / 1e9, (System.nanoTime() - wiredAt) / 1e9);
        }
    }

    /** The same wiring with iproute2, one command per step, as a shell-script provisioner does it. */
    private static Result ipPath(IsolationPlane isolation, String pool, String app, Path release, int dynos) throws IOException, InterruptedException {
        Histogram h = new Histogram(10_000_000L, 3);
        Ipam ipam = new Ipam(pool);
        List<String[]> wired = new ArrayList<>(); // {netns, veth}
        long start = System.nanoTime();
        long wiredAt = start;
        try {
            for (int i = 1; i <= dynos; i++) {
                DynoSpec spec = new DynoSpec(app, "worker", i, "true", release, Map.of(), null);
                String netns = spec.netnsName();
                Subnet subnet = ipam.allocate(netns);
                String veth = Dyno.hostVethName(subnet);
                long t0 = System.nanoTime();
                ip("netns", "add", netns);
                wired.add(new String[] {netns, veth});
                ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "address", macString(subnet.dynoMac()), "netns", netns);
                ip("addr", "add", subnet.hostCidr(), "dev", veth);
                Files.writeString(Path.of("/proc/sys/net/ipv4/conf", veth, "forwarding"), "1");
                ip("-n", netns, "addr", "add", subnet.dynoCidr(), "dev", "eth0");
                ip("-n", netns, "link", "set", "lo", "up");
                ip("-n", netns, "link", "set", "eth0", "up");
                ip("link", "set", veth, "up");
                ip("-n", netns, "route", "add", "default", "via", Subnet.dotted(subnet.hostAddress()));
                int ifindex = Libbpf.ifindex(veth);
                isolation.guard(IsolationPlane.DynoPolicy.of(spec, subnet, ifindex));
                h.recordValue((System.nanoTime() - t0) / 1000);
            }
            wiredAt = System.nanoTime();
        } finally {
            if (wiredAt == start) wiredAt = System.nanoTime();
            for (String[] w : wired) {
                ip("link", "delete", w[1]);
                ip("netns", "delete", w[0]);
            }
        }
        return new Result(h, (wiredAt - start) / 1e9, (System.nanoTime() - wiredAt) / 1e9);
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", command) + ": " + out.strip());
    }

    private static void report(int dynos, Result netlink, Result ip) {
        double p50 = netlink.wireMicros().getValueAtPercentile(50) / 1000.0, p99 = netlink.wireMicros().getValueAtPercentile(99) / 1000.0;
        double ip50 = ip.wireMicros().getValueAtPercentile(50) / 1000.0, ip99 = ip.wireMicros().getValueAtPercentile(99) / 1000.0;
        System.out.printf("  netlink  wire p50 %.2f ms  p99 %.2f ms  all %d in %.2f s  (teardown %.2f s)%n", p50, p99, dynos, netlink.wireSeconds(), netlink.teardownSeconds());
        System.out.printf("  ip       wire p50 %.2f ms  p99 %.2f ms  all %d in %.2f s  (teardown %.2f s)%n", ip50, ip99, dynos, ip.wireSeconds(), ip.teardownSeconds());
        System.out.printf("  netlink is %.1fx faster at p50, %.1fx in total%n", ip50 / p50, ip.wireSeconds() / netlink.wireSeconds());
        System.out.println(String.format(Locale.ROOT,
                "{\"bench\":\"provision\",\"dynos\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"total_s\":%.3f,\"ip_p50_ms\":%.3f,\"ip_p99_ms\":%.3f,\"ip_total_s\":%.3f,\"speedup_p50\":%.2f}",
                dynos, p50, p99, netlink.wireSeconds(), ip50, ip99, ip.wireSeconds(), ip50 / p50));
    }

    private static String macString(byte[] mac) {
        StringBuilder sb = new StringBuilder();
        for (byte b : mac) sb.append(sb.isEmpty() ? "" : ":").append(String.format("%02x", b & 0xff));
        return sb.toString();
    }
}
