package io.dynoplane.provisioner;

import io.dynoplane.bpf.BpfObjects;
import io.dynoplane.ffm.BpfMap;
import io.dynoplane.ffm.BpfObject;
import io.dynoplane.ffm.BpfProgram;
import io.dynoplane.ffm.Libbpf;
import io.dynoplane.ffm.TcAttachPoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumMap;
import java.util.Map;

/**
 * The isolation program ({@code bpf/src/isolation.bpf.c}), loaded once per plane and attached to
 * the host side of every dyno's veth. Per-dyno policy is map entries; a new dyno never reloads
 * or touches a program that guards another dyno.
 */
public final class IsolationPlane implements AutoCloseable {
    private static final int TC_HANDLE = 1;
    private static final int TC_PRIORITY = 1;

    private final BpfObject object;
    private final BpfProgram guard;
    private final BpfMap dynoAddrs;
    private final BpfMap verdicts;

    private IsolationPlane(BpfObject object) {
        this.object = object;
        this.guard = object.program("dyno_egress_guard");
        this.dynoAddrs = object.map("dyno_addrs");
        this.verdicts = object.map("verdicts");
    }

    /** Loads the isolation object from the bpf jar into the kernel. */
    public static IsolationPlane load() {
        BpfObject object = Libbpf.openObject("isolation", BpfObjects.bytes("isolation"));
        try {
            object.load();
            return new IsolationPlane(object);
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
    }

    /** Puts the guard on tc ingress of a dyno's host-side veth: everything the dyno sends passes through it. */
    public void guard(int hostIfindex) {
        Libbpf.tcHookCreate(hostIfindex, TcAttachPoint.INGRESS);
        Libbpf.tcAttach(hostIfindex, TcAttachPoint.INGRESS, guard.fd(), TC_HANDLE, TC_PRIORITY);
    }

    /** Marks an address as a dyno's, so that no other dyno can reach it. */
    public void admit(Subnet subnet, int dynoId) {
        dynoAddrs.update(addressKey(subnet.dynoAddress()), le32(dynoId), BpfMap.BPF_ANY);
    }

    public void forget(Subnet subnet) {
        dynoAddrs.delete(addressKey(subnet.dynoAddress()));
    }

    /** Packets the guard on {@code hostIfindex} gave this verdict, read from the BPF map. */
    public long count(int hostIfindex, Verdict verdict) {
        ByteBuffer key = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(hostIfindex).putInt(verdict.ordinal());
        return verdicts.lookup(key.array())
                .map(v -> ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getLong())
                .orElse(0L);
    }

    public Map<Verdict, Long> counts(int hostIfindex) {
        Map<Verdict, Long> counts = new EnumMap<>(Verdict.class);
        for (Verdict v : Verdict.values()) counts.put(v, count(hostIfindex, v));
        return counts;
    }

    /** Drops a gone interface's counters (ifindexes are reused by the kernel). */
    public void forgetCounters(int hostIfindex) {
        for (Verdict v : Verdict.values()) {
            verdicts.delete(ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(hostIfindex).putInt(v.ordinal()).array());
        }
    }

    /** Runs the guard on one Ethernet frame (bpf_prog_test_run) and returns its tc action: for fixture tests. */
    int verdictOf(byte[] frame) {
        return Libbpf.testRun(guard.fd(), frame, 1).retval();
    }

    /**
     * Releases the plane's file descriptors. Attached filters keep the program and maps alive in
     * the kernel until their veths are deleted.
     */
    @Override
    public void close() { object.close(); }

    private static byte[] addressKey(int address) {
        return ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(address).array(); // __be32
    }

    private static byte[] le32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
    }
}
