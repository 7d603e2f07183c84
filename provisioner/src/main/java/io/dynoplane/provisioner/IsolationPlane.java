package io.dynoplane.provisioner;

import io.dynoplane.bpf.BpfObjects;
import io.dynoplane.ffm.BpfMap;
import io.dynoplane.ffm.BpfObject;
import io.dynoplane.ffm.BpfProgram;
import io.dynoplane.ffm.BpfSyscall;
import io.dynoplane.ffm.Libbpf;
import io.dynoplane.ffm.Syscalls;
import io.dynoplane.ffm.TestRun;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The isolation guard ({@code bpf/src/guard.bpf.c}): one object loaded once per plane, two
 * programs on the host side of every dyno's veth ({@code dyno_from} on tc ingress: what the dyno
 * sends; {@code dyno_to} on tc egress: what is sent to it), attached so that they persist without this
 * process (pinned tcx links, or legacy tc filters). Per-dyno policy is map entries; a new dyno never
 * reloads or touches a program that guards another dyno. A plane opened on a pin folder survives its
 * process: the next one reuses the pinned maps and {@link #adopt() adopts} the veths.
 */
public final class IsolationPlane implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(IsolationPlane.class.getName());
    private static final int DYNO_F_INTERNAL = 1;
    static final int TC_ACT_UNSPEC = -1, TC_ACT_SHOT = 2;
    /** The guard's maps, pinned by these names: what a restarted plane adopts. */
    private static final List<String> MAPS = List.of("dynos", "dyno_by_ifindex", "flows", "flow_timeouts", "egress_cidrs", "verdicts", "router_listeners");
    /** Layouts of bpf/include/dynoplane.h (GuardLayoutTest checks them against the C). */
    static final int DYNO_INFO_SIZE = 28, DYNO_INFO_GEN = 24;
    static final int FLOW_VALUE_SIZE = 16, FLOW_VALUE_STATE = 1, FLOW_VALUE_GEN = 4, FLOW_VALUE_LAST_SEEN = 8;

    /**
     * What the guard needs to know of one dyno. {@code id} keys its counters; {@code port} is the
     * web $PORT the router may open connections to (0: accepts nothing new); {@code spaceId} 0 is
     * the Common Runtime; an {@code internal} app's dynos accept only their space.
     */
    public record DynoPolicy(int id, Subnet subnet, byte[] mac, int port, int spaceId, boolean internal, int hostIfindex) {
        public DynoPolicy {
            Objects.requireNonNull(subnet, "subnet");
            if (mac == null || mac.length != 6) throw new IllegalArgumentException("MAC must be 6 bytes");
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port);
            if (id == 0) throw new IllegalArgumentException("dyno id 0 is reserved for unguarded interfaces");
            mac = mac.clone();
        }

        /** The policy of a dyno wired on {@code network} from {@code spec}. */
        public static DynoPolicy of(DynoSpec spec, Subnet subnet, int hostIfindex) {
            return new DynoPolicy(subnet.dynoId(), subnet, subnet.dynoMac(), spec.inboundPort(), spec.spaceId(), spec.internal(), hostIfindex);
        }
    }

    private final BpfObject object;
    private final Path pins; // null: nothing pinned, the maps live as long as their programs
    private final GuardHooks hooks;
    private final BpfProgram from;
    private final BpfProgram to;
    private final BpfMap dynos;
    private final BpfMap dynoByIfindex;
    private final BpfMap flows;
    private final BpfMap egressCidrs;
    private final BpfMap flowTimeouts;
    private final BpfMap routerListeners;
    private final VerdictCounters counters;
    private int lastGeneration; // guarded by this; 0 until the first admit

    private IsolationPlane(BpfObject object, Path pins, GuardHooks hooks) {
        this.object = object;
        this.pins = pins;
        this.hooks = hooks;
        this.from = object.program("dyno_from");
        this.to = object.program("dyno_to");
        this.dynos = object.map("dynos");
        this.dynoByIfindex = object.map("dyno_by_ifindex");
        this.flows = object.map("flows");
        this.egressCidrs = object.map("egress_cidrs");
        this.flowTimeouts = object.map("flow_timeouts");
        this.routerListeners = object.map("router_listeners");
        this.counters = new VerdictCounters(object.map("verdicts"));
    }

    /**
     * Loads a guard of its own, pinned nowhere, on legacy tc filters: for tests and benchmarks. Its maps live as
     * long as a filter or this object holds them.
     */
    public static IsolationPlane load() {
        BpfObject object = Libbpf.openObject("guard", BpfObjects.bytes("guard"));
        try {
            object.load();
            return new IsolationPlane(object, null, new GuardHooks.Clsact());
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
    }

    /**
     * The plane's guard, pinned under {@code pins} (a bpffs folder, e.g. /sys/fs/bpf/dynoplane/default): maps
     * pinned there by an earlier run are reused with their contents (policies, flows, counters), the programs are
     * loaded fresh, and {@link #adopt()} moves every guarded veth onto them. Attachments are tcx links pinned under
     * {@code pins/links} where the kernel has tcx, legacy tc filters where it does not. Nothing here needs this
     * process to stay alive.
     *
     * @throws IllegalArgumentException if a pinned map's layout differs from this build's (naming both)
     */
    public static IsolationPlane open(Path pins) {
        return open(pins, BpfSyscall.tcxSupported());
    }

    /** As {@link #open(Path)}, on tcx links or (false) legacy tc filters: tests run both. */
    static IsolationPlane open(Path pins, boolean tcx) {
        Objects.requireNonNull(pins, "pins");
        try {
            Files.createDirectories(pins);
        } catch (IOException e) {
            throw new UncheckedIOException("creating BPF pin folder " + pins + " (is bpffs mounted on /sys/fs/bpf?)", e);
        }
        BpfObject object = Libbpf.openObject("guard", BpfObjects.bytes("guard"));
        try {
            List<String> reused = new ArrayList<>();
            for (String name : MAPS) {
                Path pin = pins.resolve(name);
                if (!Files.exists(pin)) continue;
                int fd = BpfSyscall.objGet(pin.toString());
                try {
                    object.map(name).reuseFd(fd);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("pinned map " + pin + ": " + e.getMessage()
                            + "; stop its dynos and remove " + pins + " to start clean", e);
                } finally {
                    Syscalls.close(fd);
                }
                reused.add(name);
            }
            object.load();
            for (String name : MAPS) {
                if (!reused.contains(name)) object.map(name).pin(pins.resolve(name).toString());
            }
            GuardHooks hooks = tcx ? new GuardHooks.Tcx(pins.resolve("links")) : new GuardHooks.Clsact();
            if (!reused.isEmpty()) LOG.log(Level.INFO, "adopting pinned guard maps {0} from {1}", reused, pins);
            return new IsolationPlane(object, pins, hooks);
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
    }

    /** "tcx" or "clsact": how the guard is attached to veths. */
    public String attachment() { return hooks.kind(); }

    /**
     * Takes over every veth an earlier plane guarded (from the pinned {@code dyno_by_ifindex}): its attachments are
     * switched to this plane's programs atomically, so no packet meets an unguarded veth. Entries of veths that no
     * longer exist are removed. Returns each adopted host ifindex with the address of the dyno it guards.
     */
    public Map<Integer, Integer> adopt() {
        Map<Integer, Integer> adopted = new HashMap<>();
        for (byte[] key : dynoByIfindex.keys()) {
            int ifindex = le(key).getInt();
            Optional<byte[]> address = dynoByIfindex.lookup(key);
            if (address.isEmpty()) continue;
            if (hooks.adopt(ifindex, from.fd(), to.fd())) {
                adopted.put(ifindex, ByteBuffer.wrap(address.get()).getInt());
            } else {
                dynoByIfindex.delete(key);
            }
        }
        return adopted;
    }

    /** Registers the dyno, then puts both programs on its host veth: the guard never sees its interface unknown. */
    public void guard(DynoPolicy policy) {
        admit(policy);
        attach(policy.hostIfindex());
    }

    /** Both programs on the host veth: {@code dyno_from} on ingress, {@code dyno_to} on egress. */
    public void attach(int hostIfindex) {
        hooks.attach(hostIfindex, from.fd(), to.fd());
    }

    /** After the host veth is deleted: drops what kept its attachments (tcx link pins). */
    public void release(int hostIfindex) {
        hooks.release(hostIfindex);
    }

    /**
     * The dyno's map entries: {@code dynos} by address, {@code dyno_by_ifindex} by its host veth. Every
     * admit gives the dyno a new generation: flows tracked under an earlier one (a forgotten dyno's at the
     * same address, or this dyno's before a policy change) are stale from then on.
     */
    public void admit(DynoPolicy p) {
        ByteBuffer info = le(DYNO_INFO_SIZE)
                .putInt(p.id()).putInt(p.spaceId()).putShort((short) p.port())
                .put((byte) (p.internal() ? DYNO_F_INTERNAL : 0)).put((byte) 0)
                .put(p.mac()).put((byte) 0).put((byte) 0)
                .order(ByteOrder.BIG_ENDIAN).putInt(p.subnet().hostAddress())
                .order(ByteOrder.nativeOrder()).putInt(nextGeneration());
        byte[] address = be32(p.subnet().dynoAddress());
        dynos.update(address, info.array(), BpfMap.BPF_ANY);
        dynoByIfindex.update(le(4).putInt(p.hostIfindex()).array(), address, BpfMap.BPF_ANY);
    }

    /** Removes the dyno from the guard: its entries and its counters; its tracked flows are stale (see {@link #admit}). */
    public void forget(DynoPolicy p) {
        forgetIfindex(p.hostIfindex());
        forget(p.subnet());
    }

    /** Unregisters a host veth (ifindexes are reused by the kernel): its filters drop everything after this. */
    public void forgetIfindex(int hostIfindex) {
        dynoByIfindex.delete(le(4).putInt(hostIfindex).array());
    }

    /**
     * As {@link #forget(DynoPolicy)} when only the /30 is known (reconcile): the ifindex entry goes with its veth's filters.
     * Does not touch {@code flows}: the dyno's flows keep a generation no later admit at this address gets, so the
     * guard treats them as absent (and drops them when it meets them); LRU eviction reclaims the rest.
     */
    public void forget(Subnet subnet) {
        dynos.delete(be32(subnet.dynoAddress()));
        forgetCounters(subnet.dynoId());
    }

    /** Lets dynos reach {@code cidr} ("203.0.113.0/24"), outside the dyno range. */
    public void allowEgress(String cidr) {
        egressCidrs.update(cidrKey(cidr), new byte[] {1}, BpfMap.BPF_ANY);
    }

    /** Takes {@code cidr} back out of the egress list (flows already tracked still get their replies until they expire). */
    public boolean denyEgress(String cidr) {
        return egressCidrs.delete(cidrKey(cidr));
    }

    /**
     * Hairpin: lets dynos open TCP connections to {@code listener}, a router listener on a host address (the
     * wildcard address = the port on every local address), as apps call each other through the router's public
     * address. Everything else on the host stays closed to them. The connection is tracked, so the router's
     * replies pass.
     */
    public void allowHairpin(InetSocketAddress listener) {
        routerListeners.update(listenerKey(listener), new byte[] {1}, BpfMap.BPF_ANY);
    }

    /** Closes {@code listener} to dynos again (their hairpin connections to it are dropped from the next packet on). */
    public boolean denyHairpin(InetSocketAddress listener) {
        return routerListeners.delete(listenerKey(listener));
    }

    static byte[] listenerKey(InetSocketAddress listener) {
        if (!(listener.getAddress() instanceof Inet4Address address)) {
            throw new IllegalArgumentException("router listener must be an IPv4 address and port: " + listener);
        }
        return ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN)
                .put(address.getAddress()).putShort((short) listener.getPort()).putShort((short) 0).array();
    }

    /** Packets the guard gave this reason, for dyno {@code dynoId}, summed over CPUs. */
    public long count(int dynoId, Verdict reason) { return counters.count(dynoId, reason); }

    public Map<Verdict, Long> counts(int dynoId) { return counters.counts(dynoId); }

    /** Drops a dyno's counters (ids follow /30s, which are reused). */
    public void forgetCounters(int dynoId) { counters.forget(dynoId); }

    /**
     * Live tracked flows (connections, datagram exchanges, echoes): entries of the conntrack map whose
     * dyno is admitted under the flow's generation and that are not past their idle timeout. Reads the
     * whole table (diagnostics, tests).
     */
    public int flowCount() {
        long now = System.nanoTime(); // CLOCK_MONOTONIC on Linux, as bpf_ktime_get_ns
        Map<Integer, Integer> generations = new HashMap<>();
        int live = 0;
        for (byte[] key : flows.keys()) {
            byte[] value = flows.lookup(key).orElse(null);
            if (value == null) continue;
            int address = ByteBuffer.wrap(key, 4, 4).order(ByteOrder.BIG_ENDIAN).getInt();
            Integer gen = generations.computeIfAbsent(address, a -> dynos.lookup(be32(a))
                    .map(info -> le(info).getInt(DYNO_INFO_GEN)).orElse(null));
            ByteBuffer flow = le(value);
            if (gen == null || gen != flow.getInt(FLOW_VALUE_GEN)) continue;
            long idle = now - flow.getLong(FLOW_VALUE_LAST_SEEN);
            if (idle <= flowTimeout(FlowTimeout.of(key[0] & 0xff, value[FLOW_VALUE_STATE] & 0xff)).toNanos()) live++;
        }
        return live;
    }

    /** Entries in the conntrack map, stale ones included (tests). */
    int flowEntries() { return flows.keys().size(); }

    /** Sets the idle timeout of flows in {@code state} (all dynos, from their next packet on). */
    public void flowTimeout(FlowTimeout state, Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("flow timeout must be positive: " + timeout);
        flowTimeouts.update(le(4).putInt(state.ordinal()).array(), le(8).putLong(timeout.toNanos()).array(), BpfMap.BPF_ANY);
    }

    /** The idle timeout the guard applies to flows in {@code state}: as set, else the default. */
    public Duration flowTimeout(FlowTimeout state) {
        long ns = flowTimeouts.lookup(le(4).putInt(state.ordinal()).array()).map(v -> le(v).getLong()).orElse(0L);
        return ns == 0 ? state.defaultTimeout() : Duration.ofNanos(ns);
    }

    /**
     * The next dyno generation: after the largest of the seconds since the epoch at first use and every
     * generation in {@code dynos} (a plane reusing the maps of an earlier one), then one more per admit.
     * Unsigned 32 bits, as the guard compares them (equality only).
     */
    private synchronized int nextGeneration() {
        if (lastGeneration == 0) {
            int seed = (int) (System.currentTimeMillis() / 1000);
            for (byte[] address : dynos.keys()) {
                int gen = dynos.lookup(address).map(info -> le(info).getInt(DYNO_INFO_GEN)).orElse(0);
                if (Integer.compareUnsigned(gen, seed) > 0) seed = gen;
            }
            lastGeneration = seed;
        }
        if (++lastGeneration == 0) lastGeneration = 1; // 0 means "not seeded"
        return lastGeneration;
    }

    /** The kernel ids of this plane's {@code dyno_from} and {@code dyno_to}: what adopted veths must run. */
    int[] programIds() {
        return new int[] {BpfSyscall.progInfo(from.fd()).id(), BpfSyscall.progInfo(to.fd()).id()};
    }

    /** Runs {@code dyno_from} on one Ethernet frame (bpf_prog_test_run, skb ifindex 1) and returns its tc action. */
    int fromDyno(byte[] frame) { return testRun(true, frame, 1).retval(); }

    /** Runs {@code dyno_to} on one Ethernet frame (bpf_prog_test_run, skb ifindex 1) and returns its tc action. */
    int toDyno(byte[] frame) { return testRun(false, frame, 1).retval(); }

    /**
     * For benchmarks: runs {@code dyno_from} ({@code fromDyno}) or {@code dyno_to} on one frame {@code repeat}
     * times with bpf_prog_test_run (skb ifindex 1 in the calling thread's namespace); the duration is the
     * kernel's average ns per run.
     */
    public TestRun testRun(boolean fromDyno, byte[] frame, int repeat) {
        return Libbpf.testRun((fromDyno ? from : to).fd(), frame, repeat);
    }

    /**
     * Releases this process's file descriptors. Attached programs keep running, and pinned maps keep their
     * contents, without it.
     */
    @Override
    public void close() { object.close(); }

    /**
     * For a plane that stops for good, with no dyno left: unpins the maps and links, so the kernel frees them once
     * nothing else holds them. Closes this object.
     */
    public void removePins() {
        object.close();
        if (pins == null) return;
        hooks.removeAll();
        for (String name : MAPS) BpfSyscall.objUnpin(pins.resolve(name).toString());
        try {
            Files.deleteIfExists(pins);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "removing BPF pin folder " + pins + ": " + e.getMessage());
        }
        try {
            Files.deleteIfExists(pins.getParent()); // /sys/fs/bpf/dynoplane, once no plane is pinned there
        } catch (DirectoryNotEmptyException otherPlanes) {
            // another plane's pins: theirs to remove
        } catch (IOException e) {
            LOG.log(Level.WARNING, "removing BPF pin folder " + pins.getParent() + ": " + e.getMessage());
        }
    }

    /** {@code cidr} if it is an IPv4 CIDR ("203.0.113.0/24"), else IllegalArgumentException naming it. */
    public static String requireCidr(String cidr) {
        cidrKey(cidr);
        return cidr;
    }

    static byte[] cidrKey(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("not a CIDR: '" + cidr + "'");
        int prefix = Integer.parseInt(cidr.substring(slash + 1));
        if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("prefix length out of range: '" + cidr + "'");
        int address = Subnet.parse(cidr.substring(0, slash));
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        return le(8).putInt(prefix).order(ByteOrder.BIG_ENDIAN).putInt(address & mask).array();
    }

    private static byte[] be32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(value).array();
    }

    private static ByteBuffer le(int size) { return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder()); }

    private static ByteBuffer le(byte[] bytes) { return ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()); }

}
