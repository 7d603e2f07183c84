package io.dynoplane.provisioner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The kernel's IPv4 neighbour (ARP) table is one table for every namespace, capped by
 * {@code net.ipv4.neigh.default.gc_thresh3} (1,024 by default), and each dyno takes two entries (its
 * address on the host side, the host's in its namespace). Past the cap the kernel logs "neighbor table
 * overflow" and drops packets until an entry is freed: at about 500 dynos with the defaults. The plane
 * raises the soft and hard limits for the dynos it may run, and puts back what it raised when it stops.
 */
public final class NeighbourTable implements AutoCloseable {
    private static final Path DEFAULTS = Path.of("/proc/sys/net/ipv4/neigh/default");

    private final Map<Path, Long> raised; // knob -> value before

    private NeighbourTable(Map<Path, Long> raised) { this.raised = raised; }

    /** Makes room for {@code dynos} dynos (two entries each, twice that as the hard limit); lowers nothing. */
    public static NeighbourTable reserve(int dynos) {
        long soft = 2L * dynos;
        Map<Path, Long> raised = new LinkedHashMap<>();
        raise(DEFAULTS.resolve("gc_thresh2"), soft, raised);
        raise(DEFAULTS.resolve("gc_thresh3"), 2 * soft, raised);
        return new NeighbourTable(raised);
    }

    private static void raise(Path knob, long value, Map<Path, Long> raised) {
        long before = read(knob);
        if (before >= value) return;
        write(knob, value);
        raised.put(knob, before);
    }

    /** What was raised: knob name to {before, now}. */
    public Map<String, long[]> raised() {
        Map<String, long[]> out = new LinkedHashMap<>();
        raised.forEach((knob, before) -> out.put("net.ipv4.neigh.default." + knob.getFileName(), new long[] {before, read(knob)}));
        return out;
    }

    /** Puts back the values it raised, in reverse order. */
    @Override
    public void close() {
        raised.entrySet().stream().toList().reversed().forEach(e -> write(e.getKey(), e.getValue()));
        raised.clear();
    }

    private static long read(Path knob) {
        try {
            // Not Files.readString: the JDK reads a sysctl file (size 0) one byte at a time and stops after the first.
            return Long.parseLong(Files.readAllLines(knob).getFirst().strip());
        } catch (IOException | RuntimeException e) {
            throw new ProvisioningException("reading " + knob + ": " + e.getMessage(), e);
        }
    }

    private static void write(Path knob, long value) {
        try {
            Files.writeString(knob, Long.toString(value));
        } catch (IOException e) {
            throw new ProvisioningException("setting " + knob + " to " + value + ": " + e.getMessage(), e);
        }
    }
}
