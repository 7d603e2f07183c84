package io.dynoplane.provisioner;

import io.dynoplane.bpf.BpfObjects;
import io.dynoplane.ffm.BpfMap;
import io.dynoplane.ffm.BpfObject;
import io.dynoplane.ffm.BpfSyscall;
import io.dynoplane.ffm.Libbpf;
import io.dynoplane.ffm.Syscalls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What the router sees of a hairpin connection ({@code bpf/src/hairpin.bpf.c}): {@code cgroup/getpeername4} and
 * {@code cgroup/getpeername6} programs (Netty's native transports listen on dual-stack AF_INET6 sockets, which
 * report an IPv4 client as ::ffff:a.b.c.d through the IPv6 hook) on a cgroup2 directory that report, for a TCP socket on a router port (not on a dyno-range address)
 * whose peer is a dyno, the dyno's NAT outbound address instead of its 172.16/12 one; the port stays. accept()
 * reports the peer through the same hook, so the router's client address is the NAT address.
 *
 * <p>Attached with BPF links that are not pinned: it goes when {@link #close()} runs or this process dies.
 * The cgroup may be the cgroup2 root (every process of the host): the program then runs on every
 * getpeername()/accept() with an address, and leaves alone every socket that is not on a registered port.
 */
public final class HairpinPeers implements AutoCloseable {
    private final BpfObject object;
    private final BpfMap ports, perDyno, fallback;
    private final Path cgroup;
    private final int[] linkFds = {-1, -1}; // getpeername4, getpeername6; guarded by this

    private HairpinPeers(BpfObject object, Path cgroup) {
        this.object = object;
        this.cgroup = cgroup;
        this.ports = object.map("hairpin_ports");
        this.perDyno = object.map("hairpin_nat");
        this.fallback = object.map("hairpin_default");
    }

    /**
     * Loads the program and attaches it to {@code cgroup} (a cgroup2 directory), reporting dynos' peers as
     * {@code outbound} (the common runtime's NAT address, dotted). Ports come with {@link #routerPort(int)}.
     */
    public static HairpinPeers attach(Path cgroup, String outbound) {
        Objects.requireNonNull(cgroup, "cgroup");
        BpfObject object = Libbpf.openObject("hairpin", BpfObjects.bytes("hairpin"));
        HairpinPeers peers;
        try {
            object.load();
            peers = new HairpinPeers(object, cgroup);
            peers.defaultOutbound(outbound);
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
        int dir = Syscalls.open(cgroup.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY);
        try {
            peers.linkFds[0] = BpfSyscall.cgroupAttach(object.program("hairpin_peer").fd(), dir, BpfSyscall.CGROUP_INET4_GETPEERNAME);
            peers.linkFds[1] = BpfSyscall.cgroupAttach(object.program("hairpin_peer6").fd(), dir, BpfSyscall.CGROUP_INET6_GETPEERNAME);
        } catch (RuntimeException e) {
            peers.close();
            throw e;
        } finally {
            Syscalls.close(dir);
        }
        return peers;
    }

    /** The cgroup2 directory this process is in ({@code 0::} of /proc/self/cgroup under the cgroup2 mount). */
    public static Path ownCgroup() {
        try {
            String relative = Files.readAllLines(Path.of("/proc/self/cgroup")).stream()
                    .filter(l -> l.startsWith("0::")).findFirst().map(l -> l.substring(3))
                    .orElseThrow(() -> new IllegalStateException("this process has no cgroup2 membership (no 0:: line in /proc/self/cgroup)"));
            Path mount = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .map(l -> l.split(" "))
                    .filter(f -> { int dash = java.util.Arrays.asList(f).indexOf("-"); return dash > 0 && f[dash + 1].equals("cgroup2"); })
                    .map(f -> Path.of(f[4])).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no cgroup2 mount (needed for the hairpin's getpeername program)"));
            return relative.equals("/") ? mount : mount.resolve(relative.substring(1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path cgroup() { return cgroup; }

    /** Sockets on this local port (the router's) report dyno peers by their outbound address. */
    public void routerPort(int port) {
        if (port <= 0 || port > 65535) throw new IllegalArgumentException("port " + port);
        ports.update(le(4).putInt(port).array(), new byte[] {1}, BpfMap.BPF_ANY);
    }

    /** The common runtime's outbound address (dotted). */
    public void defaultOutbound(String outbound) {
        fallback.update(le(4).putInt(0).array(), be32(NatTable.ipv4(outbound)), BpfMap.BPF_ANY);
    }

    /** A dyno that leaves from another address (its space's); null forgets it (back to the default). */
    public void dynoOutbound(String dynoAddress, String outbound) {
        byte[] key = be32(NatTable.ipv4(dynoAddress));
        if (outbound == null) perDyno.delete(key);
        else perDyno.update(key, be32(NatTable.ipv4(outbound)), BpfMap.BPF_ANY);
    }

    /** Detaches the program (closing its only link) and releases the maps. */
    @Override
    public synchronized void close() {
        for (int i = 0; i < linkFds.length; i++) {
            if (linkFds[i] >= 0) Syscalls.close(linkFds[i]);
            linkFds[i] = -1;
        }
        object.close();
    }

    private static byte[] be32(int value) { return ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(value).array(); }

    private static ByteBuffer le(int size) { return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder()); }
}
