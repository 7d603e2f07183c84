package io.dynoplane.provisioner;

import io.dynoplane.ffm.NetworkNamespaces;
import io.dynoplane.ffm.RtNetlink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/** A pool, state folder, release and app name of one test run's own, and checks that nothing of it is left. */
final class ProvisionerFixture implements AutoCloseable {
    private static final Pattern HOST_VETH = Pattern.compile("dp[0-9a-f]{8}");

    final String app = "t" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    final String pool;
    final Path state;
    final Path release;

    /** @param poolPrefix e.g. 21 for 512 dynos; the pool is a random aligned block of 172.24.0.0/14 */
    ProvisionerFixture(int poolPrefix) {
        int blocks = 1 << (poolPrefix - 14);
        int network = Subnet.parse("172.24.0.0") + ThreadLocalRandom.current().nextInt(blocks) * (1 << (32 - poolPrefix));
        this.pool = Subnet.dotted(network) + "/" + poolPrefix;
        try {
            this.state = Files.createTempDirectory(app + "-state");
            this.release = Files.createTempDirectory(app + "-release");
            Files.writeString(release.resolve("Procfile"), "worker: exec sleep 600\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** This run's config: its guard pinned under /sys/fs/bpf/dynoplane/ by its state folder (ProvisionerConfig.pinName). */
    ProvisionerConfig config() { return new ProvisionerConfig(pool, state); }

    DynoSpec worker(int index) {
        return new DynoSpec(app, "worker", index, "exec sleep 600", release, Map.of(), null);
    }

    /** A web dyno (sleeping, listening on nothing) whose $PORT the guard opens to the host's connections. */
    DynoSpec web(int index, int port) {
        return new DynoSpec(app, "web", index, "exec sleep 600", release, Map.of(), port);
    }

    /** Namespaces of this run's app still pinned. */
    List<String> namespaces() {
        return NetworkNamespaces.list().stream().filter(n -> n.startsWith("dp-" + app + "-")).toList();
    }

    /** Dyno veths in the root namespace whose /30 lies in this run's pool. */
    List<String> veths() {
        Ipam range = new Ipam(pool);
        try (RtNetlink rtnl = RtNetlink.open()) {
            return rtnl.links().stream().map(RtNetlink.Link::name)
                    .filter(n -> HOST_VETH.matcher(n).matches())
                    .filter(n -> range.contains(new Subnet((int) Long.parseLong(n.substring(2), 16))))
                    .toList();
        }
    }

    /** Mount points (this process's view) that name this run's namespaces. */
    List<String> mounts() {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> l.contains("dp-" + app + "-")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Leases in the journal, as a restarted provisioner would read them. */
    Map<Subnet, String> journaledLeases() {
        return Ipam.journaled(pool, config().leaseJournal());
    }

    /** Removes whatever a failed test left, then the folders. */
    @Override
    public void close() {
        IsolationPlane isolation = null;
        try {
            isolation = IsolationPlane.open(config().bpfPins());
            try (Provisioner sweeper = new Provisioner(config(), isolation)) {
                sweeper.reconcile();
            }
        } catch (RuntimeException e) {
            System.err.println("fixture cleanup: " + e);
        } finally {
            if (isolation != null) isolation.removePins();
        }
        for (Path dir : List.of(state, release)) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
