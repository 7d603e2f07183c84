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
 * raises the soft and hard limits for the dynos it may run, and puts back what it raised when it stops. The values
 * before are written to a journal first, so a plane that was killed is put right by the next one's stop.
 */
public final class NeighbourTable implements AutoCloseable {
    private static final Path DEFAULTS = Path.of("/proc/sys/net/ipv4/neigh/default");

    private final Map<Path, Long> raised; // knob -> value before
    private final Path journal;

    private NeighbourTable(Map<Path, Long> raised, Path journal) {
        this.raised = raised;
        this.journal = journal;
    }

    /**
     * Makes room for {@code dynos} dynos (two entries each, twice that as the hard limit); lowers nothing. The values
     * before go to {@code journal} first; one left there by a killed plane names the values to put back.
     */
    public static NeighbourTable reserve(int dynos, Path journal) {
        long soft = 2L * dynos;
        Map<Path, Long> before = readJournal(journal);
        Map<Path, Long> wanted = new LinkedHashMap<>();
        wanted.put(DEFAULTS.resolve("gc_thresh2"), soft);
        wanted.put(DEFAULTS.resolve("gc_thresh3"), 2 * soft);
        Map<Path, Long> raised = new LinkedHashMap<>();
        wanted.forEach((knob, value) -> {
            if (before.containsKey(knob)) raised.put(knob, before.get(knob));
            else if (read(knob) < value) raised.put(knob, read(knob));
        });
        if (!raised.isEmpty()) writeJournal(journal, raised);
        wanted.forEach((knob, value) -> {
            if (read(knob) < value) write(knob, value);
        });
        return new NeighbourTable(raised, journal);
    }

    private static Map<Path, Long> readJournal(Path journal) {
        Map<Path, Long> before = new LinkedHashMap<>();
        if (!Files.exists(journal)) return before;
        try {
            for (String line : Files.readAllLines(journal)) {
                String[] kv = line.split("=", 2);
                if (kv.length == 2 && kv[0].matches("gc_thresh[123]")) before.put(DEFAULTS.resolve(kv[0]), Long.parseLong(kv[1].strip()));
            }
        } catch (IOException | NumberFormatException e) {
            throw new ProvisioningException("reading the neighbour table journal " + journal + ": " + e.getMessage(), e);
        }
        return before;
    }

    private static void writeJournal(Path journal, Map<Path, Long> before) {
        StringBuilder text = new StringBuilder();
        before.forEach((knob, value) -> text.append(knob.getFileName()).append('=').append(value).append('\n'));
        try {
            Files.createDirectories(journal.toAbsolutePath().getParent());
            Path tmp = journal.resolveSibling(journal.getFileName() + ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, journal, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new ProvisioningException("writing the neighbour table journal " + journal + ": " + e.getMessage(), e);
        }
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
        try {
            Files.deleteIfExists(journal);
        } catch (IOException e) {
            throw new ProvisioningException("removing the neighbour table journal " + journal + ": " + e.getMessage(), e);
        }
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
