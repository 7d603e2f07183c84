package io.dynoplane.provisioner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Hands out one /30 per dyno from a pool (172.16.0.0/12 by default). Subnets that overlap a route
 * the host already has are skipped, so two planes (or a plane and a test) never share a /30.
 * In memory for now: leases do not survive a restart yet.
 */
public final class Ipam {
    private final int base;
    private final int slots;
    private final BitSet leased;
    private int next;

    /** @param pool CIDR such as {@code 172.16.0.0/12}; prefix at most /30 */
    public Ipam(String pool) {
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
        this.leased = new BitSet(slots);
    }

    public static Ipam defaultPool() { return new Ipam("172.16.0.0/12"); }

    /** Leases the next free /30 that no host route overlaps. */
    public synchronized Subnet allocate() {
        List<long[]> routes = hostRoutes();
        for (int tried = 0; tried < slots; tried++) {
            int slot = (next + tried) % slots;
            if (leased.get(slot)) continue;
            int network = base + (slot << 2);
            if (overlapsAny(network, routes)) continue;
            leased.set(slot);
            next = (slot + 1) % slots;
            return new Subnet(network);
        }
        throw new IllegalStateException("dyno address pool " + Subnet.dotted(base) + " is exhausted (" + slots + " /30 subnets)");
    }

    public synchronized void release(Subnet subnet) {
        int slot = (subnet.network() - base) >>> 2;
        if (slot < 0 || slot >= slots) throw new IllegalArgumentException(subnet + " is not from this pool");
        leased.clear(slot);
    }

    private static boolean overlapsAny(int network, List<long[]> routes) {
        for (long[] route : routes) {
            int dst = (int) route[0], mask = (int) route[1];
            int common = mask & 0xfffffffc;
            if ((network & common) == (dst & common)) return true;
        }
        return false;
    }

    /** (destination, mask) of every IPv4 route of the main table, from /proc/net/route (little-endian hex). */
    private static List<long[]> hostRoutes() {
        List<long[]> routes = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/route"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 8 || f[0].equals("Iface")) continue;
                int dst = Integer.reverseBytes((int) Long.parseLong(f[1], 16));
                int mask = Integer.reverseBytes((int) Long.parseLong(f[7], 16));
                if (mask != 0) routes.add(new long[] {dst, mask}); // the default route overlaps nothing we lease
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading /proc/net/route", e);
        }
        return routes;
    }
}
