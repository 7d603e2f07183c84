package io.dynoplane.provisioner;

import io.dynoplane.bpf.BpfObjects;
import io.dynoplane.ffm.BpfMap;
import io.dynoplane.ffm.BpfObject;
import io.dynoplane.ffm.BpfProgram;
import io.dynoplane.ffm.BpfSyscall;
import io.dynoplane.ffm.Libbpf;
import io.dynoplane.ffm.Syscalls;
import io.dynoplane.ffm.TcAttachPoint;
import io.dynoplane.ffm.TcFilter;
import io.dynoplane.ffm.TcxDirection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * NAT egress ({@code bpf/src/nat.bpf.c}): SNAT of the dyno range on the host's uplink, tc egress, and its reverse on
 * tc ingress. The far end sees the host's outbound address (or the dyno's private space's), never a 172.16/12 one.
 *
 * <p>Flows live in two BPF hash maps sized by {@link Config#maxFlows}; the datapath allocates ports, enforces the
 * per-dyno cap, and treats a flow idle past its timeout as absent on lookup, so correctness needs no thread here. A
 * background sweeper deletes expired flows so that their table slots come back even if nothing looks them up; it only
 * ever deletes entries the datapath already considers dead, one syscall at a time (never a map-wide lock).
 *
 * <p>Timestamps are CLOCK_MONOTONIC on both sides: {@code bpf_ktime_get_ns} in BPF, {@link System#nanoTime()} here
 * (HotSpot on Linux reads the same clock).
 */
public final class NatTable implements AutoCloseable {
    /**
     * Table size, per-dyno cap, the outbound port range (inclusive), and idle timeouts: TCP answered and not closing,
     * TCP closing or never answered, UDP, ICMP echo.
     */
    public record Config(int maxFlows, int perDynoCap, int portLow, int portHigh,
                         Duration tcpEstablished, Duration tcpClosing, Duration udp, Duration icmp) {
        public Config {
            if (maxFlows <= 0 || perDynoCap <= 0) throw new IllegalArgumentException("maxFlows and perDynoCap must be > 0");
            if (portLow < 1 || portHigh > 65535 || portHigh < portLow) {
                throw new IllegalArgumentException("port range must be within 1-65535: " + portLow + "-" + portHigh);
            }
            for (Duration d : List.of(tcpEstablished, tcpClosing, udp, icmp)) {
                if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("timeouts must be > 0");
            }
        }

        /**
         * 262144 flows, 4096 per dyno, ports 32768-60999, TCP 1 h established / 2 min closing, UDP 60 s, ICMP 30 s. The
         * port range is Linux's default ephemeral range: on a host whose own sockets connect out from the outbound
         * address, reserve it ({@code net.ipv4.ip_local_reserved_ports}) or move {@code ip_local_port_range} away.
         */
        public static Config defaults() {
            return new Config(262_144, 4096, 32768, 60999,
                    Duration.ofHours(1), Duration.ofMinutes(2), Duration.ofSeconds(60), Duration.ofSeconds(30));
        }

        Duration shortest() {
            Duration min = tcpEstablished;
            for (Duration d : List.of(tcpClosing, udp, icmp)) if (d.compareTo(min) < 0) min = d;
            return min;
        }
    }

    private static final int TCP = 6, UDP = 17;
    private static final int S_REPLIED = 0x01, S_FIN_OUT = 0x02, S_FIN_IN = 0x04, S_RST = 0x08;
    private static final int MAX_SPACE_ADDRS = 8;

    private final BpfObject object;
    private final Config config;
    private final BpfMap natOut, natIn, dynoSpace, spaceAddrs, dynoFlows, dynoSwept, counters, configMap;
    private final long[] timeoutNs;
    private final AtomicLong swept = new AtomicLong();
    private final Map<Integer, Long> sweptPerDyno = new HashMap<>(); // mirror of dyno_swept; guarded by this
    private final List<Integer> links = new ArrayList<>();            // tcx link fds
    private final List<TcFilter> filters = new ArrayList<>();         // legacy tc, when the kernel has no tcx
    private Thread sweeper;
    private volatile boolean closed;

    private NatTable(BpfObject object, Config config) {
        this.object = object;
        this.config = config;
        this.natOut = object.map("nat_out");
        this.natIn = object.map("nat_in");
        this.dynoSpace = object.map("dyno_space");
        this.spaceAddrs = object.map("space_addrs");
        this.dynoFlows = object.map("dyno_flows");
        this.dynoSwept = object.map("dyno_swept");
        this.counters = object.map("nat_counters");
        this.configMap = object.map("nat_config");
        this.timeoutNs = new long[] {config.tcpEstablished().toNanos(), config.tcpClosing().toNanos(),
                config.udp().toNanos(), config.icmp().toNanos()};
    }

    /** Loads and configures the NAT object without attaching it (for bpf_prog_test_run fixtures). */
    static NatTable load(String outbound, String dynoRange, Config config) {
        Objects.requireNonNull(config, "config");
        int[] range = cidr(dynoRange == null ? "172.16.0.0/12" : dynoRange);
        int outboundAddr = ipv4(outbound);
        BpfObject object = Libbpf.openObject("nat", BpfObjects.bytes("nat"));
        try {
            NatTable nat = new NatTable(object, config);
            nat.natOut.setMaxEntries(config.maxFlows());
            nat.natIn.setMaxEntries(config.maxFlows());
            object.load();
            ByteBuffer c = ByteBuffer.allocate(56);
            c.order(ByteOrder.BIG_ENDIAN).putInt(outboundAddr).putInt(range[0]).putInt(range[1]);
            c.order(ByteOrder.nativeOrder()).putInt(config.portLow()).putInt(config.portHigh()).putInt(config.perDynoCap());
            for (long t : nat.timeoutNs) c.putLong(t);
            nat.configMap.update(u32(0), c.array(), BpfMap.BPF_ANY);
            return nat;
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
    }

    /**
     * Loads the NAT programs and attaches them to the uplink (ifindex in the calling thread's netns): tcx links, or
     * legacy tc filters on a kernel without tcx (then {@link #close()} must run in the same namespace). SNATs traffic
     * from {@code dynoRange} (default 172.16.0.0/12) to {@code outbound}, and starts the sweeper.
     */
    public static NatTable attach(int uplinkIfindex, String outbound, String dynoRange, Config config) {
        NatTable nat = load(outbound, dynoRange, config);
        try {
            BpfProgram egress = nat.object.program("nat_egress");
            BpfProgram ingress = nat.object.program("nat_ingress");
            if (BpfSyscall.tcxSupported()) {
                nat.links.add(BpfSyscall.tcxAttach(egress.fd(), uplinkIfindex, TcxDirection.EGRESS));
                nat.links.add(BpfSyscall.tcxAttach(ingress.fd(), uplinkIfindex, TcxDirection.INGRESS));
            } else {
                Libbpf.tcHookCreate(uplinkIfindex, TcAttachPoint.INGRESS);
                nat.filters.add(Libbpf.tcAttach(uplinkIfindex, TcAttachPoint.EGRESS, egress.fd(), 0x4e41, 1));
                nat.filters.add(Libbpf.tcAttach(uplinkIfindex, TcAttachPoint.INGRESS, ingress.fd(), 0x4e41, 1));
            }
            nat.startSweeper();
            return nat;
        } catch (RuntimeException e) {
            nat.close();
            throw e;
        }
    }

    public Config config() { return config; }

    /** The stable outbound addresses of a space (1 to 8); an empty list removes them (its dynos' flows then fail). */
    public void spaceOutbound(int spaceId, List<String> addresses) {
        if (spaceId <= 0) throw new IllegalArgumentException("space ids are > 0 (0 is the common runtime)");
        if (addresses.isEmpty()) {
            spaceAddrs.delete(u32(spaceId));
            return;
        }
        if (addresses.size() > MAX_SPACE_ADDRS) throw new IllegalArgumentException("at most " + MAX_SPACE_ADDRS + " addresses per space");
        ByteBuffer v = ByteBuffer.allocate(4 + 4 * MAX_SPACE_ADDRS);
        v.order(ByteOrder.nativeOrder()).putInt(addresses.size()).order(ByteOrder.BIG_ENDIAN);
        for (String a : addresses) v.putInt(ipv4(a));
        spaceAddrs.update(u32(spaceId), v.array(), BpfMap.BPF_ANY);
    }

    /** Puts a dyno in a space (its new flows leave from the space's addresses); 0 = common runtime. */
    public void dynoSpace(String dynoAddress, int spaceId) {
        byte[] key = be32(ipv4(dynoAddress));
        if (spaceId == 0) dynoSpace.delete(key);
        else dynoSpace.update(key, u32(spaceId), BpfMap.BPF_ANY);
    }

    /** A dyno is gone: its flows are deleted and its space and counters forgotten (its address may be reused). */
    public synchronized void forgetDyno(String dynoAddress) {
        int dyno = ipv4(dynoAddress);
        byte[] key = be32(dyno);
        dynoSpace.delete(key);
        for (byte[] k : natOut.keys()) {
            if (ByteBuffer.wrap(k, 4, 4).order(ByteOrder.BIG_ENDIAN).getInt() != dyno) continue;
            natOut.lookup(k).ifPresent(v -> delete(k, v));
        }
        dynoFlows.delete(key);
        dynoSwept.delete(key);
        sweptPerDyno.remove(dyno);
    }

    /** Flows in the table: created by the datapath, minus released by it, minus swept here. */
    public int flowsInUse() {
        long n = count(NatCounter.FLOW_CREATED) - count(NatCounter.FLOW_RELEASED) - swept.get();
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, n));
    }

    /** A counter since load, summed over CPUs. */
    public long count(NatCounter counter) {
        List<byte[]> perCpu = counters.lookupPerCpu(u32(counter.ordinal())).orElseThrow();
        long sum = 0;
        for (byte[] v : perCpu) sum += ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getLong();
        return sum;
    }

    public Map<NatCounter, Long> counts() {
        Map<NatCounter, Long> counts = new EnumMap<>(NatCounter.class);
        for (NatCounter c : NatCounter.values()) counts.put(c, count(c));
        return counts;
    }

    /** Kernel memory of the two flow maps: their memlock in /proc/self/fdinfo (preallocated: the full size). */
    public long mapMemoryBytes() {
        return memlock(natOut.fd()) + memlock(natIn.fd());
    }

    /** Deletes every expired flow now (the sweeper does this in the background); how many it deleted. */
    public synchronized int sweep() {
        long now = System.nanoTime();
        int deleted = 0;
        for (byte[] k : natOut.keys()) {
            Optional<byte[]> v = natOut.lookup(k);
            if (v.isEmpty() || !expired(k[0], v.get(), now)) continue;
            if (delete(k, v.get())) deleted++;
        }
        return deleted;
    }

    /**
     * Detaches (tcx links closed; legacy filters removed in the calling thread's namespace), stops the sweeper and
     * releases the maps.
     */
    @Override
    public void close() {
        closed = true;
        Thread s = sweeper;
        if (s != null) {
            s.interrupt();
            try {
                s.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            for (int link : links) Syscalls.close(link);
            links.clear();
            for (TcFilter f : filters) Libbpf.tcDetach(f);
            filters.clear();
        } finally {
            synchronized (this) {
                object.close();
            }
        }
    }

    /** Runs a program on one frame (bpf_prog_test_run): "nat_egress" or "nat_ingress"; for fixture tests. */
    int testRun(String program, byte[] frame) {
        return Libbpf.testRun(programFd(program), frame, 1).retval();
    }

    int programFd(String program) {
        return object.program(program).fd();
    }

    // ---- Sweeping ----------------------------------------------------------------------------------------------

    private void startSweeper() {
        long periodMs = Math.clamp(config.shortest().toMillis() / 2, 100, 10_000);
        sweeper = Thread.ofPlatform().daemon().name("nat-sweeper").start(() -> {
            while (!closed) {
                try {
                    Thread.sleep(periodMs);
                    sweep();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    if (closed) return; // the object closed under a sweep
                    System.err.println("nat sweeper: " + e);
                }
            }
        });
    }

    private boolean expired(byte proto, byte[] value, long now) {
        ByteBuffer v = ByteBuffer.wrap(value).order(ByteOrder.nativeOrder());
        int state = value[6] & 0xff;
        long lastSeen = v.getLong(8);
        long timeout;
        if (proto == TCP) {
            boolean closing = (state & S_REPLIED) == 0 || (state & S_RST) != 0
                    || (state & (S_FIN_OUT | S_FIN_IN)) == (S_FIN_OUT | S_FIN_IN);
            timeout = timeoutNs[closing ? 1 : 0];
        } else {
            timeout = timeoutNs[proto == UDP ? 2 : 3];
        }
        return now > lastSeen && now - lastSeen > timeout;
    }

    /** Deletes a flow's two entries; counts it as swept if this delete of nat_out is the one that removed it. */
    private boolean delete(byte[] outKey, byte[] value) {
        byte[] inKey = outKey.clone();
        System.arraycopy(value, 0, inKey, 4, 4);  // outbound address
        System.arraycopy(value, 4, inKey, 12, 2); // outbound port
        natIn.lookup(inKey).ifPresent(back -> {
            if (java.util.Arrays.equals(back, outKey)) natIn.delete(inKey);
        });
        if (!natOut.delete(outKey)) return false; // the datapath released it first (and counted it)
        swept.incrementAndGet();
        int dyno = ByteBuffer.wrap(outKey, 4, 4).order(ByteOrder.BIG_ENDIAN).getInt();
        long n = sweptPerDyno.merge(dyno, 1L, Long::sum);
        dynoSwept.update(be32(dyno), ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(n).array(), BpfMap.BPF_ANY);
        return true;
    }

    private static long memlock(int fd) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
                if (line.startsWith("memlock:")) return Long.parseLong(line.substring(8).trim());
            }
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- Layouts of bpf/include/nat.h ------------------------------------------------------------------------

    private static byte[] u32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
    }

    private static byte[] be32(int address) {
        return ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(address).array();
    }

    static int ipv4(String dotted) {
        Objects.requireNonNull(dotted, "address");
        String[] parts = dotted.split("\\.");
        if (parts.length != 4) throw new IllegalArgumentException("not an IPv4 address: " + dotted);
        int bits = 0;
        for (String p : parts) {
            int octet;
            try {
                octet = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an IPv4 address: " + dotted);
            }
            if (octet < 0 || octet > 255) throw new IllegalArgumentException("not an IPv4 address: " + dotted);
            bits = bits << 8 | octet;
        }
        return bits;
    }

    /** {network, mask} of "a.b.c.d/n". */
    private static int[] cidr(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("not an IPv4 CIDR: " + text);
        int prefix = Integer.parseInt(text.substring(slash + 1));
        if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("not an IPv4 CIDR: " + text);
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        return new int[] {ipv4(text.substring(0, slash)) & mask, mask};
    }
}
