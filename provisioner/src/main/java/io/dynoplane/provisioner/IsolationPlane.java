package io.dynoplane.provisioner;

import io.dynoplane.bpf.BpfObjects;
import io.dynoplane.ffm.BpfMap;
import io.dynoplane.ffm.BpfObject;
import io.dynoplane.ffm.BpfProgram;
import io.dynoplane.ffm.Libbpf;
import io.dynoplane.ffm.TcAttachPoint;
import io.dynoplane.ffm.TestRun;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The isolation guard ({@code bpf/src/guard.bpf.c}): one object loaded once per plane, two
 * programs on the host side of every dyno's veth ({@code dyno_from} on tc ingress: what the dyno
 * sends; {@code dyno_to} on tc egress: what is sent to it), legacy tc clsact filters that persist
 * without this process. Per-dyno policy is map entries; a new dyno never reloads or touches a
 * program that guards another dyno.
 */
public final class IsolationPlane implements AutoCloseable {
    private static final int TC_HANDLE = 1;
    private static final int TC_PRIORITY = 1;
    private static final int DYNO_F_INTERNAL = 1;
    static final int TC_ACT_UNSPEC = -1, TC_ACT_SHOT = 2;

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
    private final BpfProgram from;
    private final BpfProgram to;
    private final BpfMap dynos;
    private final BpfMap dynoByIfindex;
    private final BpfMap flows;
    private final BpfMap egressCidrs;
    private final BpfMap verdicts;

    private IsolationPlane(BpfObject object) {
        this.object = object;
        this.from = object.program("dyno_from");
        this.to = object.program("dyno_to");
        this.dynos = object.map("dynos");
        this.dynoByIfindex = object.map("dyno_by_ifindex");
        this.flows = object.map("flows");
        this.egressCidrs = object.map("egress_cidrs");
        this.verdicts = object.map("verdicts");
    }

