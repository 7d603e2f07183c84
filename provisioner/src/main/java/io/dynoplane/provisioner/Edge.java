package io.dynoplane.provisioner;

import io.dynoplane.bpf.BpfObjects;
import io.dynoplane.ffm.BpfMap;
import io.dynoplane.ffm.BpfObject;
import io.dynoplane.ffm.BpfProgram;
import io.dynoplane.ffm.Libbpf;
import io.dynoplane.ffm.LibbpfException;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The edge ({@code bpf/src/edge.bpf.c}): XDP on the host's uplink, the first filter for everything from outside.
 * Drops what is addressed to the dyno range, what comes from a blocklisted CIDR, TCP to a private space's router
 * listener from a source that space does not trust, and new connections (SYN without ACK) to a router listener over
 * the source's rate. Everything else passes, non-IPv4 included: ARP must, and IPv6 is not filtered here (the dyno
 * range is IPv4-only and the router listens on IPv4; a host that takes IPv6 on its uplink needs an IPv6 edge first).
 *
 * <p>Policy is map entries; changing it never reloads or reattaches the program. Counters are per-CPU, summed here.
 */
public final class Edge implements AutoCloseable {
    /** How the program was attached. */
    public enum Mode { NATIVE, SKB, NONE }

    private final BpfObject object;
    private final BpfProgram program;
    private final BpfMap blocklist;
    private final BpfMap spaceListeners;
    private final BpfMap publicListeners;
    private final BpfMap trusted;
    private final BpfMap config;
    private final BpfMap counters;
    private int ifindex;
    private Mode mode = Mode.NONE;

    private Edge(BpfObject object) {
        this.object = object;
        this.program = object.program("edge_filter");
        this.blocklist = object.map("blocklist");
        this.spaceListeners = object.map("space_listeners");
        this.publicListeners = object.map("public_listeners");
        this.trusted = object.map("trusted");
        this.config = object.map("config");
        this.counters = object.map("counters");
    }

    /** Loads the edge object into the kernel without attaching it (for bpf_prog_test_run fixtures). */
    static Edge load() {
        BpfObject object = Libbpf.openObject("edge", BpfObjects.bytes("edge"));
        try {
            object.load();
            return new Edge(object);
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
    }

    /**
     * Loads the edge and attaches it to the uplink, in native (driver) XDP mode if the driver has it, else in generic
     * (SKB) mode. Must run in the network namespace where {@code uplinkIfindex} is valid; fails if the interface has
     * an XDP program already.
     */
    public static Edge attach(int uplinkIfindex) {
        Edge edge = load();
        try {
            try {
                Libbpf.xdpAttach(uplinkIfindex, edge.program.fd(), Libbpf.XDP_FLAGS_UPDATE_IF_NOEXIST | Libbpf.XDP_FLAGS_DRV_MODE);
                edge.mode = Mode.NATIVE;
            } catch (LibbpfException native_) {
                try {
                    Libbpf.xdpAttach(uplinkIfindex, edge.program.fd(), Libbpf.XDP_FLAGS_UPDATE_IF_NOEXIST | Libbpf.XDP_FLAGS_SKB_MODE);
                } catch (LibbpfException skb) {
                    skb.addSuppressed(native_);
                    throw skb;
                }
                edge.mode = Mode.SKB;
            }
            edge.ifindex = uplinkIfindex;
            return edge;
        } catch (RuntimeException e) {
            edge.object.close();
            throw e;
        }
    }

    public Mode mode() { return mode; }

    /** Drops everything from {@code cidr} ("a.b.c.d/n" or a single address). */
    public void block(String cidr) {
        Cidr c = Cidr.parse(cidr);
        blocklist.update(cidrKey(c), u32(1), BpfMap.BPF_ANY);
    }

    /** Takes a CIDR off the blocklist; false if it was not on it (exactly as given). */
    public boolean unblock(String cidr) {
        return blocklist.delete(cidrKey(Cidr.parse(cidr)));
    }

    /** Makes {@code listener} (address 0.0.0.0: any local address) a private space's router listener. */
    public void spaceListener(InetSocketAddress listener, int spaceId) {
        spaceListeners.update(listenerKey(listener), u32(spaceId), BpfMap.BPF_ANY);
    }

    public boolean removeSpaceListener(InetSocketAddress listener) {
        return spaceListeners.delete(listenerKey(listener));
    }

    /** Makes {@code listener} a public router listener: anyone not blocklisted, SYN-rate limited. */
    public void publicListener(InetSocketAddress listener) {
        publicListeners.update(listenerKey(listener), u32(1), BpfMap.BPF_ANY);
    }

    public boolean removePublicListener(InetSocketAddress listener) {
        return publicListeners.delete(listenerKey(listener));
    }

    /** Lets sources in {@code cidr} reach space {@code spaceId}'s listeners. */
    public void trust(int spaceId, String cidr) {
        trusted.update(trustKey(spaceId, Cidr.parse(cidr)), u32(1), BpfMap.BPF_ANY);
    }

    public boolean distrust(int spaceId, String cidr) {
        return trusted.delete(trustKey(spaceId, Cidr.parse(cidr)));
    }

    /**
     * New connections per second per source address to the router listeners, and how many may come at once;
     * {@code perSecond} 0 turns the limit off (the default). Production: 100/s, burst 200.
     */
    public void synRate(int perSecond, int burst) {
        if (perSecond < 0 || burst < 0) throw new IllegalArgumentException("rate and burst must be >= 0");
        byte[] value = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder()).putLong(perSecond).putLong(burst).array();
        config.update(u32(0), value, BpfMap.BPF_ANY);
    }

