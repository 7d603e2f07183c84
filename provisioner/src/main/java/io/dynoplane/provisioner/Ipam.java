package io.dynoplane.provisioner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hands out one /30 per dyno from a pool (172.16.0.0/12 by default): host side {@code .1}, dyno
 * side {@code .2}. Allocation is O(1): released slots are reused first, else the next never-used
 * slot. Subnets that overlap a route the host had when the pool opened are never handed out.
 *
 * <p>With a journal, every lease is appended and forced to disk <em>before</em> the caller creates
 * any kernel object for it, so a provisioner that dies at any point restarts knowing every /30 it
 * may have used: no address is ever leased twice.
 */
public final class Ipam implements AutoCloseable {
    private final int base;
    private final int slots;
    private final BitSet unavailable;         // leased, or overlapping a host route
    private final Map<Integer, String> owners = new LinkedHashMap<>(); // slot -> owner (netns name)
    private final Deque<Integer> released = new ArrayDeque<>();
    private final FileChannel journal;        // null: in memory only
    private int highWater;

    /** An in-memory pool, for tests of pure allocation. */
    public Ipam(String pool) { this(pool, null); }

    /**
     * @param pool    CIDR such as {@code 172.16.0.0/12}; prefix from /8 to /30
     * @param journal lease journal, replayed and compacted on open; null for in-memory
     */
    public Ipam(String pool, Path journal) {
        String[] parts = pool.split("/", -1);
        int prefix;
        try {
            prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : -1;
        } catch (NumberFormatException e) {
            prefix = -1;
        }
        if (prefix < 8 || prefix > 30) throw new IllegalArgumentException("dyno pool must be an IPv4 CIDR between /8 and /30: '" + pool + "'");
        int mask = (int) (0xffffffffL << (32 - prefix));
        this.base = Subnet.parse(parts[0]) & mask;
        this.slots = 1 << (30 - prefix);
        this.unavailable = new BitSet(slots);
        excludeHostRoutes();
        if (journal != null) replay(journal);
        this.journal = journal == null ? null : openJournal(journal);
    }

    /** The leases a journal holds, read without touching it (a live provisioner may be appending). */
    public static Map<Subnet, String> journaled(String pool, Path journal) {
        Ipam reader = new Ipam(pool);
        reader.replay(journal);
        return reader.leases();
    }

    /** Leases a /30 for {@code owner}; journaled before it returns. */
    public synchronized Subnet allocate(String owner) {
        int slot;
        if (!released.isEmpty()) {
            slot = released.pop();
        } else {
            while (highWater < slots && unavailable.get(highWater)) highWater++;
            if (highWater == slots) throw new IllegalStateException("dyno address pool " + this + " is exhausted (" + slots + " /30 subnets, " + owners.size() + " leased)");
            slot = highWater++;
        }
        unavailable.set(slot);
        owners.put(slot, owner);
        Subnet subnet = subnetOf(slot);
        append("+ " + subnet + " " + owner);
        return subnet;
    }

    public Subnet allocate() { return allocate("-"); }

    public synchronized void release(Subnet subnet) {
        int slot = slotOf(subnet);
        if (owners.remove(slot) == null) return;
        append("- " + subnet);
        unavailable.clear(slot);
        released.push(slot);
    }

    /** Current leases, subnet to owner. */
    public synchronized Map<Subnet, String> leases() {
        Map<Subnet, String> leases = new LinkedHashMap<>();
        owners.forEach((slot, owner) -> leases.put(subnetOf(slot), owner));
        return Collections.unmodifiableMap(leases);
    }

    public boolean contains(Subnet subnet) {
        long offset = Integer.toUnsignedLong(subnet.network()) - Integer.toUnsignedLong(base);
        return offset >= 0 && (offset >> 2) < slots;
    }

    @Override public String toString() { return Subnet.dotted(base) + "/" + (30 - Integer.numberOfTrailingZeros(slots)); }

    @Override
    public synchronized void close() {
        if (journal == null) return;
        try {
            journal.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing lease journal", e);
        }
    }

    private Subnet subnetOf(int slot) { return new Subnet(base + (slot << 2)); }

    private int slotOf(Subnet subnet) {
        if (!contains(subnet)) throw new IllegalArgumentException(subnet + " is not from pool " + this);
        return (subnet.network() - base) >> 2;
    }

    private void replay(Path file) {
        if (!Files.exists(file)) return;
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading lease journal " + file, e);
        }
        for (String line : lines) {
            String[] f = line.split(" ", 3);
            if (f.length < 2) continue; // a torn last line: its lease never got a kernel object
            try {
                Subnet subnet = new Subnet(Subnet.parse(f[1].substring(0, f[1].indexOf('/'))));
                if (!contains(subnet)) continue; // another pool's lease
                int slot = slotOf(subnet);
                if (f[0].equals("+") && f.length == 3) {
                    owners.put(slot, f[2]);
                    unavailable.set(slot);
                } else if (f[0].equals("-")) {
                    owners.remove(slot);
                }
            } catch (RuntimeException torn) {
                // a torn line: ignore, as above
            }
        }
        // Slots freed in the journal stay unavailable until compaction rewrites it; recompute.
        unavailable.clear();
        excludeHostRoutes();
        owners.keySet().forEach(unavailable::set);
    }

    /** Rewrites the journal as just the live leases, atomically, then appends to it. */
    private FileChannel openJournal(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path compacted = file.resolveSibling(file.getFileName() + ".tmp");
            StringBuilder live = new StringBuilder();
            owners.forEach((slot, owner) -> live.append("+ ").append(subnetOf(slot)).append(' ').append(owner).append('\n'));
            try (FileChannel out = FileChannel.open(compacted, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                out.write(ByteBuffer.wrap(live.toString().getBytes(StandardCharsets.UTF_8)));
                out.force(true);
            }
            Files.move(compacted, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("opening lease journal " + file, e);
        }
    }

    private void append(String line) {
        if (journal == null) return;
        try {
            journal.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
            journal.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("writing lease journal: " + line, e);
        }
    }

    /** Marks the pool's slots that overlap a host route (dst/mask from /proc/net/route, little-endian hex). */
    private void excludeHostRoutes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/route"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 8 || f[0].equals("Iface")) continue;
                int dst = Integer.reverseBytes((int) Long.parseLong(f[1], 16));
                int mask = Integer.reverseBytes((int) Long.parseLong(f[7], 16));
                if (mask == 0) continue; // the default route overlaps nothing we lease
                long first = Math.max(Integer.toUnsignedLong(dst & mask), Integer.toUnsignedLong(base));
                long last = Math.min(Integer.toUnsignedLong(dst | ~mask), Integer.toUnsignedLong(base) + ((long) slots << 2) - 1);
                if (first > last) continue;
                int from = (int) ((first - Integer.toUnsignedLong(base)) >> 2);
                int to = (int) ((last - Integer.toUnsignedLong(base)) >> 2);
                unavailable.set(from, to + 1);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading /proc/net/route", e);
        }
    }
}