    /** Loads the guard object from the bpf jar into the kernel. */
    public static IsolationPlane load() {
        BpfObject object = Libbpf.openObject("guard", BpfObjects.bytes("guard"));
        try {
            object.load();
            return new IsolationPlane(object);
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
    }

    /** Registers the dyno, then puts both programs on its host veth: the guard never sees its interface unknown. */
    public void guard(DynoPolicy policy) {
        admit(policy);
        attach(policy.hostIfindex());
    }

    /** Both programs on the host veth's clsact: {@code dyno_from} on ingress, {@code dyno_to} on egress. */
    public void attach(int hostIfindex) {
        Libbpf.tcHookCreate(hostIfindex, TcAttachPoint.INGRESS); // creates clsact (both hooks); false if there
        Libbpf.tcAttach(hostIfindex, TcAttachPoint.INGRESS, from.fd(), TC_HANDLE, TC_PRIORITY);
        Libbpf.tcAttach(hostIfindex, TcAttachPoint.EGRESS, to.fd(), TC_HANDLE, TC_PRIORITY);
    }

    /** The dyno's map entries: {@code dynos} by address, {@code dyno_by_ifindex} by its host veth. */
    public void admit(DynoPolicy p) {
        ByteBuffer info = le(24)
                .putInt(p.id()).putInt(p.spaceId()).putShort((short) p.port())
                .put((byte) (p.internal() ? DYNO_F_INTERNAL : 0)).put((byte) 0)
                .put(p.mac()).put((byte) 0).put((byte) 0)
                .order(ByteOrder.BIG_ENDIAN).putInt(p.subnet().hostAddress());
        byte[] address = be32(p.subnet().dynoAddress());
        dynos.update(address, info.array(), BpfMap.BPF_ANY);
        dynoByIfindex.update(le(4).putInt(p.hostIfindex()).array(), address, BpfMap.BPF_ANY);
    }

    /** Removes the dyno from the guard: its entries, its counters and its tracked flows. */
    public void forget(DynoPolicy p) {
        forgetIfindex(p.hostIfindex());
        forget(p.subnet());
    }

    /** Unregisters a host veth (ifindexes are reused by the kernel): its filters drop everything after this. */
    public void forgetIfindex(int hostIfindex) {
        dynoByIfindex.delete(le(4).putInt(hostIfindex).array());
    }

    /** As {@link #forget(DynoPolicy)} when only the /30 is known (reconcile): the ifindex entry goes with its veth's filters. */
    public void forget(Subnet subnet) {
        byte[] address = be32(subnet.dynoAddress());
        dynos.delete(address);
        forgetCounters(subnet.dynoId());
        for (byte[] key : flows.keys()) {
            if (Arrays.equals(key, 4, 8, address, 0, 4)) flows.delete(key);
        }
    }

    /** Lets dynos reach {@code cidr} ("203.0.113.0/24"), outside the dyno range. */
    public void allowEgress(String cidr) {
        egressCidrs.update(cidrKey(cidr), new byte[] {1}, BpfMap.BPF_ANY);
    }

    /** Takes {@code cidr} back out of the egress list (flows already tracked still get their replies until they expire). */
    public boolean denyEgress(String cidr) {
        return egressCidrs.delete(cidrKey(cidr));
    }

    /** Packets the guard gave this reason, for dyno {@code dynoId}, summed over CPUs. */
    public long count(int dynoId, Verdict reason) {
        return verdicts.lookupPerCpu(verdictKey(dynoId, reason))
                .map(perCpu -> perCpu.stream().mapToLong(v -> le(v).getLong()).sum())
                .orElse(0L);
    }

    public Map<Verdict, Long> counts(int dynoId) {
        Map<Verdict, Long> counts = new EnumMap<>(Verdict.class);
        for (Verdict v : Verdict.values()) counts.put(v, count(dynoId, v));
        return counts;
    }

    /** Drops a dyno's counters (ids follow /30s, which are reused). */
    public void forgetCounters(int dynoId) {
        for (Verdict v : Verdict.values()) verdicts.delete(verdictKey(dynoId, v));
    }

    /** Tracked flows (connections, datagram exchanges, echoes) in the conntrack map. */
    public int flowCount() { return flows.keys().size(); }

    /** Runs {@code dyno_from} on one Ethernet frame (bpf_prog_test_run, skb ifindex 1) and returns its tc action. */
    int fromDyno(byte[] frame) { return Libbpf.testRun(from.fd(), frame, 1).retval(); }

    /** Runs {@code dyno_to} on one Ethernet frame (bpf_prog_test_run, skb ifindex 1) and returns its tc action. */
    int toDyno(byte[] frame) { return Libbpf.testRun(to.fd(), frame, 1).retval(); }

    /**
     * For benchmarks: runs {@code dyno_from} ({@code fromDyno}) or {@code dyno_to} on one frame {@code repeat}
     * times with bpf_prog_test_run (skb ifindex 1 in the calling thread's namespace); the duration is the
     * kernel's average ns per run.
     */
    public TestRun testRun(boolean fromDyno, byte[] frame, int repeat) {
        return Libbpf.testRun((fromDyno ? from : to).fd(), frame, repeat);
    }

    /**
     * Releases the plane's file descriptors. Attached filters keep the programs and maps alive in
     * the kernel until their veths are deleted.
     */
    @Override
    public void close() { object.close(); }

    static byte[] cidrKey(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("not a CIDR: '" + cidr + "'");
        int prefix = Integer.parseInt(cidr.substring(slash + 1));
        if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("prefix length out of range: '" + cidr + "'");
        int address = Subnet.parse(cidr.substring(0, slash));
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        return le(8).putInt(prefix).order(ByteOrder.BIG_ENDIAN).putInt(address & mask).array();
    }

    private static byte[] verdictKey(int dynoId, Verdict reason) {
        return le(8).putInt(dynoId).putInt(reason.ordinal()).array();
    }

    private static byte[] be32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(value).array();
    }

    private static ByteBuffer le(int size) { return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder()); }

    private static ByteBuffer le(byte[] bytes) { return ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()); }

}
