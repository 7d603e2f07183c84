package io.dynoplane.provisioner;

import java.nio.file.Path;

/**
 * Where a provisioner keeps its state, which /30s it may use, and how dyno processes are sandboxed.
 *
 * @param pool     the dyno address pool, e.g. 172.16.0.0/12
 * @param stateDir the daemon's state (lease journal); never visible to a dyno
 * @param sandbox  runtime folder, dyno uid/gid and cgroup parent of dyno processes
 */
public record ProvisionerConfig(String pool, Path stateDir, DynoSandbox sandbox) {
    public ProvisionerConfig(String pool, Path stateDir) {
        this(pool, stateDir, DynoSandbox.defaults());
    }

    public static ProvisionerConfig defaults() {
        return new ProvisionerConfig("172.16.0.0/12", Path.of("/var/lib/dynoplane"));
    }

    public Path leaseJournal() { return stateDir.resolve("leases"); }
}
