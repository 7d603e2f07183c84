package io.dynoplane.provisioner;

import java.nio.file.Path;

/**
 * Where a provisioner keeps its state, which /30s it may use, how dyno processes are sandboxed, and where
 * its isolation guard is pinned.
 *
 * @param pool     the dyno address pool, e.g. 172.16.0.0/12
 * @param stateDir the daemon's state (lease journal); never visible to a dyno
 * @param sandbox  runtime folder, dyno uid/gid and cgroup parent of dyno processes
 * @param bpfPins  the bpffs folder holding the guard's maps and links, which outlive the process
 */
public record ProvisionerConfig(String pool, Path stateDir, DynoSandbox sandbox, Path bpfPins) {
    private static final Path PINS = Path.of("/sys/fs/bpf/dynoplane");

    /**
     * The default sandbox; the guard pinned under /sys/fs/bpf/dynoplane/, named after the state folder (dots
     * become '_': bpffs reserves them).
     */
    public ProvisionerConfig(String pool, Path stateDir) {
        this(pool, stateDir, DynoSandbox.defaults(), PINS.resolve(stateDir.toAbsolutePath().getFileName().toString().replace('.', '_')));
    }

    public static ProvisionerConfig defaults() {
        return new ProvisionerConfig("172.16.0.0/12", Path.of("/var/lib/dynoplane"), DynoSandbox.defaults(), PINS.resolve("default"));
    }

    public Path leaseJournal() { return stateDir.resolve("leases"); }
}
