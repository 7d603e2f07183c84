package io.dynoplane.provisioner;

import io.dynoplane.ffm.BpfMap;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumMap;
import java.util.Map;

/**
 * The guard's {@code verdicts} map read from Java: packets per (dyno id, reason), per CPU in the kernel, summed
 * here. Works on the loaded guard's map or on a pinned one whose plane is not running.
 */
public final class VerdictCounters {
    private final BpfMap verdicts;

    public VerdictCounters(BpfMap verdicts) { this.verdicts = verdicts; }

    /** Packets the guard gave this reason, for dyno {@code dynoId}, summed over CPUs. */
    public long count(int dynoId, Verdict reason) {
        return verdicts.lookupPerCpu(key(dynoId, reason))
                .map(perCpu -> perCpu.stream().mapToLong(v -> ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getLong()).sum())
                .orElse(0L);
    }

    public Map<Verdict, Long> counts(int dynoId) {
        Map<Verdict, Long> counts = new EnumMap<>(Verdict.class);
        for (Verdict v : Verdict.values()) counts.put(v, count(dynoId, v));
        return counts;
    }

    /** Drops a dyno's counters (ids follow /30s, which are reused). */
    public void forget(int dynoId) {
        for (Verdict v : Verdict.values()) verdicts.delete(key(dynoId, v));
    }

    private static byte[] key(int dynoId, Verdict reason) {
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(dynoId).putInt(reason.ordinal()).array();
    }
}