    /** Packets given this reason since load, summed over CPUs. */
    public long count(EdgeReason reason) {
        List<byte[]> perCpu = counters.lookupPerCpu(u32(reason.ordinal())).orElseThrow();
        long sum = 0;
        for (byte[] v : perCpu) sum += ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getLong();
        return sum;
    }

    public Map<EdgeReason, Long> counts() {
        Map<EdgeReason, Long> counts = new EnumMap<>(EdgeReason.class);
        for (EdgeReason r : EdgeReason.values()) counts.put(r, count(r));
        return counts;
    }

    /** Runs the program on one Ethernet frame (bpf_prog_test_run) and returns its XDP action: for fixture tests. */
    int verdictOf(byte[] frame) {
        return Libbpf.testRun(program.fd(), frame, 1).retval();
    }

    /**
     * Detaches the program from the uplink (in the mode it was attached) and closes the object's fds. Must run in the
     * namespace the edge was attached in.
     */
    @Override
    public void close() {
        try {
            if (mode != Mode.NONE) {
                Libbpf.xdpDetach(ifindex, mode == Mode.NATIVE ? Libbpf.XDP_FLAGS_DRV_MODE : Libbpf.XDP_FLAGS_SKB_MODE);
                mode = Mode.NONE;
            }
        } finally {
            object.close();
        }
    }

    // ---- Keys, laid out as in bpf/include/edge.h -------------------------------------------------------------

    private static byte[] cidrKey(Cidr c) { // struct edge_cidr_key
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(c.prefix)
                .order(ByteOrder.BIG_ENDIAN).putInt(c.address).array();
    }

    private static byte[] trustKey(int spaceId, Cidr c) { // struct edge_trust_key
        return ByteBuffer.allocate(12).order(ByteOrder.nativeOrder()).putInt(32 + c.prefix).putInt(spaceId)
                .order(ByteOrder.BIG_ENDIAN).putInt(c.address).array();
    }

    private static byte[] listenerKey(InetSocketAddress listener) { // struct edge_listener_key
        Objects.requireNonNull(listener, "listener");
        if (!(listener.getAddress() instanceof Inet4Address v4)) {
            throw new IllegalArgumentException("the edge filters IPv4 only: " + listener);
        }
        return ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).put(v4.getAddress())
                .putShort((short) listener.getPort()).putShort((short) 0).array();
    }

    private static byte[] u32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
    }

    /** An IPv4 CIDR with the host bits cleared (the trie would ignore them, but delete needs the same key). */
    private record Cidr(int address, int prefix) {
        static Cidr parse(String text) {
            Objects.requireNonNull(text, "cidr");
            int slash = text.indexOf('/');
            String host = slash < 0 ? text : text.substring(0, slash);
            int prefix;
            try {
                prefix = slash < 0 ? 32 : Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an IPv4 CIDR: " + text);
            }
            if (prefix < 0 || prefix > 32 || !host.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
                throw new IllegalArgumentException("not an IPv4 CIDR: " + text);
            }
            int bits = 0;
            for (String octet : host.split("\\.")) {
                int value = Integer.parseInt(octet);
                if (value > 255) throw new IllegalArgumentException("not an IPv4 CIDR: " + text);
                bits = bits << 8 | value;
            }
            int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
            return new Cidr(bits & mask, prefix);
        }
    }
}
