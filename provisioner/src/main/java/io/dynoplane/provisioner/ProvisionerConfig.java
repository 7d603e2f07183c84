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
     * The default sandbox; the guard pinned under /sys/fs/bpf/dynoplane/, named after the state folder: its name
     * (dots become '_': bpffs reserves them) and the first 8 hex digits of the SHA-256 of its absolute path, so that
     * two planes whose state folders share a name never share (and unpin) one guard.
     */
    public ProvisionerConfig(String pool, Path stateDir) {
        this(pool, stateDir, DynoSandbox.defaults(), PINS.resolve(pinName(stateDir)));
    }

    /** {@code <state folder name>-<8 hex of sha256(absolute path)>}: {@code printf %s PATH | sha256sum | cut -c1-8} in a shell. */
    static String pinName(Path stateDir) {
        Path absolute = stateDir.toAbsolutePath().normalize();
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(absolute.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return absolute.getFileName().toString().replace('.', '_') + "-" + java.util.HexFormat.of().formatHex(digest, 0, 4);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    public static ProvisionerConfig defaults() {
        return new ProvisionerConfig("172.16.0.0/12", Path.of("/var/lib/dynoplane"), DynoSandbox.defaults(), PINS.resolve("default"));
    }

    public Path leaseJournal() { return stateDir.resolve("leases"); }
}
